//! Issue 13's targets: "workshops with free places near this commune in the next 14 days for
//! these categories" among 10,000 venues × 20 workshops (median under 20 ms), and the scan for
//! a workshop against the plain scan, in the same run (within 10 %).

use std::sync::Arc;
use std::time::Instant;

use passnum_core::paris;
use passnum_core::workshop::{Level, Place, WorkshopFormat, WorkshopPlan};
use passnum_store::{Store, WorkshopSearch};

use super::{BenchArgs, fixture, median, p99, redeem_all};
use crate::now;

fn plan(
    dates: Vec<time::Date>,
    time: time::Time,
    capacity: i64,
    services: Vec<String>,
) -> WorkshopPlan {
    WorkshopPlan {
        format: WorkshopFormat::Collective,
        title: "Atelier du banc d'essai".into(),
        services,
        level: Level::Beginner,
        time,
        dates,
        duration_min: 90,
        place: Place::AtVenue,
        capacity,
        mediator: String::new(),
        accessibility: String::new(),
    }
}

pub(super) async fn bench_workshop_search(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
    let at = now();
    let today = paris::local_date(at);
    // 2,000 towns, five venues each on average.
    let towns = super::directory::towns();
    let services = store.list_services().await?;
    let setup = Instant::now();
    for n in 0..args.workshop_venues {
        let (venue, offered) =
            super::directory::town_venue(store, tag, n, &towns, &services, at).await?;
        // 20 workshops every other day from tomorrow: about seven in a 14-day window.
        let dates: Vec<time::Date> = (0..20)
            .map(|d| today + time::Duration::days(1 + 2 * d))
            .collect();
        let first = offered.iter().take(2).cloned().collect();
        store
            .create_workshops(
                venue.id,
                &plan(dates, time::Time::from_hms(14, 0, 0)?, 8, first),
                at,
            )
            .await?;
    }
    let setup_s = setup.elapsed().as_secs_f64();
    // Fresh statistics, as autovacuum gives them after a load: without them PostgreSQL takes
    // the just-filled workshops table for empty and walks it by date (seconds a search).
    store.analyze().await?;
    let categories = super::directory::categories(&services);
    let mut times = Vec::with_capacity(400);
    let mut found = 0usize;
    for q in 0..400usize {
        let town = towns[(q * 31 + 5) % towns.len()];
        // The person's town and the four towns nearest to it, as the orientation would.
        let mut near: Vec<_> = towns
            .iter()
            .map(|t| (t.position.distance_km(town.position), t.insee))
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        let search = WorkshopSearch {
            communes: near.iter().take(5).map(|(_, c)| c.to_string()).collect(),
            categories: if q % 2 == 0 {
                vec![]
            } else {
                categories
                    .iter()
                    .skip(q % categories.len())
                    .take(2)
                    .cloned()
                    .collect()
            },
            from: at,
            to: at.plus_ms(14 * 86_400_000),
            limit: 20,
        };
        let t = Instant::now();
        found += store.search_workshops(&search).await?.len();
        times.push(t.elapsed());
    }
    println!(
        "| workshop search | {:?} | {} venues × 20 workshops | 1 | median {:.2} ms | p99 {:.2} ms; {:.1} found per search; set-up {:.0} s |",
        store.engine(),
        args.workshop_venues,
        median(times.clone()).as_secs_f64() * 1e3,
        p99(times).as_secs_f64() * 1e3,
        found as f64 / 400.0,
        setup_s
    );
    Ok(())
}

/// Plain scans, scans each naming one of the day's workshops (a booklet never twice in one
/// workshop, 200 places each), then plain scans again: the ratio is taken against the mean of
/// the two plain runs, so that the database growing during the run favours neither.
pub(super) async fn bench_workshop_scan(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
    let plain = |tag: u64| async move {
        let fx = fixture(store, args.cheques, tag).await?;
        let start = Instant::now();
        let lat = redeem_all(
            store,
            Arc::new(fx.codes),
            Arc::new(vec![fx.venue.id]),
            args.concurrency,
            None,
            Arc::new(vec![]),
        )
        .await?;
        anyhow::Ok((
            lat.len() as f64 / start.elapsed().as_secs_f64(),
            median(lat).as_secs_f64() * 1e3,
        ))
    };
    let (before, before_median) = plain(tag).await?;
    let fx = fixture(store, args.cheques, tag + 1).await?;
    let at = now();
    let per_workshop = 200usize;
    // Ten workshops per block of 2,000 cheques (see `redeem_all`).
    let count = 10 * args.cheques.div_ceil(per_workshop * 10);
    let mut workshops = Vec::with_capacity(count);
    for _ in 0..count {
        let w = store
            .create_workshops(
                fx.venue.id,
                &plan(
                    vec![paris::local_date(at)],
                    time::Time::from_hms(0, 1, 0)?,
                    200,
                    vec!["2.1.07".into()],
                ),
                at,
            )
            .await?;
        workshops.push(w[0].id);
    }
    let start = Instant::now();
    let lat = redeem_all(
        store,
        Arc::new(fx.codes),
        Arc::new(vec![fx.venue.id]),
        args.concurrency,
        None,
        Arc::new(workshops),
    )
    .await?;
    let rate = lat.len() as f64 / start.elapsed().as_secs_f64();
    let (after, after_median) = plain(tag + 2).await?;
    let plain_rate = (before + after) / 2.0;
    println!(
        "| scan for a workshop | {:?} | {} | {} | {:.0} redemptions/s ({:.2}× the plain scans' {:.0} and {:.0}/s) | median {:.2} ms (plain {:.2} and {:.2} ms) |",
        store.engine(),
        lat.len(),
        args.concurrency,
        rate,
        rate / plain_rate,
        before,
        after,
        median(lat).as_secs_f64() * 1e3,
        before_median,
        after_median
    );
    Ok(())
}
