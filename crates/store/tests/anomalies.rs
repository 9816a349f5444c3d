//! The operator's anomalies on both engines: each kind is flagged when it should be, and an
//! ordinary day of scans is not.

mod common;

use common::*;
use passnum_core::Timestamp;
use passnum_store::{AnomalyKind, Outcome, RollbackRequest, both_engines};

fn at(t: time::OffsetDateTime) -> Timestamp {
    Timestamp::from_offset_datetime(t)
}

both_engines! {
    async fn each_kind_of_anomaly_is_flagged_with_its_reason(db) {
        let s = &db.store;
        let w = world(s, 4).await;
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(ccas, 4)], "tests", t0()).await.unwrap();
        // Booklet 2 is handed out and used once in the afternoon: nothing to flag.
        s.hand_out(ccas, None, w.order.id, 2, &lyon, &handout(), t0()).await.unwrap();
        let afternoon = at(time::macros::datetime!(2026-06-16 12:00 UTC));
        let accept = |code, venue: &passnum_store::Venue, now| {
            let req = redeem_req(venue, code, now);
            async move {
                match s.redeem(req).await.unwrap().outcome {
                    Outcome::Accepted(r) => r,
                    o => panic!("{o:?}"),
                }
            }
        };
        accept(w.codes[10], &w.lyon, afternoon).await;
        assert!(s.anomalies(t0()).await.unwrap().is_empty(), "an ordinary scan is not flagged");
        // Booklet 1, never handed out: three cheques at Lyon on 16 June.
        for i in 0..3 {
            accept(w.codes[i], &w.lyon, afternoon.plus_ms(i as i64 * 60_000)).await;
        }
        // Booklet 3 (handed out): one cheque at 23:30 in Paris (21:30 UTC in June).
        s.hand_out(ccas, None, w.order.id, 3, &lyon, &handout(), t0()).await.unwrap();
        accept(w.codes[20], &w.lyon, at(time::macros::datetime!(2026-06-16 21:30 UTC))).await;
        // Booklet 4 (handed out) at Villeurbanne: five scans, all cancelled.
        s.hand_out(ccas, None, w.order.id, 4, &lyon, &handout(), t0()).await.unwrap();
        for i in 30..35 {
            let r = accept(w.codes[i], &w.villeurbanne, afternoon).await;
            s.rollback(RollbackRequest { venue_id: w.villeurbanne.id, redemption_id: r.id, now: afternoon, idempotency: None }).await.unwrap();
        }
        // Booklet 2 again, for a 14:00 workshop, scanned at 18:30 (Paris).
        let plan = one_workshop(passnum_core::workshop::WorkshopFormat::Collective, "Courriels", time::macros::date!(2026 - 06 - 16), time::macros::time!(14:00), 8);
        let ws = s.create_workshops(w.lyon.id, &plan, t0()).await.unwrap().remove(0);
        let mut req = redeem_req(&w.lyon, w.codes[11], at(time::macros::datetime!(2026-06-16 16:30 UTC)));
        req.workshop_id = Some(ws.id);
        assert!(matches!(s.redeem(req).await.unwrap().outcome, Outcome::Accepted(_)));
        let list = s.anomalies(t0()).await.unwrap();
        let kinds: Vec<AnomalyKind> = list.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, vec![AnomalyKind::NotHandedOut, AnomalyKind::SameDay, AnomalyKind::OutsideWorkshop, AnomalyKind::AtNight, AnomalyKind::Rollbacks], "{list:#?}");
        assert_eq!(list[0].booklet, Some((w.order.id.0, 1)));
        assert!(list[0].why.contains("3 chèques utilisés alors qu'aucune remise") && list[0].why.contains("confié à CCAS de Lyon"), "{}", list[0].why);
        assert_eq!((list[1].count, list[1].venue.as_ref().map(|v| v.0)), (3, Some(w.lyon.id.0)));
        assert!(list[1].why.contains("16/06/2026"), "{}", list[1].why);
        assert!(list[2].why.contains("« Courriels »"), "{}", list[2].why);
        assert!(list[3].why.contains("23 h 30") || list[3].why.contains("23:30"), "{}", list[3].why);
        assert_eq!(list[4].count, 5);
        assert!(list[4].why.contains("5 encaissements annulés sur 5 (100 %)"), "{}", list[4].why);
        // The window bounds the redemptions read: from 17 June, only the booklet never handed
        // out remains (it counts its cheques whenever they were used).
        let later = s.anomalies(at(time::macros::datetime!(2026-06-17 00:00 UTC))).await.unwrap();
        assert_eq!(later.iter().map(|a| a.kind).collect::<Vec<_>>(), vec![AnomalyKind::NotHandedOut]);
    }
}
