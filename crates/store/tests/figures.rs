//! The programme's figures on both engines: the funnel from booklets bought to cheques paid,
//! per funder and for everything, and the same steps month by month (Paris months, edges
//! included once).

mod common;

use common::*;
use passnum_core::Timestamp;
use passnum_store::{FigureScope, Funnel, MonthFigures, Outcome, both_engines};

both_engines! {
    async fn the_funnel_counts_each_step_and_a_funder_sees_only_its_orders(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(ccas, 2)], t0()).await.unwrap();
        let h = handout();
        s.hand_out(ccas, None, w.order.id, 1, &lyon, &h, t0()).await.unwrap();
        // Booklet 1 books a workshop next week.
        let plan = passnum_core::workshop::WorkshopPlan {
            format: passnum_core::workshop::WorkshopFormat::Collective,
            title: "Courriels".into(),
            services: vec!["2.1.07".into()],
            level: passnum_core::workshop::Level::Beginner,
            time: time::macros::time!(14:00),
            dates: vec![time::macros::date!(2026 - 06 - 22)],
            duration_min: 60,
            place: passnum_core::workshop::Place::AtVenue,
            capacity: 4,
            mediator: String::new(),
            accessibility: String::new(),
        };
        let ws = s.create_workshops(w.lyon.id, &plan, t0()).await.unwrap().remove(0);
        let code = s.booking_code(w.order.id, 1).await.unwrap();
        let key = passnum_store::BookletKey { order_id: w.order.id, number: 1, code: Some(code) };
        s.book(ws.id, &key, passnum_store::BookedBy::Person, None, t0()).await.unwrap();
        // Booklet 1 (handed out): two cheques used, one then cancelled; booklet 3 (the funder's
        // stock, never handed out): one cheque used. A month later, one more of booklet 1.
        let june = t0().plus_ms(3_600_000);
        let july = t0().plus_ms(30 * 86_400_000);
        let mut ids = vec![];
        for (i, at) in [(0, june), (1, june), (20, june), (2, july)] {
            match s.redeem(redeem_req(&w.lyon, w.codes[i], at)).await.unwrap().outcome {
                Outcome::Accepted(r) => ids.push(r.id),
                other => panic!("{other:?}"),
            }
        }
        s.rollback(passnum_store::RollbackRequest { venue_id: w.lyon.id, redemption_id: ids[1], now: june, idempotency: None }).await.unwrap();
        let expected = Funnel {
            bought: 3,
            allocated: 2,
            handed_out: 1,
            booked: 1,
            first_used: 2,
            cheques_used: 3,
            used_cents: 3 * 1000,
            cheques_paid: 0,
            paid_cents: 0,
        };
        assert_eq!(s.funnel(FigureScope::Funder(w.funder.id)).await.unwrap(), expected);
        assert_eq!(s.funnel(FigureScope::All).await.unwrap(), expected);
        // Per structure: the CCAS holds booklets 1 and 2, hands out 1, whose cheques are used;
        // booklet 3 (stock, used) belongs to no structure.
        let per = s.funnel_by_structure(FigureScope::Funder(w.funder.id)).await.unwrap();
        assert_eq!(per, vec![passnum_store::StructureFunnel { distributor_id: ccas.0, name: "CCAS de Lyon".into(), allocated: 2, handed_out: 1, booked: 1, first_used: 1 }]);
        // Another funder with an order of its own: each sees its own, the operator the sum.
        let other = s.create_funder("Département", "departement", t0()).await.unwrap();
        let o = s.create_order(other.id, &passnum_core::order::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert_eq!(o.booklet_count, 2);
        assert_eq!(s.funnel(FigureScope::Funder(other.id)).await.unwrap().bought, 2);
        assert_eq!(s.funnel(FigureScope::Funder(w.funder.id)).await.unwrap(), expected);
        assert_eq!(s.funnel(FigureScope::All).await.unwrap().bought, 5);
        assert!(s.funnel_by_structure(FigureScope::Funder(other.id)).await.unwrap().is_empty());

        // Month by month: [t0 - 1 day, t0 + 20 days) and [t0 + 20 days, t0 + 40 days).
        let edges = [t0().plus_ms(-86_400_000), t0().plus_ms(20 * 86_400_000), t0().plus_ms(40 * 86_400_000)];
        let months = s.monthly_figures(FigureScope::Funder(w.funder.id), &edges).await.unwrap();
        assert_eq!(months, vec![
            MonthFigures { handed_out: 1, cheques_used: 2, used_cents: 2000 },
            MonthFigures { handed_out: 0, cheques_used: 1, used_cents: 1000 },
        ]);
        assert_eq!(s.monthly_figures(FigureScope::Funder(other.id), &edges).await.unwrap(), vec![MonthFigures::default(); 2]);
        // An edge belongs to the period it opens: a redemption exactly at an edge counts once.
        let at_edge = [june, july, july.plus_ms(1)];
        let split = s.monthly_figures(FigureScope::All, &at_edge).await.unwrap();
        assert_eq!((split[0].cheques_used, split[1].cheques_used), (2, 1));
        assert!(s.monthly_figures(FigureScope::All, &[Timestamp::from_unix_ms(0)]).await.unwrap().is_empty());
    }
}
