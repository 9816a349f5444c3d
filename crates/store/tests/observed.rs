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

/// Codes of an issued order's cheques, in order.
async fn codes_of(
    s: &passnum_store::Store,
    order: passnum_core::OrderId,
) -> Vec<passnum_core::ChequeCode> {
    s.list_cheques(order, 0, 500)
        .await
        .unwrap()
        .iter()
        .map(|c| passnum_core::ChequeCode::parse(&c.code).unwrap())
        .collect()
}

both_engines! {
    async fn a_perimeter_by_epci_or_region_is_kept_as_given_and_holds_at_redemption(db) {
        let s = &db.store;
        let w = world(s, 1).await;
        let lyon_metropole = passnum_core::territory::code_of("69266", Level::Epci).unwrap();
        let funder = s.create_funder("Métropole", "metropole", t0()).await.unwrap();
        let order = |epcis: &[&str], regions: &[&str]| {
            let mut r = order_request(1);
            r.perimeter_departements = vec![];
            r.perimeter_epcis = epcis.iter().map(|c| c.to_string()).collect();
            r.perimeter_regions = regions.iter().map(|c| c.to_string()).collect();
            NewOrder::parse(&r).unwrap()
        };
        let metropole = s.create_order(funder.id, &order(&[lyon_metropole], &[]), t0()).await.unwrap();
        let ile_de_france = s.create_order(funder.id, &order(&[], &["11"]), t0()).await.unwrap();
        // Stored as given (one row per entry, its level as kind), read back the same.
        let read = s.get_order(metropole.id).await.unwrap();
        assert_eq!((read.perimeter_epcis.clone(), read.perimeter_regions.clone()), (vec![lyon_metropole.to_string()], vec![]));
        assert_eq!(s.get_order(ile_de_france.id).await.unwrap().perimeter_regions, vec!["11".to_string()]);
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT kind, code FROM order_perimeter WHERE order_id = $1")
            .bind(metropole.id.0).fetch_all(s.pool()).await.unwrap();
        assert_eq!(rows, vec![("epci".to_string(), lyon_metropole.to_string())]);
        // Villeurbanne is in the Métropole, Paris is not; Paris is in Île-de-France.
        let m = codes_of(s, metropole.id).await;
        let i = codes_of(s, ile_de_france.id).await;
        let outcome = |r: passnum_store::Answer| match r.outcome {
            Outcome::Accepted(_) => "accepted".to_string(),
            Outcome::Refused(r) => r.code.clone(),
        };
        assert_eq!(outcome(s.redeem(redeem_req(&w.villeurbanne, m[0], t0())).await.unwrap()), "accepted");
        assert_eq!(outcome(s.redeem(redeem_req(&w.paris, m[1], t0())).await.unwrap()), "venue_outside_perimeter");
        assert_eq!(outcome(s.redeem(redeem_req(&w.paris, i[0], t0())).await.unwrap()), "accepted");
        assert_eq!(outcome(s.redeem(redeem_req(&w.lyon, i[1], t0())).await.unwrap()), "venue_outside_perimeter");
        // A hub of the Rhône follows the Métropole's order (every commune of the EPCI is in
        // the Rhône), not Île-de-France's.
        let hub = s.create_observer("Hub du Rhône", "hub", t0()).await.unwrap().id;
        s.set_observer_territory(hub, Level::Departement, "69", true, t0()).await.unwrap();
        assert_eq!(s.observer_scope(hub).await.unwrap().1, FigureScope::Orders(vec![w.order.id, metropole.id]));
    }
}
