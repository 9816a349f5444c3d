//! Sharing booklets among distributors, on both engines: random allocations and transfers
//! checked against an in-memory model after every step (no booklet lost or counted twice),
//! refusals that change nothing.

mod common;

use std::collections::BTreeMap;

use common::*;
use passnum_core::InseeCode;
use passnum_store::{DistributorId, StoreError, both_engines};
use rand::{Rng, SeedableRng};

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

both_engines! {
    async fn random_allocations_and_transfers_never_lose_or_double_a_booklet(db) {
        let s = &db.store;
        let w = world(s, 50).await;
        let mut ds = vec![];
        for (i, commune) in ["69123", "69266", "69259", "69381"].iter().enumerate() {
            ds.push(s.create_distributor(&format!("CCAS {i}"), "ccas", &InseeCode::parse_known(commune).unwrap(), t0()).await.unwrap().id);
        }
        let mut model: BTreeMap<DistributorId, i64> = BTreeMap::new();
        let mut stock = 50i64;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for step in 0..80 {
            if rng.random_bool(0.5) {
                let shares: Vec<(DistributorId, i64)> = ds.iter().map(|d| (*d, rng.random_range(0..6))).collect();
                let wanted: i64 = shares.iter().map(|x| x.1).sum();
                match s.allocate_booklets(w.order.id, &shares, "tests", t0()).await {
                    Ok(()) => {
                        assert!(wanted <= stock, "step {step}");
                        stock -= wanted;
                        for (d, n) in shares { *model.entry(d).or_default() += n; }
                    }
                    Err(e) => {
                        assert!(wanted > stock, "step {step}: refused although {wanted} ≤ {stock}");
                        assert_eq!(code(e), "stock_short");
                    }
                }
            } else {
                let from = ds[rng.random_range(0..ds.len())];
                let to = ds[rng.random_range(0..ds.len())];
                let n = rng.random_range(1..8);
                let have = model.get(&from).copied().unwrap_or(0);
                match s.transfer_booklets(w.order.id, from, to, n, "tests", t0()).await {
                    Ok(()) => {
                        assert!(from != to && n <= have, "step {step}");
                        *model.entry(from).or_default() -= n;
                        *model.entry(to).or_default() += n;
                    }
                    Err(e) => assert!(from == to || n > have, "step {step}: {e:?}"),
                }
            }
            let stored: BTreeMap<DistributorId, i64> = s.distribution_of(w.order.id).await.unwrap()
                .into_iter().map(|d| (d.distributor_id, d.in_stock)).collect();
            let expected: BTreeMap<DistributorId, i64> = model.iter().filter(|(_, n)| **n > 0).map(|(d, n)| (*d, *n)).collect();
            assert_eq!(stored, expected, "step {step}");
            assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), stock, "step {step}");
            assert_eq!(stored.values().sum::<i64>() + stock, 50, "step {step}: every booklet is somewhere, once");
            // A structure's stock as its counter reads it (through the holder runs) agrees
            // with the booklets' own holder, and the runs with every booklet.
            for d in &ds {
                assert_eq!(s.distributor_stock_count(*d).await.unwrap(), model.get(d).copied().unwrap_or(0), "step {step}");
            }
            // So do the figures' breakdown by structure (also through the runs), for the
            // funder and for the whole programme.
            for scope in [passnum_store::FigureScope::funder(w.funder.id), passnum_store::FigureScope::All] {
                let per: BTreeMap<DistributorId, i64> = s.funnel_by_structure(&scope).await.unwrap()
                    .into_iter().map(|l| (DistributorId(l.distributor_id), l.allocated)).collect();
                assert_eq!(per, expected, "step {step}");
            }
            assert_eq!(s.verify_cheque_history().await.unwrap(), vec![], "step {step}");
        }
    }
}

both_engines! {
    async fn allocations_are_refused_clearly_and_change_nothing(db) {
        let s = &db.store;
        let w = world(s, 10).await;
        let d = s.create_distributor("Médiathèque", "mediatheque", &InseeCode::parse_known("69123").unwrap(), t0()).await.unwrap().id;
        assert_eq!(code(s.allocate_booklets(w.order.id, &[(d, 11)], "tests", t0()).await.unwrap_err()), "stock_short");
        assert_eq!(code(s.allocate_booklets(w.order.id, &[(d, 2), (DistributorId(999), 1)], "tests", t0()).await.unwrap_err()), "distributor_unknown");
        assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), 10, "all or nothing");
        assert!(matches!(
            s.create_distributor("X", "banque", &InseeCode::parse_known("69123").unwrap(), t0()).await,
            Err(StoreError::Invalid { code: "invalid_distributor_kind", .. })
        ));
        // A draft order has no booklets to share.
        let draft = s.create_draft_order(w.funder.id, &passnum_core::NewOrder::parse(&order_request(1)).unwrap(), t0()).await.unwrap();
        assert_eq!(code(s.allocate_booklets(draft.id, &[(d, 1)], "tests", t0()).await.unwrap_err()), "order_state");
        // After J-15, distribution stops.
        s.allocate_booklets(w.order.id, &[(d, 4)], "tests", t0()).await.unwrap();
        assert_eq!(code(s.transfer_booklets(w.order.id, d, DistributorId(999), 1, "tests", t0()).await.unwrap_err()), "distributor_unknown");
        s.run_closing_steps(passnum_core::Timestamp::from_offset_datetime(time::macros::datetime!(2026-12-20 10:00 UTC))).await.unwrap();
        assert_eq!(code(s.allocate_booklets(w.order.id, &[(d, 1)], "tests", t0()).await.unwrap_err()), "distribution_stopped");
        assert_eq!(s.distribution_of(w.order.id).await.unwrap()[0].in_stock, 4);
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // A holder written behind passnum's back no longer agrees with its run (migration 35).
        let other = s.create_distributor("Médiathèque", "mediatheque", &InseeCode::parse_known("69123").unwrap(), t0()).await.unwrap().id;
        let swap = "UPDATE booklets SET distributor_id = $1 WHERE id = (SELECT MIN(id) FROM booklets WHERE distributor_id = $2)";
        sqlx::query(swap).bind(other.0).bind(d.0).execute(s.pool()).await.unwrap();
        let found: Vec<&str> = s.verify_cheque_history().await.unwrap().iter().map(|f| f.check).collect();
        assert_eq!(found, ["carnet dont le détenteur diffère de sa plage"]);
        sqlx::query(swap).bind(d.0).bind(other.0).execute(s.pool()).await.unwrap();
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        // A booklet held by a structure that does not exist: SQLite's foreign key refuses it;
        // PostgreSQL leaves that key to the allocation's own check (migration 30), and the
        // history check finds such a booklet.
        let planted = sqlx::query("UPDATE booklets SET distributor_id = 999 WHERE number = 10").execute(s.pool()).await;
        match s.engine() {
            passnum_store::Engine::Sqlite => assert!(planted.is_err(), "SQLite keeps the key"),
            passnum_store::Engine::Postgres => {
                planted.unwrap();
                // …and, written behind passnum's back, it lies outside every holder run.
                let found: Vec<&str> = s.verify_cheque_history().await.unwrap().iter().map(|f| f.check).collect();
                assert_eq!(found, ["carnet confié à une structure inconnue", "carnet confié hors des plages de détenteurs"]);
            }
        }
    }
}

both_engines! {
    async fn a_lost_booklet_is_blocked_at_once_and_its_value_returns_with_the_credit_note(db) {
        use passnum_core::RedeemRefusal;
        use passnum_store::Outcome;
        let s = &db.store;
        let w = world(s, 3).await;
        // Booklet 2's first cheque was used before the booklet was lost.
        let used = w.codes[10];
        assert!(matches!(s.redeem(redeem_req(&w.lyon, used, t0())).await.unwrap().outcome, Outcome::Accepted(_)));
        assert_eq!(s.block_booklet(w.order.id, 2, false, t0()).await.unwrap(), 9);
        assert_eq!(code(s.block_booklet(w.order.id, 2, true, t0()).await.unwrap_err()), "booklet_blocked");
        assert!(matches!(s.block_booklet(w.order.id, 99, true, t0()).await, Err(StoreError::NotFound)));
        match s.redeem(redeem_req(&w.lyon, w.codes[11], t0())).await.unwrap().outcome {
            Outcome::Refused(r) => assert_eq!(r.code, RedeemRefusal::Blocked.code()),
            other => panic!("{other:?}"),
        }
        // Other booklets are untouched.
        assert!(matches!(s.redeem(redeem_req(&w.lyon, w.codes[0], t0())).await.unwrap().outcome, Outcome::Accepted(_)));
        // After the tolerance, the 9 blocked and the 19 untouched cheques come back as one credit note.
        let after = passnum_core::Timestamp::from_offset_datetime(time::macros::datetime!(2027-03-01 10:00 UTC));
        s.run_closing_steps(after).await.unwrap();
        let note = s.credit_note(w.order.id).await.unwrap().unwrap();
        assert_eq!((note.expired_cheques, note.amount_cents), (28, 28_000));
        assert_eq!(s.verify_cheque_history().await.unwrap(), vec![]);
        assert!(s.trial_balance().await.unwrap().is_balanced());
    }
}

both_engines! {
    async fn blocked_booklets_are_neither_shared_nor_transferred(db) {
        let s = &db.store;
        let w = world(s, 5).await;
        let lyon = InseeCode::parse_known("69123").unwrap();
        let a = s.create_distributor("CCAS A", "ccas", &lyon, t0()).await.unwrap().id;
        let b = s.create_distributor("CCAS B", "ccas", &lyon, t0()).await.unwrap().id;
        // Booklet 1 is lost while still in the funder's stock: 4 booklets remain to share.
        s.block_booklet(w.order.id, 1, false, t0()).await.unwrap();
        assert_eq!(s.unallocated_booklets(w.order.id).await.unwrap(), 4);
        assert_eq!(code(s.allocate_booklets(w.order.id, &[(a, 5)], "tests", t0()).await.unwrap_err()), "stock_short");
        s.allocate_booklets(w.order.id, &[(a, 4)], "tests", t0()).await.unwrap();
        // Booklet 2, now at A, is stolen: A can transfer 3, not 4, and never booklet 2.
        s.block_booklet(w.order.id, 2, true, t0()).await.unwrap();
        assert_eq!(s.distribution_of(w.order.id).await.unwrap()[0].in_stock, 3);
        assert_eq!(code(s.transfer_booklets(w.order.id, a, b, 4, "tests", t0()).await.unwrap_err()), "stock_short");
        s.transfer_booklets(w.order.id, a, b, 3, "tests", t0()).await.unwrap();
        let at_b: Vec<i64> = s.distributor_stock(b, 10, 0).await.unwrap().iter().map(|x| x.number).collect();
        assert_eq!(at_b, [3, 4, 5]);
        assert_eq!(s.distributor_stock_count(a).await.unwrap(), 0);
    }
}
