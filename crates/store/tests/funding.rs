//! Co-funding carried through, on both engines: an order's amounts from the ledger, split
//! among its sources to the cent, per order and per Paris year.

mod common;

use common::*;
use passnum_store::{Outcome, both_engines};

both_engines! {
    async fn each_source_gets_its_share_and_every_column_sums_to_the_ledger(db) {
        let s = &db.store;
        let w = world(s, 2).await;
        for (position, source, bp) in [(1, "État", 6500), (2, "FEDER", 2100), (3, "CA Lens-Liévin", 1400)] {
            sqlx::query("INSERT INTO order_funding (order_id, position, source, basis_points) VALUES ($1, $2, $3, $4)")
                .bind(w.order.id.0).bind(position).bind(source).bind(bp)
                .execute(s.pool()).await.unwrap();
        }
        // Three cheques of 10 € used, one cancelled: 20 € used.
        let mut ids = vec![];
        for i in 0..3 {
            match s.redeem(redeem_req(&w.lyon, w.codes[i], t0())).await.unwrap().outcome {
                Outcome::Accepted(r) => ids.push(r.id),
                o => panic!("{o:?}"),
            }
        }
        s.rollback(passnum_store::RollbackRequest { venue_id: w.lyon.id, redemption_id: ids[2], now: t0(), idempotency: None }).await.unwrap();
        let (total, lines) = s.order_funding_report(w.order.id).await.unwrap();
        assert_eq!(total.paid_in, w.order.total_cents, "the prepayment of the order");
        assert_eq!((total.used, total.paid_to_venues, total.returned), (2000, 0, 0));
        assert_eq!(lines.iter().map(|l| l.source.as_str()).collect::<Vec<_>>(), ["État", "FEDER", "CA Lens-Liévin"]);
        // 20 € split 65/21/14: 13,00 / 4,20 / 2,80; each column sums to the ledger.
        assert_eq!(lines.iter().map(|l| l.amounts.used).collect::<Vec<_>>(), [1300, 420, 280]);
        for column in [|a: &passnum_store::FundingAmounts| a.paid_in, |a: &passnum_store::FundingAmounts| a.used, |a: &passnum_store::FundingAmounts| a.held()] {
            assert_eq!(lines.iter().map(|l| column(&l.amounts)).sum::<i64>(), column(&total));
        }
        // The year of the events has the same amounts; the year before has none.
        let year = |y: i32| passnum_core::paris::from_local(time::Date::from_calendar_date(y, time::Month::January, 1).unwrap(), time::Time::MIDNIGHT);
        let (y2026, by_source) = s.yearly_funding_report(w.funder.id, year(2026), year(2027)).await.unwrap();
        assert_eq!((y2026.paid_in, y2026.used), (total.paid_in, 2000));
        assert_eq!(by_source.iter().map(|l| l.amounts.used).collect::<Vec<_>>(), [1300, 420, 280]);
        let (y2025, _) = s.yearly_funding_report(w.funder.id, year(2025), year(2026)).await.unwrap();
        assert_eq!(y2025, passnum_store::FundingAmounts::default());
        // An order without funding lines is the funder's own funds.
        let other = s.create_funder("Commune", "commune", t0()).await.unwrap();
        let o = s.create_order(other.id, &passnum_core::order::NewOrder::parse(&order_request(1)).unwrap(), t0()).await.unwrap();
        let (_, lines) = s.order_funding_report(o.id).await.unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].source.contains("fonds propres") && lines[0].basis_points == Some(10_000));
        // `passnum ledger check`: the reports agree with each funder's account to the cent…
        assert_eq!(s.funding_check().await.unwrap(), Vec::<String>::new());
        // …and an account moved behind the transfers' back (they are append-only), or shares
        // that no longer make 100 %, are found.
        sqlx::query("UPDATE accounts SET credits_cents = credits_cents + 1 WHERE kind = 'funder_held' AND owner_id = $1")
            .bind(w.funder.id.0).execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE order_funding SET basis_points = 1300 WHERE source = 'CA Lens-Liévin'")
            .execute(s.pool()).await.unwrap();
        let problems = s.funding_check().await.unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("Métropole de Lyon") && problems[0].contains("détenus"), "{problems:?}");
        assert!(problems[1].contains(&format!("commande n° {}", w.order.id.0)), "{problems:?}");
    }
}
