//! The order workflow on SQLite and PostgreSQL: steps in order, money only on payment, codes
//! only on issue, budgets held even under concurrent confirmations, signing keys.

mod common;

use common::*;
use passnum_core::order_options::{LogoKind, OrderOptionsRequest};
use passnum_core::signature::{KeyId, generate_key};
use passnum_core::{Money, NewOrder, OrderStatus};
use passnum_store::{LedgerScope, StoreError, both_engines};

fn with_split(booklets: i64) -> NewOrder {
    NewOrder::parse(&order_request(booklets))
        .unwrap()
        .with_options(&OrderOptionsRequest {
            target_publics: vec!["senior".into(), "young".into()],
            cover_text: "Bienvenue".into(),
            funding: vec![
                ("État".into(), 5000),
                ("FEDER".into(), 2100),
                ("Fonds propres".into(), 2900),
            ],
        })
        .unwrap()
}

fn conflict_code(e: StoreError) -> &'static str {
    match e {
        StoreError::Conflict { code, .. } | StoreError::Invalid { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

both_engines! {
    async fn an_order_moves_draft_confirmed_paid_issued_and_money_moves_only_on_payment(db) {
        let s = &db.store;
        let f = s.create_funder("Département de l'Ain", "departement", t0()).await.unwrap();
        let d = s.create_draft_order(f.id, &with_split(3), t0()).await.unwrap();
        assert_eq!(d.status, OrderStatus::Draft);
        assert_eq!(d.funding.len(), 3);
        assert_eq!(d.funding[1].source, "FEDER");
        assert_eq!(d.target_publics.len(), 2);
        assert_eq!(s.order_counts(d.id).await.unwrap().issued, 0, "no code in a draft");
        // Out of order: refused, nothing changes.
        assert_eq!(conflict_code(s.issue_order(d.id, t0()).await.unwrap_err()), "order_state");
        assert_eq!(conflict_code(s.record_order_payment(d.id, t0()).await.unwrap_err()), "order_state");
        let c = s.confirm_order(d.id, t0()).await.unwrap();
        assert_eq!((c.status, c.confirmed_at.is_some()), (OrderStatus::Confirmed, true));
        assert_eq!(conflict_code(s.confirm_order(d.id, t0()).await.unwrap_err()), "order_state");
        let held = s.balances(LedgerScope::Funder(f.id)).await.unwrap();
        assert_eq!(held[0].balance_cents, 0, "nothing held before the payment");
        s.record_order_payment(d.id, t0()).await.unwrap();
        let held = s.balances(LedgerScope::Funder(f.id)).await.unwrap();
        assert_eq!(held[0].balance_cents, 30_000);
        assert_eq!(conflict_code(s.cancel_order(d.id, t0()).await.unwrap_err()), "order_state");
        let i = s.issue_order(d.id, t0()).await.unwrap();
        assert_eq!(i.status, OrderStatus::Issued);
        assert_eq!(s.order_counts(d.id).await.unwrap().issued, 30);
        assert_eq!(s.booklet_cheques(d.id, 3).await.unwrap().len(), 10);
        assert_eq!(conflict_code(s.issue_order(d.id, t0()).await.unwrap_err()), "order_state");
        assert_eq!(s.order_counts(d.id).await.unwrap().issued, 30, "issuing twice draws no new code");
        assert!(s.trial_balance().await.unwrap().is_balanced());
        // A draft can be cancelled; its cancellation moves no money.
        let other = s.create_draft_order(f.id, &with_split(1), t0()).await.unwrap();
        assert_eq!(s.cancel_order(other.id, t0()).await.unwrap().status, OrderStatus::Cancelled);
        assert_eq!(conflict_code(s.confirm_order(other.id, t0()).await.unwrap_err()), "order_state");
        // Drafts, confirmed and cancelled orders hold no money and no cheque: the history
        // check agrees with the ledger at every step.
        let confirmed = s.create_draft_order(f.id, &with_split(1), t0()).await.unwrap();
        s.confirm_order(confirmed.id, t0()).await.unwrap();
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
    }
}

both_engines! {
    async fn a_declared_budget_holds_even_when_confirmations_race(db) {
        let s = &db.store;
        let f = s.create_funder("Commune", "commune", t0()).await.unwrap();
        // 1,000 € of budget; each draft is 300 € (3 booklets × 10 × 10 €).
        s.set_funder_budget(f.id, Some(Money::from_cents(100_000))).await.unwrap();
        let too_big = s.create_draft_order(f.id, &with_split(11), t0()).await.unwrap_err();
        assert_eq!(conflict_code(too_big), "over_budget");
        let mut drafts = vec![];
        for _ in 0..6 {
            drafts.push(s.create_draft_order(f.id, &with_split(3), t0()).await.unwrap().id);
        }
        let mut tasks = vec![];
        for id in drafts {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.confirm_order(id, t0()).await }));
        }
        let mut confirmed = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => confirmed += 1,
                Err(e) => assert_eq!(conflict_code(e), "over_budget"),
            }
        }
        assert_eq!(confirmed, 3, "3 × 300 € fit in 1,000 €, a fourth does not");
        let committed: i64 = s
            .list_orders(Some(f.id), 50, 0)
            .await
            .unwrap()
            .iter()
            .filter(|o| o.status == OrderStatus::Confirmed)
            .map(|o| o.total_cents)
            .sum();
        assert_eq!(committed, 90_000);
        // The budget cannot fall below what is committed; exactly that is fine.
        let below = s.set_funder_budget(f.id, Some(Money::from_cents(89_999))).await.unwrap_err();
        assert_eq!(conflict_code(below), "budget_below_committed");
        assert_eq!(s.get_funder(f.id).await.unwrap().budget_cents, Some(100_000), "unchanged");
        s.set_funder_budget(f.id, Some(Money::from_cents(90_000))).await.unwrap();
        // Without a declared budget, nothing is limited.
        s.set_funder_budget(f.id, None).await.unwrap();
        s.create_draft_order(f.id, &with_split(100), t0()).await.unwrap();
    }
}

both_engines! {
    async fn servers_starting_together_register_one_key_without_error(db) {
        // Two servers sharing a key file start at the same moment (it once failed on
        // PostgreSQL with a unique violation on public_key).
        let k = generate_key(&mut rand::rng());
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (s, public) = (db.store.clone(), k.verifying_key());
                tokio::spawn(async move { s.register_signing_key(&public, t0()).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), KeyId::of(&k.verifying_key()));
        }
        assert_eq!(db.store.signing_keys().await.unwrap().len(), 1);
    }
}

both_engines! {
    async fn logos_and_signing_keys_are_stored(db) {
        let s = &db.store;
        let f = s.create_funder("Ville", "commune", t0()).await.unwrap();
        let d = s.create_draft_order(f.id, &with_split(1), t0()).await.unwrap();
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"/>"#;
        s.set_order_logo(d.id, LogoKind::Svg, svg).await.unwrap();
        s.set_order_logo(d.id, LogoKind::Svg, svg).await.unwrap();
        assert_eq!(s.order_logo(d.id).await.unwrap(), Some((LogoKind::Svg, svg.to_vec())));
        assert!(s.get_order(d.id).await.unwrap().has_logo);
        s.cancel_order(d.id, t0()).await.unwrap();
        assert_eq!(conflict_code(s.set_order_logo(d.id, LogoKind::Svg, svg).await.unwrap_err()), "order_state");

        let k = generate_key(&mut rand::rng());
        let kid = s.register_signing_key(&k.verifying_key(), t0()).await.unwrap();
        assert_eq!(kid, KeyId::of(&k.verifying_key()));
        // Registering again (a second server start) is harmless.
        s.register_signing_key(&k.verifying_key(), t0()).await.unwrap();
        let keys = s.signing_keys().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].verifying_key(), Some(k.verifying_key()));
        s.end_signing_key(&kid, true, t0()).await.unwrap();
        assert!(s.signing_keys().await.unwrap()[0].revoked_at.is_some());
        assert!(matches!(
            s.end_signing_key(&KeyId::parse("ZZZZ").unwrap(), true, t0()).await,
            Err(StoreError::NotFound)
        ));
    }
}

both_engines! {
    async fn the_funder_side_fee_is_frozen_at_confirmation_and_posted_with_the_prepayment(db) {
        use passnum_core::payment::FeeRate;
        use passnum_core::ledger::AccountKey;
        let s = &db.store;
        let f = s.create_funder("CAF", "caf", t0()).await.unwrap();
        s.set_programme_fees(FeeRate::from_basis_points(400).unwrap(), FeeRate::from_basis_points(250).unwrap(), t0())
            .await
            .unwrap();
        let d = s.create_draft_order(f.id, &with_split(3), t0()).await.unwrap();
        assert_eq!(d.funder_fee_cents, 0, "no invoice yet");
        let c = s.confirm_order(d.id, t0()).await.unwrap();
        assert_eq!((c.funder_fee_bp, c.funder_fee_cents), (250, 750), "2.5 % of 300 €");
        // A later change of the programme's fee does not change this invoice.
        s.set_programme_fees(FeeRate::default(), FeeRate::from_basis_points(1000).unwrap(), t0())
            .await
            .unwrap();
        s.record_order_payment(d.id, t0()).await.unwrap();
        let balances = s.balances(LedgerScope::All).await.unwrap();
        let of = |k: AccountKey| balances.iter().find(|b| b.account == k).map_or(0, |b| b.balance_cents);
        assert_eq!(of(AccountKey::FunderHeld(f.id)), 30_000, "the face value is held for the funder");
        assert_eq!(of(AccountKey::Operator), 750, "the fee goes to the operator");
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        assert_eq!(s.programme_fees().await.unwrap().venue_fee_bp, 0);
    }
}
