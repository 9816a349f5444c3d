//! The end-of-validity process, on both engines: dated steps, once each, in order; expiry
//! with a credit note that balances the books.

mod common;

use common::*;
use passnum_core::Timestamp;
use passnum_core::ledger::AccountKey;
use passnum_store::{LedgerScope, Outcome, both_engines};
use time::macros::datetime;

fn at(t: time::OffsetDateTime) -> Timestamp {
    Timestamp::from_offset_datetime(t)
}

both_engines! {
    async fn closing_steps_alert_stop_then_expire_with_a_credit_note(db) {
        let s = &db.store;
        // Valid until 31/12/2026 with 30 days of tolerance; 2 booklets of 10 × 10 €.
        let w = world(s, 2).await;
        for i in 0..3 {
            assert!(matches!(s.redeem(redeem_req(&w.lyon, w.codes[i], t0())).await.unwrap().outcome, Outcome::Accepted(_)));
        }
        assert_eq!(s.run_closing_steps(at(datetime!(2026-11-30 12:00 UTC))).await.unwrap(), vec![]);
        let alert = s.run_closing_steps(at(datetime!(2026-12-01 12:00 UTC))).await.unwrap();
        assert_eq!(alert.len(), 1);
        assert_eq!(alert[0].step, "alert_j30");
        assert!(alert[0].summary.contains("2 carnets émis, 0 remis, 1 entamés, 1 intacts ; 3 chèques utilisés"), "{}", alert[0].summary);
        // Running the job again the same day does nothing.
        assert_eq!(s.run_closing_steps(at(datetime!(2026-12-01 13:00 UTC))).await.unwrap(), vec![]);
        let stop = s.run_closing_steps(at(datetime!(2026-12-16 12:00 UTC))).await.unwrap();
        assert_eq!(stop.iter().map(|d| d.step).collect::<Vec<_>>(), vec!["stop_j15"]);
        // Cheques are still accepted during the tolerance.
        assert!(matches!(s.redeem(redeem_req(&w.lyon, w.codes[3], at(datetime!(2027-01-20 12:00 UTC)))).await.unwrap().outcome, Outcome::Accepted(_)));
        assert_eq!(s.run_closing_steps(at(datetime!(2027-01-30 12:00 UTC))).await.unwrap(), vec![]);
        let held_before = s.balances(LedgerScope::Funder(w.funder.id)).await.unwrap()[0].balance_cents;
        assert_eq!(held_before, 20_000 - 4_000);
        let expiry = s.run_closing_steps(at(datetime!(2027-01-31 12:00 UTC))).await.unwrap();
        assert_eq!(expiry.iter().map(|d| d.step).collect::<Vec<_>>(), vec!["expiry"]);
        assert!(expiry[0].summary.contains("16 chèques non utilisés ont expiré"), "{}", expiry[0].summary);
        let note = s.credit_note(w.order.id).await.unwrap().unwrap();
        assert_eq!((note.expired_cheques, note.amount_cents), (16, 16_000));
        let counts = s.order_counts(w.order.id).await.unwrap();
        assert_eq!((counts.issued, counts.redeemed, counts.expired), (0, 4, 16));
        // The funder's held money is returned; what venues are owed stays.
        let balances = s.balances(LedgerScope::All).await.unwrap();
        let bal = |k: AccountKey| balances.iter().find(|b| b.account == k).map_or(0, |b| b.balance_cents);
        assert_eq!(bal(AccountKey::FunderHeld(w.funder.id)), 0);
        assert_eq!(bal(AccountKey::VenuePayable(w.lyon.id)), 4_000);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert!(s.verify_ledger().await.unwrap().is_empty());
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // A closed order takes no more steps, and an expired cheque is refused.
        assert_eq!(s.run_closing_steps(at(datetime!(2027-03-01 12:00 UTC))).await.unwrap(), vec![]);
        assert_eq!(s.closing_steps(w.order.id).await.unwrap().len(), 3);
        match s.redeem(redeem_req(&w.lyon, w.codes[10], at(datetime!(2027-01-31 12:00 UTC)))).await.unwrap().outcome {
            Outcome::Refused(r) => assert_eq!(r.code, "cheque_expired"),
            o => panic!("{o:?}"),
        }
    }
}

both_engines! {
    async fn a_late_job_catches_up_and_parallel_runners_do_each_step_once(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let late = at(datetime!(2027-02-15 12:00 UTC));
        let mut tasks = vec![];
        for _ in 0..4 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.run_closing_steps(late).await.unwrap() }));
        }
        let mut steps = vec![];
        for t in tasks {
            steps.extend(t.await.unwrap().into_iter().map(|d| d.step));
        }
        steps.sort();
        assert_eq!(steps, vec!["alert_j30", "expiry", "stop_j15"]);
        assert_eq!(s.credit_note(w.order.id).await.unwrap().unwrap().amount_cents, 10_000);
        assert!(s.trial_balance().await.unwrap().is_balanced());
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
    }
}
