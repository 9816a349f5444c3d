//! Model-based test: random sequences of redemptions, rollbacks and clock moves, run against
//! the store and against a small in-memory reference. After every step the stored ledger must
//! equal the reference ledger, balance to zero, and agree with its own transfers.

mod common;

use std::collections::HashMap;

use common::*;
use passnum_core::ledger::{AccountKey, Ledger, Posting};
use passnum_core::{ChequeCode, Money, NewOrder, RedemptionId, Timestamp, VenueStatus};
use passnum_store::{LedgerScope, Outcome, RollbackRequest, both_engines};
use rand::{Rng, SeedableRng};

const WINDOW_MS: i64 = 24 * 3_600_000;

both_engines! {
    async fn random_operations_keep_store_and_model_in_step(db) {
        let s = &db.store;
        let f1 = s.create_funder("Département", "departement", t0()).await.unwrap();
        let f2 = s.create_funder("CAF", "caf", t0()).await.unwrap();
        let mut req = order_request(1);
        req.perimeter_departements = vec![];
        let o1 = s.create_order(f1.id, &NewOrder::parse(&req).unwrap(), t0()).await.unwrap();
        req.face_value_cents = 500;
        let o2 = s.create_order(f2.id, &NewOrder::parse(&req).unwrap(), t0()).await.unwrap();
        let venues = [
            venue(s, SIRETS[0], "A", "69123", VenueStatus::Qualified).await,
            venue(s, SIRETS[1], "B", "75056", VenueStatus::Qualified).await,
            venue(s, SIRETS[2], "C", "69123", VenueStatus::Applied).await,
        ];
        // (code, funder, face value)
        let mut cheques = vec![];
        for (o, f, v) in [(&o1, f1.id, 1000), (&o2, f2.id, 500)] {
            for c in s.list_cheques(o.id, 0, 100).await.unwrap() {
                cheques.push((ChequeCode::parse(&c.code).unwrap(), f, v));
            }
        }
        let mut model = Ledger::default();
        model.post(&Posting::prepayment(f1.id, Money::from_cents(10_000))).unwrap();
        model.post(&Posting::prepayment(f2.id, Money::from_cents(5_000))).unwrap();
        let mut active: HashMap<usize, RedemptionId> = HashMap::new(); // cheque index → redemption
        // redemption → (cheque index, venue index, redeemed at, rolled back)
        let mut redemptions: HashMap<RedemptionId, (usize, usize, Timestamp, bool)> = HashMap::new();
        let mut now = t0();
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261123);
        for step in 0..150 {
            match rng.random_range(0..10) {
                0..=5 => {
                    let (ci, vi) = (rng.random_range(0..cheques.len()), rng.random_range(0..venues.len()));
                    let (code, funder, face) = cheques[ci];
                    let a = s.redeem(redeem_req(&venues[vi], code, now)).await.unwrap();
                    let expect_ok = !active.contains_key(&ci) && venues[vi].status == VenueStatus::Qualified;
                    match a.outcome {
                        Outcome::Accepted(r) => {
                            assert!(expect_ok, "step {step}: accepted unexpectedly");
                            model.post(&Posting::redemption(funder, venues[vi].id, Money::from_cents(face))).unwrap();
                            active.insert(ci, r.id);
                            redemptions.insert(r.id, (ci, vi, now, false));
                        }
                        Outcome::Refused(r) => assert!(!expect_ok, "step {step}: refused {r:?}"),
                    }
                }
                6..=8 => {
                    let known: Vec<_> = redemptions.keys().copied().collect();
                    let id = if known.is_empty() || rng.random_bool(0.1) { RedemptionId(1_000_000) } else { known[rng.random_range(0..known.len())] };
                    let vi = if rng.random_bool(0.8) { redemptions.get(&id).map_or(0, |r| r.1) } else { rng.random_range(0..venues.len()) };
                    let a = s.rollback(RollbackRequest { venue_id: venues[vi].id, redemption_id: id, now, idempotency: None }).await.unwrap();
                    let expect_ok = redemptions.get(&id).is_some_and(|r| r.1 == vi && !r.3 && now.unix_ms() - r.2.unix_ms() <= WINDOW_MS);
                    match a.outcome {
                        Outcome::Accepted(_) => {
                            assert!(expect_ok, "step {step}: rollback accepted unexpectedly");
                            let r = redemptions.get_mut(&id).unwrap();
                            r.3 = true;
                            let (_, funder, face) = cheques[r.0];
                            model.post(&Posting::redemption(funder, venues[vi].id, Money::from_cents(face)).reversal()).unwrap();
                            active.remove(&r.0);
                        }
                        Outcome::Refused(r) => assert!(!expect_ok, "step {step}: rollback refused {r:?}"),
                    }
                }
                _ => now = now.plus_ms(rng.random_range(0..30 * 3_600_000)),
            }
            let stored = s.balances(LedgerScope::All).await.unwrap();
            for b in &stored {
                assert_eq!(b.balance_cents, model.balance(b.account).cents(), "step {step}: {:?}", b.account);
            }
            for (k, m) in model.balances() {
                if k != AccountKey::World || m.cents() != 0 {
                    assert!(stored.iter().any(|b| b.account == k), "step {step}: {k:?} missing");
                }
            }
            assert!(s.trial_balance().await.unwrap().is_balanced(), "step {step}");
            assert!(s.verify_ledger().await.unwrap().is_empty(), "step {step}");
            assert_eq!(s.verify_cheque_history().await.unwrap(), vec![], "step {step}");
        }
        let redeemed = s.order_counts(o1.id).await.unwrap().redeemed + s.order_counts(o2.id).await.unwrap().redeemed;
        assert_eq!(redeemed as usize, active.len());
        assert!(!redemptions.is_empty());
    }
}
