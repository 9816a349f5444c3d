//! The "Chiffres" views over the payment-run books (a million cheques used and paid at 2,000
//! venues): the order's booklets are first shared among 1,000 structures by the real
//! allocation, and 100,000 handouts are written by one SQL statement (the handout path has
//! its own measurement; what matters here is the rows the figures read). Then each view's
//! statements run 20 times for the funder and for the whole programme; medians.

use super::*;
use passnum_store::FigureScope;

const STRUCTURES: usize = 1_000;

/// Shares every booklet of the funder's order among [`STRUCTURES`] structures and records a
/// handout for each, spread over 50 communes, 7 publics and the last 120 days.
async fn hand_out_everything(store: &Store, funder: passnum_core::FunderId) -> anyhow::Result<i64> {
    let order = store
        .list_orders(Some(funder), 1, 0)
        .await?
        .into_iter()
        .next()
        .context("commande du banc")?;
    let at = now();
    let communes: Vec<&str> = passnum_core::commune::communes()
        .iter()
        .filter(|c| c.population > 20_000)
        .map(|c| c.insee)
        .take(50)
        .collect();
    let mut shares = Vec::with_capacity(STRUCTURES);
    let per = order.booklet_count / STRUCTURES as i64;
    for i in 0..STRUCTURES {
        let d = store
            .create_distributor(
                &format!("Structure {i}"),
                "ccas",
                &InseeCode::parse(communes[i % communes.len()])?,
                at,
            )
            .await?;
        let n = if i == STRUCTURES - 1 {
            order.booklet_count - per * (STRUCTURES as i64 - 1)
        } else {
            per
        };
        shares.push((d.id, n));
    }
    store
        .allocate_booklets(order.id, &shares, "banc d'essai", at)
        .await?;
    let publics = [
        "senior",
        "job_seeker",
        "young",
        "disability",
        "",
        "minimum_income",
        "senior,isolated",
    ];
    let since = at.plus_ms(-120 * DAY_MS);
    let n = store
        .bench_hand_out_order(order.id, &communes, &publics, since, 120 * DAY_MS)
        .await?;
    Ok(n)
}

pub(super) async fn bench_views(
    store: &Store,
    funder: passnum_core::FunderId,
) -> anyhow::Result<()> {
    let handouts = hand_out_everything(store, funder).await?;
    store.analyze().await?;
    let at = now();
    let spans: Vec<passnum_store::MonthSpan> = passnum_app::activity::last_months(at, 12)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    for (name, scope) in [
        ("funder", FigureScope::funder(funder)),
        ("all", FigureScope::All),
    ] {
        let mut times: [Vec<f64>; 4] = Default::default();
        for _ in 0..20 {
            let t = Instant::now();
            let f = store.funnel(&scope).await?;
            store.figures_have_orders(&scope).await?;
            store.monthly_figures(&scope, &spans).await?;
            store.funnel_by_structure(&scope).await?;
            times[0].push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(
                f.cheques_used > 0 && f.handed_out >= handouts,
                "books not as expected"
            );
            let t = Instant::now();
            store.figures_have_orders(&scope).await?;
            store.figures_by_residence(&scope).await?;
            times[1].push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            store.figures_have_orders(&scope).await?;
            store.figures_by_venue(&scope).await?;
            store.figures_by_service(&scope).await?;
            times[2].push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            store.figures_have_orders(&scope).await?;
            store.usage_depth(&scope, at, 10).await?;
            store.cohorts(&scope, &spans).await?;
            times[3].push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let [a, b, c, d] = &mut times;
        println!(
            "| figures ({name}) | {:?} | {handouts} handouts, {STRUCTURES} structures | 20 | slowest view median {:.1} ms | parcours {:.1} ms, territoires {:.1} ms, lieux {:.1} ms, usage {:.1} ms |",
            store.engine(),
            med(a).max(med(b)).max(med(c)).max(med(d)),
            med(a),
            med(b),
            med(c),
            med(d)
        );
    }
    // The open-data export at this volume, written to a temporary folder, three times.
    let dir = tempfile::tempdir()?;
    let mut times = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        crate::opendata::export(store, dir.path(), 24, "banc").await?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| open-data export | {:?} | {handouts} handouts, 24 months, 2000 venues | 3 | median {:.2} s | counts, secrecy, 13 files |",
        store.engine(),
        times[1]
    );
    // The operator's anomalies over 90 days of these redemptions (they read raw rows).
    let mut times = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        store.anomalies(at.plus_ms(-90 * DAY_MS)).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| anomalies | {:?} | 90 days of redemptions | 3 | median {:.0} ms | five kinds, 200 lines each at most |",
        store.engine(),
        times[1]
    );
    let problems = store.figures_check().await?;
    anyhow::ensure!(problems.is_empty(), "rollups: {problems:?}");
    Ok(())
}
