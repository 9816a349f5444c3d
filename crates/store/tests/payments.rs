//! Paying venues, on both engines: bank details held until confirmed, runs that pay each
//! cheque exactly once, the ledger, and a SEPA file valid against the official schema.

mod common;

use common::*;
use passnum_core::ledger::AccountKey;
use passnum_core::payment::FeeRate;
use passnum_core::{BankDetails, Bic, ChequeState, Iban, Money, Refusal, Timestamp};
use passnum_store::{LedgerScope, Outcome, RollbackRequest, RunStatus, StoreError, both_engines};
use time::macros::date;

const DAY_MS: i64 = 24 * 3_600_000;

const IBAN: &str = "FR7630006000011234567890189";

fn iban() -> Iban {
    Iban::parse(IBAN).unwrap()
}

fn details(holder: &str) -> BankDetails {
    BankDetails::parse(IBAN, "AGRIFRPP", holder).unwrap()
}

fn bic() -> Bic {
    Bic::parse("AGRIFRPP").unwrap()
}

/// Redeems `n` cheques at `venue` on 15/06/2026.
/// Run items not cancelled in confirmed runs: the payouts, one per cheque paid.
async fn paid_items(s: &passnum_store::Store) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
         WHERE i.cancelled = 0 AND p.status = 'confirmed'",
    )
    .fetch_one(s.pool())
    .await
    .unwrap()
}

async fn redeem_n(
    s: &passnum_store::Store,
    w: &World,
    venue: &passnum_store::Venue,
    from: usize,
    n: usize,
) {
    for i in from..from + n {
        match s
            .redeem(redeem_req(venue, w.codes[i], t0()))
            .await
            .unwrap()
            .outcome
        {
            Outcome::Accepted(_) => {}
            Outcome::Refused(r) => panic!("{r:?}"),
        }
    }
}

fn later() -> Timestamp {
    t0().plus_ms(2 * DAY_MS)
}

both_engines! {
    async fn bank_details_hold_payments_until_confirmed(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        redeem_n(s, &w, &w.lyon, 0, 3).await;
        redeem_n(s, &w, &w.villeurbanne, 3, 2).await;
        let fee = FeeRate::default();
        let p = s.preview_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        assert!(p.venues.is_empty());
        assert_eq!(p.waiting.iter().map(|l| (l.cheques, l.reason)).collect::<Vec<_>>(), vec![(3, "no_bank_details"), (2, "no_bank_details")]);
        let acct = s.set_bank_account(w.lyon.id, &details("Ville de Lyon"), t0()).await.unwrap();
        let p = s.preview_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        assert_eq!(p.waiting[0].reason, "bank_details_unconfirmed");
        assert!(matches!(s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await, Err(StoreError::Conflict { code: "nothing_to_pay", .. })));
        s.confirm_bank_account(w.lyon.id, acct.id, t0()).await.unwrap();
        let p = s.preview_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        assert_eq!(p.venues.len(), 1);
        assert_eq!((p.venues[0].cheques, p.venues[0].net_cents), (3, 3000));
        assert_eq!(p.waiting.len(), 1);
        // A new IBAN holds the payments again, and the history keeps both.
        let new = s.set_bank_account(w.lyon.id, &BankDetails::parse("FR1420041010050500013M02606", "PSSTFRPPLIL", "Ville de Lyon").unwrap(), t0().plus_ms(1)).await.unwrap();
        assert_eq!(s.preview_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap().venues.len(), 0);
        let history = s.bank_accounts(w.lyon.id).await.unwrap();
        assert_eq!(history.len(), 2);
        assert!(history[1].superseded_at.is_some() && history[1].confirmed_at.is_some());
        assert!(history[0].confirmed_at.is_none());
        // Only the pending details can be confirmed.
        assert!(matches!(s.confirm_bank_account(w.lyon.id, acct.id, t0()).await, Err(StoreError::Conflict { .. })));
        s.confirm_bank_account(w.lyon.id, new.id, t0()).await.unwrap();
        // A BIC of another country than the IBAN is refused.
        // Details that do not hold together never reach the store.
        let bad = BankDetails::parse(IBAN, "COBADEFF", "X").map_err(|e| e[0].code());
        assert_eq!(bad, Err("bic_country_mismatch"));
    }
}

both_engines! {
    async fn a_run_pays_each_cheque_once_with_the_fee_in_the_ledger(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        for v in [&w.lyon, &w.villeurbanne] {
            confirmed_bank_details(s, v, &v.name).await;
        }
        redeem_n(s, &w, &w.lyon, 0, 3).await;
        redeem_n(s, &w, &w.villeurbanne, 3, 2).await;
        // Redeemed after the cutoff: waits for the next run.
        accepted_at(s, &w, 5, t0().plus_ms(DAY_MS)).await;
        let fee = FeeRate::from_basis_points(400).unwrap();
        assert!(matches!(s.create_payment_run(date!(2026 - 06 - 17), fee, later()).await, Err(StoreError::Invalid { code: "cutoff_not_past", .. })));
        // With fresh planner statistics, as autovacuum leaves them in production (the
        // PostgreSQL path then goes through a temporary table of candidates).
        s.analyze().await.unwrap();
        let run = s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        assert_eq!((run.status, run.cheques, run.gross_cents, run.fee_cents, run.net_cents), (RunStatus::Draft, 5, 5000, 200, 4800));
        assert_eq!(run.fee_cents, 5 * fee.fee_on(Money::from_cents(1000)).unwrap().cents(), "SQL and core agree on the fee");
        // While it is prepared, its cheques cannot be cancelled by the venue.
        let first = s.list_redemptions(passnum_store::RedemptionScope::Venue(w.lyon.id), 0, 10).await.unwrap();
        let rb = s.rollback(RollbackRequest { venue_id: w.lyon.id, redemption_id: first.last().unwrap().id, now: t0(), idempotency: None }).await.unwrap();
        assert!(matches!(rb.outcome, Outcome::Refused(ref r) if r.code == "redemption_already_paid"));
        // A second run now has nothing to take.
        assert!(matches!(s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await, Err(StoreError::Conflict { code: "nothing_to_pay", .. })));
        let lines = s.payment_run_lines(run.id).await.unwrap();
        assert_eq!(lines.iter().map(|l| (l.cheques, l.net_cents)).collect::<Vec<_>>(), vec![(3, 2880), (2, 1920)]);
        let blocks = s.statement_blocks(run.id, w.lyon.id, w.lyon.id).await.unwrap();
        assert_eq!(blocks.iter().map(|(v, b)| (*v, b.len())).collect::<Vec<_>>(), vec![(w.lyon.id, 3)]);
        assert_eq!((blocks[0].1[0].order_id, blocks[0].1[0].fee_cents), (w.order.id.0, 40));
        let confirmed = s.confirm_payment_run(run.id, later()).await.unwrap();
        assert_eq!(confirmed.status, RunStatus::Confirmed);
        assert!(matches!(s.confirm_payment_run(run.id, later()).await, Err(StoreError::Conflict { code: "run_already_confirmed", .. })));
        assert!(matches!(s.cancel_payment_run(run.id, later()).await, Err(StoreError::Conflict { code: "run_not_draft", .. })));
        let counts = s.order_counts(w.order.id).await.unwrap();
        assert_eq!((counts.paid, counts.redeemed), (5, 1));
        let balances = s.balances(LedgerScope::All).await.unwrap();
        let bal = |k: AccountKey| balances.iter().find(|b| b.account == k).map_or(0, |b| b.balance_cents);
        assert_eq!(bal(AccountKey::VenuePayable(w.lyon.id)), 0);
        assert_eq!(bal(AccountKey::VenuePayable(w.villeurbanne.id)), 1000, "the late cheque is still owed");
        assert_eq!(bal(AccountKey::Operator), 200);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert!(s.verify_ledger().await.unwrap().is_empty());
        assert_eq!(paid_items(s).await, 5);
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // The next run takes the late cheque, and only it.
        let next = s.create_payment_run(date!(2026 - 06 - 16), fee, later().plus_ms(DAY_MS)).await.unwrap();
        assert_eq!((next.cheques, next.gross_cents, next.fee_cents), (1, 1000, 40));
        // Each run's totals are written when it is prepared (migration 39), read back as they
        // were, and recounted from its items by the history check.
        let listed = s.list_payment_runs(10, 0).await.unwrap();
        assert_eq!(
            listed.iter().map(|r| (r.id, r.cheques, r.gross_cents, r.fee_cents, r.net_cents)).collect::<Vec<_>>(),
            vec![(next.id, 1, 1000, 40, 960), (run.id, 5, 5000, 200, 4800)]
        );
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        sqlx::query("UPDATE payment_runs SET fee_cents = fee_cents + 1 WHERE id = $1")
            .bind(run.id).execute(s.pool()).await.unwrap();
        let findings = s.verify_cheque_history().await.unwrap();
        assert_eq!(findings.iter().map(|f| (f.check, f.rows)).collect::<Vec<_>>(), vec![("virement dont les totaux ne correspondent pas à ses chèques", 1)]);
    }
}

async fn accepted_at(s: &passnum_store::Store, w: &World, i: usize, at: Timestamp) {
    assert!(matches!(
        s.redeem(redeem_req(&w.villeurbanne, w.codes[i], at))
            .await
            .unwrap()
            .outcome,
        Outcome::Accepted(_)
    ));
}

both_engines! {
    async fn a_cancelled_run_frees_its_cheques_and_parallel_runs_take_each_once(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let a = s.set_bank_account(w.lyon.id, &details("Lyon"), t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, a.id, t0()).await.unwrap();
        redeem_n(s, &w, &w.lyon, 0, 20).await;
        let fee = FeeRate::default();
        let run = s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        let cancelled = s.cancel_payment_run(run.id, later()).await.unwrap();
        assert_eq!(cancelled.status, RunStatus::Cancelled);
        assert_eq!((cancelled.cheques, cancelled.gross_cents), (20, 20_000), "a cancelled run still shows what it held");
        assert!(matches!(s.confirm_payment_run(run.id, later()).await, Err(StoreError::Conflict { code: "run_cancelled", .. })));
        // Eight runs started at once: one takes the 20 cheques, the others find nothing.
        let mut tasks = vec![];
        for _ in 0..8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await }));
        }
        let mut ok = vec![];
        for t in tasks {
            match t.await.unwrap() {
                Ok(r) => ok.push(r),
                Err(StoreError::Conflict { code, .. }) => assert!(code == "nothing_to_pay" || code == "run_in_progress", "{code}"),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].cheques, 20);
        // Confirming it twice at once pays once.
        let (x, y) = tokio::join!(s.confirm_payment_run(ok[0].id, later()), s.confirm_payment_run(ok[0].id, later()));
        assert!(x.is_ok() ^ y.is_ok());
        assert_eq!(paid_items(s).await, 20);
        assert!(s.verify_ledger().await.unwrap().is_empty());
        assert_eq!(s.balances(LedgerScope::Venue(w.lyon.id)).await.unwrap()[0].balance_cents, 0);
    }
}

both_engines! {
    async fn the_sepa_file_is_valid_against_the_official_schema(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        for v in [&w.lyon, &w.villeurbanne] {
            confirmed_bank_details(s, v, &format!("{} & Cie", v.name)).await;
        }
        redeem_n(s, &w, &w.lyon, 0, 2).await;
        redeem_n(s, &w, &w.villeurbanne, 2, 1).await;
        let run = s.create_payment_run(date!(2026 - 06 - 15), FeeRate::from_basis_points(400).unwrap(), later()).await.unwrap();
        let lines = s.payment_run_lines(run.id).await.unwrap();
        let transfers: Vec<_> = lines
            .iter()
            .map(|l| passnum_core::sepa::Transfer {
                end_to_end_id: format!("PASSNUM-{}-{}", run.id, l.venue_id),
                amount: Money::from_cents(l.net_cents),
                creditor_name: l.holder.clone(),
                creditor_iban: l.iban.clone(),
                creditor_bic: l.bic.clone(),
                remittance: format!("Pass Numérique, virement {} : {} chèques", run.id, l.cheques),
            })
            .collect();
        let debtor = passnum_core::sepa::Debtor { name: "Opérateur du Pass Numérique".into(), iban: iban(), bic: bic() };
        let xml = passnum_core::sepa::credit_transfer(&format!("PASSNUM-{}", run.id), "2026-06-17T09:00:00", "2026-06-18", &debtor, &transfers).unwrap();
        assert!(xml.contains("<CtrlSum>28.80</CtrlSum>"), "{xml}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("virement.xml");
        std::fs::write(&path, &xml).unwrap();
        let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/pain.001.001.03.xsd");
        let out = std::process::Command::new("xmllint").args(["--noout", "--schema", xsd]).arg(&path).output()
            .expect("xmllint (Debian libxml2-utils) is needed for this test");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // And a broken file is refused, so the check is real.
        std::fs::write(&path, xml.replace("<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>NONE</ChrgBr>")).unwrap();
        let out = std::process::Command::new("xmllint").args(["--noout", "--schema", xsd]).arg(&path).output().unwrap();
        assert!(!out.status.success());
    }
}

both_engines! {
    async fn a_cheque_paid_wrongly_is_recovered_from_the_next_run_never_by_changing_a_confirmed_one(db) {
        use passnum_store::RedemptionScope;
        let s = &db.store;
        let w = world(s, 2).await;
        let acct = s.set_bank_account(w.lyon.id, &details("Ville de Lyon"), t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, acct.id, t0()).await.unwrap();
        redeem_n(s, &w, &w.lyon, 0, 3).await;
        let run1 = s.create_payment_run(date!(2026 - 06 - 15), FeeRate::default(), later()).await.unwrap();
        s.confirm_payment_run(run1.id, later()).await.unwrap();
        let id_of = |code: passnum_core::ChequeCode| {
            let s = s.clone();
            async move {
                s.list_redemptions(RedemptionScope::Venue(w.lyon.id), 0, 100).await.unwrap()
                    .into_iter().find(|r| r.cheque_code == code.grouped()).unwrap().id.0
            }
        };
        // A redemption not yet paid cannot be corrected (the venue cancels it, or it is not owed yet).
        let day3 = t0().plus_ms(3 * DAY_MS);
        s.redeem(redeem_req(&w.lyon, w.codes[3], day3)).await.unwrap();
        let unpaid = id_of(w.codes[3]).await;
        let code = |e: StoreError| match e { StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code, other => panic!("{other:?}") };
        assert_eq!(code(s.create_correction(unpaid, "atelier non tenu", later()).await.unwrap_err()), "not_paid");
        let paid = id_of(w.codes[0]).await;
        assert_eq!(code(s.create_correction(paid, "x", later()).await.unwrap_err()), "invalid_reason");
        let c = s.create_correction(paid, "atelier non tenu (contrôle du 20/06)", later()).await.unwrap();
        assert_eq!((c.amount_cents, c.corrected_run_id, c.run_id), (1000, run1.id, None));
        assert_eq!(code(s.create_correction(paid, "deux fois", later()).await.unwrap_err()), "already_corrected");
        // The confirmed run is unchanged.
        assert_eq!(s.payment_run(run1.id).await.unwrap(), run1_after(&run1));

        // The next run recovers it: 3 cheques owed (30 €), 10 € recovered, 20 € transferred.
        redeem_n_at(s, &w, &w.lyon, 4, 2, day3).await;
        let day6 = t0().plus_ms(6 * DAY_MS);
        let run2 = s.create_payment_run(date!(2026 - 06 - 18), FeeRate::default(), day6).await.unwrap();
        assert_eq!((run2.cheques, run2.gross_cents, run2.corrections_cents, run2.net_cents), (3, 3000, 1000, 2000));
        let lines = s.payment_run_lines(run2.id).await.unwrap();
        assert_eq!((lines[0].corrections_cents, lines[0].net_cents), (1000, 2000));
        // Cancelling the run puts the correction back in the queue; the next one takes it again.
        s.cancel_payment_run(run2.id, day6).await.unwrap();
        assert_eq!(s.corrections(None).await.unwrap().len(), 1);
        let run2 = s.create_payment_run(date!(2026 - 06 - 18), FeeRate::default(), day6).await.unwrap();
        assert_eq!(run2.corrections_cents, 1000);
        s.confirm_payment_run(run2.id, day6).await.unwrap();
        let venue = s.balances(LedgerScope::Venue(w.lyon.id)).await.unwrap();
        assert_eq!(venue[0].balance_cents, 0, "nothing left owed to the venue");
        let all = s.balances(LedgerScope::All).await.unwrap();
        let world = all.iter().find(|b| b.account == AccountKey::World).unwrap().balance_cents;
        // The world put 200 € in (prepayment), got 30 € + 20 € (transfers) + 10 € (refund).
        assert_eq!(world, -20_000 + 3000 + 2000 + 1000);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        assert_eq!(s.corrections(Some(run2.id)).await.unwrap()[0].redemption_id, paid);

        // A correction larger than what the venue is owed in a run waits for a later one.
        let second = id_of(w.codes[1]).await;
        s.create_correction(second, "doublon", day6).await.unwrap();
        let day7 = t0().plus_ms(7 * DAY_MS);
        redeem_n_at(s, &w, &w.lyon, 6, 1, day6).await;
        let run3 = s.create_payment_run(date!(2026 - 06 - 21), FeeRate::default(), t0().plus_ms(9 * DAY_MS)).await.unwrap();
        assert_eq!((run3.net_cents, run3.corrections_cents), (1000, 0), "10 € owed cannot cover a 10 € recovery and a payment");
        assert_eq!(s.corrections(None).await.unwrap().len(), 1, "it waits");
        let _ = day7;
    }
}

both_engines! {
    async fn a_correction_takes_back_from_each_party_exactly_what_it_received(db) {
        use passnum_store::RedemptionScope;
        let s = &db.store;
        let w = world(s, 2).await;
        let acct = s.set_bank_account(w.lyon.id, &details("Ville de Lyon"), t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, acct.id, t0()).await.unwrap();
        let fee = FeeRate::from_basis_points(400).unwrap();
        // Run 1 at 4 %: three 10 € cheques, 28,80 € to the venue, 1,20 € to the operator.
        redeem_n(s, &w, &w.lyon, 0, 3).await;
        let run1 = s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        assert_eq!((run1.fee_cents, run1.net_cents), (120, 2880));
        s.confirm_payment_run(run1.id, later()).await.unwrap();
        let paid = s.list_redemptions(RedemptionScope::Venue(w.lyon.id), 0, 100).await.unwrap()
            .into_iter().find(|r| r.cheque_code == w.codes[0].grouped()).unwrap().id.0;
        let c = s.create_correction(paid, "atelier non tenu", later()).await.unwrap();
        assert_eq!((c.amount_cents, c.fee_cents, c.recovered_cents()), (1000, 40, 960));
        let balance = |key: AccountKey| async move {
            s.balances(LedgerScope::All).await.unwrap().into_iter()
                .find(|b| b.account == key).map_or(0, |b| b.balance_cents)
        };
        let operator_before = balance(AccountKey::Operator).await;
        let world_before = balance(AccountKey::World).await;
        assert_eq!(operator_before, 120);

        // Run 2 at 4 %: three more cheques (30 €, fee 1,20 €); the venue gives back the 9,60 €
        // it received for the wrong cheque, not 10 €; the operator gives back its 0,40 €.
        let day3 = t0().plus_ms(3 * DAY_MS);
        redeem_n_at(s, &w, &w.lyon, 3, 3, day3).await;
        let day6 = t0().plus_ms(6 * DAY_MS);
        let run2 = s.create_payment_run(date!(2026 - 06 - 18), fee, day6).await.unwrap();
        assert_eq!((run2.gross_cents, run2.fee_cents, run2.corrections_cents, run2.net_cents), (3000, 120, 960, 1920));
        let lines = s.payment_run_lines(run2.id).await.unwrap();
        assert_eq!((lines[0].corrections_cents, lines[0].net_cents), (960, 1920));
        s.confirm_payment_run(run2.id, day6).await.unwrap();
        assert_eq!(balance(AccountKey::VenuePayable(w.lyon.id)).await, 0, "nothing left owed to the venue");
        // The operator keeps the fees of the five good cheques only: 5 × 0,40 €.
        assert_eq!(balance(AccountKey::Operator).await, 200);
        // Out of the books this run: 19,20 € to the venue, and the funder's whole 10 € refund
        // (9,60 € from the venue's side, 0,40 € from the operator's).
        assert_eq!(balance(AccountKey::World).await - world_before, 1920 + 1000);
        assert_eq!(
            s.run_refunds(run2.id).await.unwrap(),
            vec![passnum_store::FunderRefund { funder_id: w.funder.id, cheques: 1, amount: Money::from_cents(1000) }],
            "the funder's whole 10 €, paid by run 2's SEPA file"
        );
        assert_eq!(s.run_refunds(run1.id).await.unwrap(), vec![]);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert_eq!(s.verify_ledger().await.unwrap(), vec![]);
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![], "each correction's two parts add up to the cheque");
        // A correction whose recorded fee no longer matches its two transfers is found.
        sqlx::query("UPDATE payment_corrections SET fee_cents = 0").execute(s.pool()).await.unwrap();
        let found = s.verify_cheque_history().await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].check.starts_with("correction d'un virement confirmé"), "{found:?}");
    }
}

both_engines! {
    async fn a_funder_refund_account_replaces_the_last_and_keeps_the_history(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        assert!(s.funder_accounts(w.funder.id).await.unwrap().is_empty());
        let first = s.set_funder_account(w.funder.id, &details("DRFIP Rhône"), t0()).await.unwrap();
        let second = s.set_funder_account(w.funder.id, &details("Paierie départementale"), later()).await.unwrap();
        let all = s.funder_accounts(w.funder.id).await.unwrap();
        assert_eq!(all.iter().map(|a| (a.id, a.superseded_at)).collect::<Vec<_>>(), vec![(second.id, None), (first.id, Some(later()))]);
        let current = s.current_funder_accounts().await.unwrap();
        assert_eq!(current.len(), 1);
        assert_eq!(current[&w.funder.id].holder, "Paierie départementale");
        let unknown = s.set_funder_account(passnum_core::FunderId(999_999), &details("X"), later()).await;
        assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    }
}

fn run1_after(r: &passnum_store::PaymentRun) -> passnum_store::PaymentRun {
    passnum_store::PaymentRun {
        status: RunStatus::Confirmed,
        confirmed_at: Some(later()),
        ..r.clone()
    }
}

async fn redeem_n_at(
    s: &passnum_store::Store,
    w: &World,
    venue: &passnum_store::Venue,
    from: usize,
    n: usize,
    at: Timestamp,
) {
    for i in from..from + n {
        match s
            .redeem(redeem_req(venue, w.codes[i], at))
            .await
            .unwrap()
            .outcome
        {
            Outcome::Accepted(_) => {}
            Outcome::Refused(r) => panic!("{r:?}"),
        }
    }
}

both_engines! {
    async fn a_cheque_reads_paid_from_its_confirmed_run_and_is_never_rewritten(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let a = s.set_bank_account(w.lyon.id, &details("Lyon"), t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, a.id, t0()).await.unwrap();
        redeem_n(s, &w, &w.lyon, 0, 2).await;
        let state = |i: usize| {
            let code = w.codes[i];
            async move { s.cheque_status(&code, None).await.unwrap().state }
        };
        let listed = || async {
            s.list_cheques(w.order.id, 0, 3).await.unwrap().iter().map(|c| c.state).collect::<Vec<_>>()
        };
        let fee = FeeRate::default();
        // In a draft, and after its cancellation, the cheques are redeemed, not paid.
        let draft = s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        assert_eq!(state(0).await, ChequeState::Redeemed);
        s.cancel_payment_run(draft.id, later()).await.unwrap();
        assert_eq!(state(0).await, ChequeState::Redeemed);
        let run = s.create_payment_run(date!(2026 - 06 - 15), fee, later()).await.unwrap();
        s.confirm_payment_run(run.id, later()).await.unwrap();
        assert_eq!((state(0).await, state(1).await, state(2).await), (ChequeState::Paid, ChequeState::Paid, ChequeState::Issued));
        assert_eq!(listed().await, [ChequeState::Paid, ChequeState::Paid, ChequeState::Issued]);
        let counts = s.order_counts(w.order.id).await.unwrap();
        assert_eq!((counts.paid, counts.redeemed, counts.issued), (2, 0, 8));
        // Confirmation wrote no cheque: the stored state stays "redeemed".
        let stored: Vec<String> = sqlx::query_scalar("SELECT state FROM cheques WHERE order_id = $1 ORDER BY id LIMIT 2")
            .bind(w.order.id.0).fetch_all(s.pool()).await.unwrap();
        assert_eq!(stored, ["redeemed", "redeemed"]);
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // "Paid" written on a cheque is a finding of the history check.
        sqlx::query("UPDATE cheques SET state = 'paid' WHERE order_id = $1 AND state = 'redeemed'")
            .bind(w.order.id.0).execute(s.pool()).await.unwrap();
        let findings = s.verify_cheque_history().await.unwrap();
        assert!(findings.iter().any(|f| f.check.starts_with("état « payé » écrit") && f.rows == 2), "{findings:?}");
    }
}

both_engines! {
    async fn a_redemption_rolled_back_after_its_run_was_prepared_is_never_paid(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let a = s.set_bank_account(w.lyon.id, &details("Lyon"), t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, a.id, t0()).await.unwrap();
        redeem_n(s, &w, &w.lyon, 0, 3).await;
        let run = s.create_payment_run(date!(2026 - 06 - 15), FeeRate::default(), later()).await.unwrap();
        // A rollback that read before the run committed, and committed after it, at the edge
        // of the rollback window: its write, as it lands.
        sqlx::query("UPDATE redemptions SET rolled_back_at = $1 WHERE id = (SELECT MIN(id) FROM redemptions)")
            .bind(later().unix_ms()).execute(s.pool()).await.unwrap();
        let refused = s.confirm_payment_run(run.id, later()).await;
        assert!(matches!(refused, Err(StoreError::Conflict { code: "run_has_rolled_back_cheques", .. })), "{refused:?}");
        // Nothing of the run was posted or paid; it is still a draft to cancel.
        assert_eq!(s.payment_run(run.id).await.unwrap().status, RunStatus::Draft);
        assert_eq!(paid_items(s).await, 0);
        assert_eq!(s.balances(LedgerScope::Venue(w.lyon.id)).await.unwrap()[0].balance_cents, 3000);
        s.cancel_payment_run(run.id, later()).await.unwrap();
    }
}

both_engines! {
    async fn run_items_stay_tied_to_their_run_and_their_cheque(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let a = s.set_bank_account(w.lyon.id, &details("Lyon"), t0()).await.unwrap();
        s.confirm_bank_account(w.lyon.id, a.id, t0()).await.unwrap();
        redeem_n(s, &w, &w.lyon, 0, 2).await;
        let run = s.create_payment_run(date!(2026 - 06 - 15), FeeRate::default(), later()).await.unwrap();
        // Redeemed after the run was prepared: not in it.
        redeem_n(s, &w, &w.lyon, 2, 1).await;
        let ids: Vec<(i64, i64)> = sqlx::query_as("SELECT id, cheque_id FROM redemptions ORDER BY id")
            .fetch_all(s.pool()).await.unwrap();
        let unused: i64 = sqlx::query_scalar("SELECT MAX(id) FROM cheques").fetch_one(s.pool()).await.unwrap();
        let insert = |run: i64, redemption: i64, cheque: i64| async move {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents) \
                 VALUES ({run}, {redemption}, {cheque}, {}, {}, 1000, 0)", w.lyon.id.0, a.id
            ))).execute(s.pool()).await
        };
        let refused = |r: Result<_, sqlx::Error>| r.unwrap_err().as_database_error().unwrap().is_foreign_key_violation();
        let (redemption, cheque) = ids[2];
        // A run that does not exist, a cheque that does not exist.
        assert!(refused(insert(run.id + 1, redemption, cheque).await));
        assert!(refused(insert(run.id, redemption, unused + 1).await));
        if s.engine() == passnum_store::Engine::Postgres {
            // PostgreSQL checks the pair, once per statement: an item names a redemption of its
            // own cheque, and its keys never change. (SQLite checks each key; the history
            // check finds a mismatched pair.)
            assert!(refused(insert(run.id, redemption, unused).await));
            let moved = sqlx::query("UPDATE payment_run_items SET cheque_id = $1 WHERE run_id = $2")
                .bind(unused).bind(run.id).execute(s.pool()).await;
            assert!(refused(moved));
        }
        // The item as passnum writes it passes the same checks.
        insert(run.id, redemption, cheque).await.unwrap();
        // A run that has items is never deleted.
        let deleted = sqlx::query("DELETE FROM payment_runs WHERE id = $1").bind(run.id).execute(s.pool()).await;
        assert!(refused(deleted));
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_run_items WHERE run_id = $1")
            .bind(run.id).fetch_one(s.pool()).await.unwrap();
        assert_eq!(items, 3);
        // Written behind passnum's back, the item is not in the run's totals (written when it
        // was prepared): the history check finds the difference.
        assert_eq!(s.payment_run(run.id).await.unwrap().cheques, 2);
        let findings = s.verify_cheque_history().await.unwrap();
        assert!(findings.iter().any(|f| f.check.starts_with("virement dont les totaux") && f.rows == 1), "{findings:?}");
    }
}

/// Bank details for `venue` in `holder`'s name, entered and confirmed on 15/06/2026.
async fn confirmed_bank_details(
    s: &passnum_store::Store,
    venue: &passnum_store::Venue,
    holder: &str,
) {
    let a = s
        .set_bank_account(venue.id, &details(holder), t0())
        .await
        .unwrap();
    s.confirm_bank_account(venue.id, a.id, t0()).await.unwrap();
}

/// A venue's payment mark (migration 37), read as stored.
async fn mark(s: &passnum_store::Store, venue: &passnum_store::Venue) -> Option<i64> {
    sqlx::query_scalar("SELECT below_id FROM venue_payment_marks WHERE venue_id = $1")
        .bind(venue.id.0)
        .fetch_optional(s.pool())
        .await
        .unwrap()
}

async fn accepted_id(
    s: &passnum_store::Store,
    venue: &passnum_store::Venue,
    code: passnum_core::ChequeCode,
    at: Timestamp,
) -> i64 {
    match s.redeem(redeem_req(venue, code, at)).await.unwrap().outcome {
        Outcome::Accepted(r) => r.id.0,
        Outcome::Refused(r) => panic!("{r:?}"),
    }
}

both_engines! {
    async fn each_venue_s_payment_mark_moves_over_settled_old_redemptions_only(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        for v in [&w.lyon, &w.villeurbanne] {
            confirmed_bank_details(s, v, "Lieu").await;
        }
        let fee = FeeRate::default();
        // 15 June: three cheques at Lyon, one at Villeurbanne.
        let mut old = vec![];
        for i in 0..3 {
            old.push(accepted_id(s, &w.lyon, w.codes[i], t0()).await);
        }
        let at_villeurbanne = accepted_id(s, &w.villeurbanne, w.codes[20], t0()).await;
        // On PostgreSQL, a redemption still being written when the run is confirmed: its id
        // is taken, its row not yet committed (another connection's open transaction).
        let recent = later().plus_ms(-3_600_000);
        let mut writing = None;
        if s.engine() == passnum_store::Engine::Postgres {
            let mut tx = s.pool().begin().await.unwrap();
            let cheque: (i64, i64) = sqlx::query_as("SELECT id, booklet_id FROM cheques WHERE code = $1")
                .bind(w.codes[15].as_compact()).fetch_one(&mut *tx).await.unwrap();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO redemptions (cheque_id, venue_id, service_code, amount_cents, redeemed_at, booklet_id) \
                 VALUES ($1, $2, '2.1.07', 1000, $3, $4) RETURNING id")
                .bind(cheque.0).bind(w.lyon.id.0).bind(recent.unix_ms()).bind(cheque.1)
                .fetch_one(&mut *tx).await.unwrap();
            writing = Some((tx, id));
        }
        // 17 June, an hour ago: one cheque redeemed and rolled back, one redeemed (inside the
        // rollback window: not yet payable).
        let undone = accepted_id(s, &w.lyon, w.codes[8], recent).await;
        s.rollback(RollbackRequest { venue_id: w.lyon.id, redemption_id: passnum_core::RedemptionId(undone), now: recent, idempotency: None })
            .await.unwrap();
        let waiting = accepted_id(s, &w.lyon, w.codes[4], recent).await;
        let run = s.create_payment_run(date!(2026 - 06 - 16), fee, later()).await.unwrap();
        assert_eq!(run.cheques, 4);
        s.confirm_payment_run(run.id, later()).await.unwrap();
        assert_eq!(mark(s, &w.lyon).await, None, "the daily job moves the marks, not the confirmation");
        assert_eq!(s.move_payment_marks(later()).await.unwrap(), 2);
        // Lyon's mark is just above its last paid cheque: the rolled-back redemption is
        // settled but recent, so the mark stops below it, and below the redemption being
        // written, whose id lies between the two.
        assert_eq!(mark(s, &w.lyon).await, Some(old[2] + 1));
        if let Some((tx, id)) = writing {
            assert!(id > old[2] && id < undone, "{id}");
            tx.rollback().await.unwrap();
        }
        assert_eq!(mark(s, &w.villeurbanne).await, Some(at_villeurbanne + 1));
        assert_eq!(mark(s, &w.paris).await, None, "a venue no run paid has no mark");
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);

        // Three days on: the next run pays the waiting cheque, and the mark passes the rolled
        // back redemption, old enough now. Between them and a cheque the run also pays (dated
        // 15 June, written after), one made an hour ago waits: the mark stops below it.
        let later2 = later().plus_ms(3 * DAY_MS);
        let fresh = accepted_id(s, &w.lyon, w.codes[6], later2.plus_ms(-3_600_000)).await;
        let dated = accepted_id(s, &w.lyon, w.codes[7], t0()).await;
        assert!(waiting < fresh && fresh < dated);
        let run = s.create_payment_run(date!(2026 - 06 - 19), fee, later2).await.unwrap();
        assert_eq!(run.cheques, 2);
        s.confirm_payment_run(run.id, later2).await.unwrap();
        assert_eq!(s.move_payment_marks(later2).await.unwrap(), 1);
        assert_eq!(mark(s, &w.lyon).await, Some(waiting + 1));
        assert_eq!(paid_items(s).await, 6);
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // Two days later the waiting one is paid in turn, and the mark passes everything.
        let later3 = later2.plus_ms(2 * DAY_MS);
        let run = s.create_payment_run(date!(2026 - 06 - 21), fee, later3).await.unwrap();
        assert_eq!(run.cheques, 1);
        s.confirm_payment_run(run.id, later3).await.unwrap();
        assert_eq!(s.move_payment_marks(later3).await.unwrap(), 1);
        assert_eq!(mark(s, &w.lyon).await, Some(dated + 1));
        assert_eq!(s.move_payment_marks(later3).await.unwrap(), 0, "nothing left to pass");
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);

        // A mark moved over a cheque nobody paid would hide it from every run: the history
        // check finds it.
        accepted_id(s, &w.lyon, w.codes[5], later3).await;
        sqlx::query("UPDATE venue_payment_marks SET below_id = below_id + 1000 WHERE venue_id = $1")
            .bind(w.lyon.id.0).execute(s.pool()).await.unwrap();
        let findings = s.verify_cheque_history().await.unwrap();
        assert!(findings.iter().any(|f| f.check.starts_with("encaissement actif sous la marque") && f.rows == 1), "{findings:?}");
    }
}

both_engines! {
    /// Random redemptions, rollbacks, clock moves, runs (confirmed or cancelled) and moves of
    /// the payment marks: every run takes exactly the redemptions a plain model says are owed,
    /// whenever the marks moved. A mark that passed a cheque still owed would hide it from every
    /// later run; one that let a paid cheque back in would pay it twice.
    async fn each_run_takes_exactly_what_is_owed_whenever_the_marks_move(db) {
        use rand::{Rng, SeedableRng};
        use std::collections::{BTreeSet, HashMap};
        let s = &db.store;
        let w = world(s, 3).await;
        for v in [&w.lyon, &w.villeurbanne] {
            confirmed_bank_details(s, v, "Lieu").await;
        }
        // Paris has no bank details: what it redeems waits.
        let venues = [&w.lyon, &w.villeurbanne, &w.paris];
        // redemption id → (venue index, redeemed at, rolled back, paid)
        let mut model: HashMap<i64, (usize, Timestamp, bool, bool)> = HashMap::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261205);
        let (mut now, mut runs, mut moves) = (t0(), 0, 0);
        for step in 0..160 {
            match rng.random_range(0..14) {
                0..=5 => {
                    let (code, vi) = (w.codes[rng.random_range(0..w.codes.len())], rng.random_range(0..3));
                    if let Outcome::Accepted(r) = s.redeem(redeem_req(venues[vi], code, now)).await.unwrap().outcome {
                        model.insert(r.id.0, (vi, now, false, false));
                    }
                }
                6..=7 => {
                    let known: Vec<i64> = model.keys().copied().collect();
                    if let Some(&id) = known.get(rng.random_range(0..known.len().max(1))) {
                        let vi = model[&id].0;
                        let req = RollbackRequest { venue_id: venues[vi].id, redemption_id: passnum_core::RedemptionId(id), now, idempotency: None };
                        if let Outcome::Accepted(_) = s.rollback(req).await.unwrap().outcome {
                            let r = model.get_mut(&id).unwrap();
                            assert!(!r.3, "step {step}: a paid redemption was rolled back");
                            r.2 = true;
                        }
                    }
                }
                8..=9 => {
                    s.move_payment_marks(now).await.unwrap();
                    moves += 1;
                }
                10..=11 => {
                    let cutoff = passnum_core::paris::local_date(now) - time::Duration::days(rng.random_range(1..4));
                    let end = passnum_core::paris::from_local(cutoff + time::Duration::days(1), time::Time::MIDNIGHT);
                    let owed: BTreeSet<i64> = model.iter()
                        .filter(|(_, r)| r.0 != 2 && !r.2 && !r.3 && r.1 < end && r.1.unix_ms() <= now.unix_ms() - DAY_MS)
                        .map(|(id, _)| *id)
                        .collect();
                    match s.create_payment_run(cutoff, FeeRate::default(), now).await {
                        Ok(run) => {
                            let taken: BTreeSet<i64> = sqlx::query_scalar("SELECT redemption_id FROM payment_run_items WHERE run_id = $1")
                                .bind(run.id).fetch_all(s.pool()).await.unwrap().into_iter().collect();
                            assert_eq!(taken, owed, "step {step}");
                            if rng.random_bool(0.7) {
                                s.confirm_payment_run(run.id, now).await.unwrap();
                                for id in &taken {
                                    model.get_mut(id).unwrap().3 = true;
                                }
                                runs += 1;
                            } else {
                                s.cancel_payment_run(run.id, now).await.unwrap();
                            }
                        }
                        Err(StoreError::Conflict { code: "nothing_to_pay", .. }) => assert!(owed.is_empty(), "step {step}: {owed:?} owed"),
                        Err(e) => panic!("step {step}: {e:?}"),
                    }
                }
                _ => now = now.plus_ms(rng.random_range(0..30 * 3_600_000)),
            }
            assert_eq!(s.verify_cheque_history().await.unwrap(), vec![], "step {step}");
        }
        // The walk did what it is for: runs paid cheques, and the marks moved over them.
        assert!(runs >= 3 && moves >= 5, "{runs} runs, {moves} moves");
        let marked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM venue_payment_marks").fetch_one(s.pool()).await.unwrap();
        assert!(marked >= 1);
        assert!(model.values().any(|r| r.3) && model.values().any(|r| r.2));
    }
}
