//! The programme's figures on both engines: the funnel from booklets bought to cheques paid,
//! per funder and for everything, and the same steps month by month (Paris months, edges
//! included once).

mod common;

use common::*;
use passnum_store::{FigureScope, Funnel, MonthFigures, MonthSpan, Outcome, both_engines};

const DAY_MS: i64 = 86_400_000;

both_engines! {
    async fn the_funnel_counts_each_step_and_a_funder_sees_only_its_orders(db) {
        let s = &db.store;
        let w = world(s, 3).await;
        let lyon = passnum_core::InseeCode::parse_known("69123").unwrap();
        let ccas = s.create_distributor("CCAS de Lyon", "ccas", &lyon, t0()).await.unwrap().id;
        s.allocate_booklets(w.order.id, &[(ccas, 2)], "tests", t0()).await.unwrap();
        let h = handout();
        s.hand_out(ccas, None, w.order.id, 1, &lyon, &h, t0()).await.unwrap();
        // Booklet 1 books a workshop next week.
        let plan = one_workshop(passnum_core::workshop::WorkshopFormat::Collective, "Courriels", time::macros::date!(2026 - 06 - 22), time::macros::time!(14:00), 4);
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
            via_territories: 0,
            allocated: 2,
            handed_out: 1,
            booked: 1,
            first_used: 2,
            cheques_used: 3,
            used_cents: 3 * 1000,
            cheques_paid: 0,
            paid_cents: 0,
        };
        assert_eq!(s.funnel(&FigureScope::funder(w.funder.id)).await.unwrap(), expected);
        assert_eq!(s.funnel(&FigureScope::All).await.unwrap(), expected);
        // Per structure: the CCAS holds booklets 1 and 2, hands out 1, whose cheques are used;
        // booklet 3 (stock, used) belongs to no structure.
        let per = s.funnel_by_structure(&FigureScope::funder(w.funder.id)).await.unwrap();
        assert_eq!(per, vec![passnum_store::StructureFunnel { distributor_id: ccas.0, name: "CCAS de Lyon".into(), allocated: 2, handed_out: 1, booked: 1, first_used: 1, cheques_used: 2 }]);
        // Another funder with an order of its own: each sees its own, the operator the sum.
        let other = s.create_funder("Département", "departement", t0()).await.unwrap();
        // Before its order, it has nothing at all (its figures are read by order id).
        assert!(!s.figures_have_orders(&FigureScope::funder(other.id)).await.unwrap());
        assert_eq!(s.funnel(&FigureScope::funder(other.id)).await.unwrap(), passnum_store::Funnel::default());
        assert_eq!(
            s.funnel(&FigureScope::Funders(vec![w.funder.id, other.id])).await.unwrap(),
            expected,
            "two funders, one without an order: the first one's figures"
        );
        let o = s.create_order(other.id, &passnum_core::order::NewOrder::parse(&order_request(2)).unwrap(), t0()).await.unwrap();
        assert_eq!(o.booklet_count, 2);
        assert_eq!(s.funnel(&FigureScope::funder(other.id)).await.unwrap().bought, 2);
        assert_eq!(s.funnel(&FigureScope::funder(w.funder.id)).await.unwrap(), expected);
        assert_eq!(s.funnel(&FigureScope::All).await.unwrap().bought, 5);
        assert!(s.funnel_by_structure(&FigureScope::funder(other.id)).await.unwrap().is_empty());
        // The whole programme: the other order gave no booklet to a structure.
        assert_eq!(s.funnel_by_structure(&FigureScope::All).await.unwrap(), per);

        // Month by month, Paris months: June and July 2026 (t0 is 15 June).
        let span = |key, from: (i32, u8), to: (i32, u8)| {
            let edge = |(y, m): (i32, u8)| passnum_core::paris::from_local(
                time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), 1).unwrap(), time::Time::MIDNIGHT);
            MonthSpan { key, from: edge(from), to: edge(to) }
        };
        let months = [span(202606, (2026, 6), (2026, 7)), span(202607, (2026, 7), (2026, 8))];
        assert_eq!(s.monthly_figures(&FigureScope::funder(w.funder.id), &months).await.unwrap(), vec![
            MonthFigures { handed_out: 1, cheques_used: 2, used_cents: 2000 },
            MonthFigures { handed_out: 0, cheques_used: 1, used_cents: 1000 },
        ]);
        assert_eq!(s.monthly_figures(&FigureScope::funder(other.id), &months).await.unwrap(), vec![MonthFigures::default(); 2]);
        assert!(s.monthly_figures(&FigureScope::All, &[]).await.unwrap().is_empty());

        // Depth: the one booklet handed out has two cheques used, the first an hour after its
        // handout; 30 days later it counts among the booklets handed out a month ago, used.
        let depth = s.usage_depth(&FigureScope::funder(w.funder.id), t0().plus_ms(31 * DAY_MS), 10).await.unwrap();
        assert_eq!(depth.by_cheques.iter().sum::<i64>(), 1);
        assert_eq!(depth.by_cheques[2], 1);
        assert_eq!(depth.first_use_days, vec![(0, 1)]);
        assert_eq!(depth.median_first_use_days(), Some(0));
        assert_eq!((depth.handed_30, depth.untouched_30, depth.handed_90), (1, 0, 0));
        let cohorts = s.cohorts(&FigureScope::All, &months).await.unwrap();
        assert_eq!(cohorts[0], passnum_store::Cohort { handed_out: 1, first_used: 1, cheques_used: 2 });
        assert_eq!(cohorts[1], passnum_store::Cohort::default());
        // Territory and public of the person; venue and service of the cheques.
        let residence = s.figures_by_residence(&FigureScope::All).await.unwrap();
        assert_eq!(residence, vec![passnum_store::ResidenceLine { publics: String::new(), line: passnum_store::TerritoryLine { code: "69123".into(), handed_out: 1, first_used: 1, cheques_used: 2, used_cents: 2000 } }]);
        let venues = s.figures_by_venue(&FigureScope::funder(w.funder.id)).await.unwrap();
        assert_eq!(venues.iter().map(|v| (v.venue_id, v.cheques_used, v.cheques_paid)).collect::<Vec<_>>(), vec![(w.lyon.id.0, 3, 0)]);
        let services = s.figures_by_service(&FigureScope::All).await.unwrap();
        assert_eq!(services.iter().map(|l| (l.service_code.as_str(), l.format.as_str(), l.cheques_used)).collect::<Vec<_>>(), vec![("2.1.07", "none", 3)]);
        assert!(s.figures_by_venue(&FigureScope::funder(other.id)).await.unwrap().is_empty());
        assert!(s.figures_by_venue(&FigureScope::Funders(vec![])).await.unwrap().is_empty());
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
    }
}

both_engines! {
    async fn the_rollups_follow_workshops_rollbacks_and_payments_and_recount_the_same(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        let plan = one_workshop(passnum_core::workshop::WorkshopFormat::Individual, "Rendez-vous", time::macros::date!(2026 - 06 - 15), time::macros::time!(9:00), 4);
        let ws = s.create_workshops(w.lyon.id, &plan, t0().plus_ms(-30 * DAY_MS)).await.unwrap().remove(0);
        let at = t0();
        let mut req = redeem_req(&w.lyon, w.codes[0], at);
        req.workshop_id = Some(ws.id);
        let first = match s.redeem(req).await.unwrap().outcome { Outcome::Accepted(r) => r, o => panic!("{o:?}") };
        for i in [1, 10, 11] {
            assert!(matches!(s.redeem(redeem_req(&w.villeurbanne, w.codes[i], at)).await.unwrap().outcome, Outcome::Accepted(_)));
        }
        s.rollback(passnum_store::RollbackRequest { venue_id: w.lyon.id, redemption_id: first.id, now: at, idempotency: None }).await.unwrap();
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
        let services = s.figures_by_service(&FigureScope::All).await.unwrap();
        assert_eq!(services.iter().map(|l| (l.format.as_str(), l.cheques_used)).collect::<Vec<_>>(), vec![("none", 3)]);
        // Scanned again for the workshop: counted under its format.
        let mut req = redeem_req(&w.lyon, w.codes[0], at.plus_ms(60_000));
        req.workshop_id = Some(ws.id);
        assert!(matches!(s.redeem(req).await.unwrap().outcome, Outcome::Accepted(_)));
        let services = s.figures_by_service(&FigureScope::All).await.unwrap();
        assert_eq!(services.iter().map(|l| (l.format.as_str(), l.cheques_used)).collect::<Vec<_>>(), vec![("individual", 1), ("none", 3)]);
        // Paid: a run over Villeurbanne's three cheques.
        let details = passnum_core::BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Villeurbanne").unwrap();
        let acct = s.set_bank_account(w.villeurbanne.id, &details, t0()).await.unwrap();
        s.confirm_bank_account(w.villeurbanne.id, acct.id, t0()).await.unwrap();
        let fee = passnum_core::payment::FeeRate::default();
        let later = t0().plus_ms(2 * DAY_MS);
        let run = s.create_payment_run(time::macros::date!(2026 - 06 - 15), fee, later).await.unwrap();
        s.confirm_payment_run(run.id, later).await.unwrap();
        let f = s.funnel(&FigureScope::All).await.unwrap();
        assert_eq!((f.cheques_used, f.cheques_paid, f.paid_cents), (4, 3, 3000));
        let venues = s.figures_by_venue(&FigureScope::All).await.unwrap();
        assert_eq!(venues.iter().map(|v| (v.venue_id, v.cheques_used, v.cheques_paid)).collect::<Vec<_>>(),
            vec![(w.villeurbanne.id.0, 3, 3), (w.lyon.id.0, 1, 0)]);
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
        // A rollup tampered with is found.
        sqlx::query("UPDATE booklets SET cheques_used = cheques_used + 1 WHERE id = (SELECT MIN(id) FROM booklets)").execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE usage_paid SET cents = cents + 1").execute(s.pool()).await.unwrap();
        let problems = s.figures_check().await.unwrap();
        assert_eq!(problems.len(), 3, "the booklet, the venue's paid line and its order: {problems:?}");
        sqlx::query("UPDATE booklets SET cheques_used = cheques_used - 1 WHERE id = (SELECT MIN(id) FROM booklets)").execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE usage_paid SET cents = cents - 1").execute(s.pool()).await.unwrap();
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
        // The order lines the funnel reads are recounted from the venues' lines.
        sqlx::query("UPDATE order_funnel SET paid = paid + 1 WHERE paid > 0").execute(s.pool()).await.unwrap();
        let problems = s.figures_check().await.unwrap();
        assert!(problems.len() == 1 && problems[0].contains("payés ne correspondent pas aux lieux"), "{problems:?}");
        sqlx::query("UPDATE order_funnel SET paid = paid - 1 WHERE paid > 0").execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE order_months SET cents = cents + 1").execute(s.pool()).await.unwrap();
        let problems = s.figures_check().await.unwrap();
        assert!(problems.len() == 1 && problems[0].contains("par commande et par mois"), "{problems:?}");
    }
}

both_engines! {
    async fn the_rollups_stay_exact_under_parallel_scans_and_rollbacks_from_two_servers(db) {
        // Two servers on one database, 160 scans in parallel (every cheque of eight booklets
        // twice, at two venues), then half the accepted ones rolled back in parallel: the
        // booklets' counters and the months agree with the rows, and no batch deadlocks on
        // the booklets they share.
        let s = &db.store;
        let other = passnum_store::Store::connect(&db.url, passnum_store::StoreOptions::default()).await.unwrap();
        let w = world(s, 8).await;
        let venues = [w.lyon.clone(), w.villeurbanne.clone()];
        let mut tasks = vec![];
        for i in 0..160 {
            let server = if i % 2 == 0 { s.clone() } else { other.clone() };
            let req = redeem_req(&venues[(i / 2) % 2], w.codes[i % 80], t0().plus_ms(i as i64));
            tasks.push(tokio::spawn(async move { server.redeem(req).await.unwrap() }));
        }
        let mut accepted = vec![];
        for t in tasks {
            if let Outcome::Accepted(r) = t.await.unwrap().outcome {
                accepted.push(r);
            }
        }
        assert_eq!(accepted.len(), 80, "each cheque once");
        let mut tasks = vec![];
        for (i, r) in accepted.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
            let server = if i % 4 == 0 { s.clone() } else { other.clone() };
            let req = passnum_store::RollbackRequest { venue_id: r.venue_id, redemption_id: r.id, now: r.redeemed_at.plus_ms(1000), idempotency: None };
            tasks.push(tokio::spawn(async move { server.rollback(req).await.unwrap() }));
        }
        for t in tasks {
            assert!(matches!(t.await.unwrap().outcome, Outcome::Accepted(_)));
        }
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
        let f = s.funnel(&FigureScope::All).await.unwrap();
        assert_eq!((f.cheques_used, f.used_cents), (40, 40 * 1000));
        other.close().await;
    }
}

both_engines! {
    async fn the_order_funnel_line_follows_first_uses_and_their_rollbacks(db) {
        // The whole programme's funnel reads one line per order: a booklet counts as used from
        // its first cheque in force until its last one is rolled back, and the recount finds a
        // line that drifted from the booklets.
        let s = &db.store;
        let w = world(s, 3).await;
        let first_used = || async { s.funnel(&FigureScope::All).await.unwrap().first_used };
        let mut ids = vec![];
        for i in [0, 1, 10] {
            match s.redeem(redeem_req(&w.lyon, w.codes[i], t0())).await.unwrap().outcome {
                Outcome::Accepted(r) => ids.push(r.id),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(first_used().await, 2, "booklets 1 and 2");
        let rollback = |id| passnum_store::RollbackRequest { venue_id: w.lyon.id, redemption_id: id, now: t0(), idempotency: None };
        s.rollback(rollback(ids[0])).await.unwrap();
        assert_eq!(first_used().await, 2, "booklet 1 still has a cheque in force");
        s.rollback(rollback(ids[2])).await.unwrap();
        assert_eq!(first_used().await, 1, "booklet 2's only cheque rolled back");
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
        assert!(matches!(s.redeem(redeem_req(&w.lyon, w.codes[11], t0())).await.unwrap().outcome, Outcome::Accepted(_)));
        assert_eq!(first_used().await, 2, "booklet 2 used again");
        assert_eq!(s.figures_check().await.unwrap(), Vec::<String>::new());
        sqlx::query("UPDATE order_funnel SET handed_out = handed_out + 1").execute(s.pool()).await.unwrap();
        let problems = s.figures_check().await.unwrap();
        assert!(problems.len() == 1 && problems[0].contains("entonnoir"), "{problems:?}");
        sqlx::query("UPDATE order_funnel SET handed_out = handed_out - 1").execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE usage_months SET first_uses = first_uses + 1").execute(s.pool()).await.unwrap();
        let problems = s.figures_check().await.unwrap();
        assert!(problems.len() == 2 && problems[0].contains("entonnoir") && problems[1].contains("par commande et par mois"), "{problems:?}");
        sqlx::query("UPDATE usage_months SET first_uses = first_uses - 1").execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE order_months SET first_uses = first_uses + 1").execute(s.pool()).await.unwrap();
        let problems = s.figures_check().await.unwrap();
        assert!(problems.len() == 1 && problems[0].contains("par commande et par mois"), "{problems:?}");
        assert_eq!(first_used().await, 3, "the funnel reads the order's month lines");
    }
}
