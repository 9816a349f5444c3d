//! What an observer reads (the orders of its funders and of its territories) and what the
//! open-data export counts (paid amounts per venue, booklets bought, levels), on both engines.

mod common;

use common::*;
use passnum_core::NewOrder;
use passnum_core::territory::Level;
use passnum_store::{FigureScope, MonthSpan, Outcome, StoreError, both_engines};

const DAY_MS: i64 = 86_400_000;

both_engines! {
    async fn an_observer_reads_the_orders_whose_whole_perimeter_lies_in_its_territories(db) {
        let s = &db.store;
        let w = world(s, 1).await; // perimeter: the Rhône
        let order = |communes: &[&str], deps: &[&str]| {
            let mut r = order_request(1);
            r.perimeter_communes = communes.iter().map(|c| c.to_string()).collect();
            r.perimeter_departements = deps.iter().map(|c| c.to_string()).collect();
            NewOrder::parse(&r).unwrap()
        };
        let paris = s.create_funder("Ville de Paris", "commune", t0()).await.unwrap();
        let paris_order = s.create_order(paris.id, &order(&["75056"], &[]), t0()).await.unwrap();
        let region = s.create_funder("Région", "region", t0()).await.unwrap();
        let ain_rhone = s.create_order(region.id, &order(&[], &["01", "69"]), t0()).await.unwrap();
        let villeurbanne = s.create_order(region.id, &order(&["69266"], &[]), t0()).await.unwrap();
        let hub = s.create_observer("Hub du Rhône", "hub", t0()).await.unwrap().id;
        assert_eq!(s.observer_scope(hub).await.unwrap().1, FigureScope::Orders(vec![]));

        s.set_observer_territory(hub, Level::Departement, "69", true, t0()).await.unwrap();
        // The Rhône's orders; not the one that also covers the Ain.
        assert_eq!(s.observer_scope(hub).await.unwrap().1, FigureScope::Orders(vec![w.order.id, villeurbanne.id]));
        let lyon_metropole = passnum_core::territory::code_of("69266", Level::Epci).unwrap();
        let o = s.set_observer_territory(hub, Level::Epci, lyon_metropole, true, t0()).await.unwrap();
        assert_eq!(o.territories, vec![(Level::Departement, "69".to_string()), (Level::Epci, lyon_metropole.to_string())]);
        s.set_observer_territory(hub, Level::Departement, "69", false, t0()).await.unwrap();
        // A département's order never lies inside an EPCI; a commune's does.
        assert_eq!(s.observer_scope(hub).await.unwrap().1, FigureScope::Orders(vec![villeurbanne.id]));
        s.set_observer_territory(hub, Level::Region, "84", true, t0()).await.unwrap();
        s.set_observer_grant(hub, paris.id, true, t0()).await.unwrap();
        assert_eq!(
            s.observer_scope(hub).await.unwrap().1,
            FigureScope::Orders(vec![w.order.id, paris_order.id, ain_rhone.id, villeurbanne.id])
        );
        match s.set_observer_territory(hub, Level::Departement, "999", true, t0()).await {
            Err(StoreError::Invalid { code: "unknown_territory", message }) => assert!(message.contains("999"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.list_observers().await.unwrap()[0].territories.len(), 2);
    }
}

both_engines! {
    async fn the_open_data_counts_hold_paid_amounts_bought_booklets_and_levels(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        for i in [0, 1, 2] {
            assert!(matches!(s.redeem(redeem_req(&w.villeurbanne, w.codes[i], t0())).await.unwrap().outcome, Outcome::Accepted(_)));
        }
        let details = passnum_core::BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Villeurbanne").unwrap();
        let acct = s.set_bank_account(w.villeurbanne.id, &details, t0()).await.unwrap();
        s.confirm_bank_account(w.villeurbanne.id, acct.id, t0()).await.unwrap();
        let fee = passnum_core::payment::FeeRate::default();
        // Paid in July: the July column, not June's.
        let july = t0().plus_ms(20 * DAY_MS);
        let run = s.create_payment_run(time::macros::date!(2026 - 06 - 30), fee, july).await.unwrap();
        s.confirm_payment_run(run.id, july).await.unwrap();
        let span = |key, from: (i32, u8), to: (i32, u8)| {
            let edge = |(y, m): (i32, u8)| passnum_core::paris::from_local(
                time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), 1).unwrap(), time::Time::MIDNIGHT);
            MonthSpan { key, from: edge(from), to: edge(to) }
        };
        let months = [span(202606, (2026, 6), (2026, 7)), span(202607, (2026, 7), (2026, 8))];
        let c = s.open_data_counts(&months, july).await.unwrap();
        assert_eq!(c.bought, vec![2, 0], "the order was paid on 15 June");
        assert_eq!(c.paid.len(), 1, "{:?}", c.paid);
        assert_eq!((c.paid[0].commune.as_str(), c.paid[0].month, c.paid[0].venue_id, c.paid[0].cents), ("69266", 1, w.villeurbanne.id.0, 3000));
        // Service 2.1.07 is of level 2 of the référentiel.
        assert_eq!(c.used.iter().map(|u| (u.month, u.level, u.cheques)).collect::<Vec<_>>(), vec![(0, 2, 3)]);
        assert_eq!(c.levels.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
