//! `passnum bench`: redemptions per second at the storage layer and through HTTP, and the time
//! to issue a large order. Every commit is durable (SQLite WAL + synchronous=FULL, PostgreSQL
//! synchronous_commit=on): the throughput comes from group commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use passnum_app::SystemClock;
use passnum_core::order::OrderRequest;
use passnum_core::{ChequeCode, InseeCode, NewOrder, Siret, VenueStatus};
use passnum_store::{Actor, NewVenue, Outcome, RedeemRequest, Store, StoreOptions};
use passnum_web::{AppState, Application};

use crate::now;

mod backup;
mod directory;
mod distribution;
mod figures;
mod growth;
mod import;
mod pages;
mod payment_run;
mod print;
mod redemptions;
mod secrecy;
mod workshops;

use distribution::*;
use pages::*;
use payment_run::*;
use print::*;
use redemptions::*;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Cheques redeemed in each redemption measurement.
    #[arg(long, default_value_t = 50_000)]
    cheques: usize,
    /// Concurrent clients at the storage layer.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Concurrent HTTP clients (keep-alive connections).
    #[arg(long, default_value_t = 64)]
    http_concurrency: usize,
    /// Cheques in the order whose issuing is timed.
    #[arg(long, default_value_t = 100_000)]
    issue: i64,
    /// Requests per page in the page-rendering measurement.
    #[arg(long, default_value_t = 200)]
    page_requests: usize,
    /// Cheques issued before the backup measurement copies and restores the database.
    #[arg(long, default_value_t = 1_000_000)]
    backup_cheques: i64,
    /// Redeemed cheques paid by the payment-run measurement.
    #[arg(long, default_value_t = 1_000_000)]
    run_cheques: usize,
    /// Venues paid by the payment-run measurement.
    #[arg(long, default_value_t = 2_000)]
    run_venues: usize,
    /// Refresh the planner's statistics (ANALYZE) before the timed payment run, as
    /// autovacuum does in production: the run's plan must stay good with fresh statistics.
    #[arg(long)]
    run_analyze: bool,
    /// Booklets printed by the print measurement.
    #[arg(long, default_value_t = 1_000)]
    print_booklets: i64,
    /// Booklets and distributors of the allocation measurement.
    #[arg(long, default_value_t = 100_000)]
    allocation_booklets: i64,
    #[arg(long, default_value_t = 1_000)]
    allocation_distributors: usize,
    /// Member territories of the two-stage allocation measurement (four communes and one
    /// structure per commune each; its booklets are --allocation-booklets).
    #[arg(long, default_value_t = 500)]
    two_stage_territories: usize,
    /// Qualified venues among which the orientation measurement suggests.
    #[arg(long, default_value_t = 10_000)]
    orientation_venues: usize,
    /// Qualified venues among which the directory measurement searches.
    #[arg(long, default_value_t = 20_000)]
    directory_venues: usize,
    /// Rows of the file the venue-import measurement reads (a tenth of them duplicate
    /// venues created first).
    #[arg(long, default_value_t = 20_000)]
    import_venues: usize,
    /// Qualified venues, each with 20 workshops, among which the workshop search looks.
    #[arg(long, default_value_t = 10_000)]
    workshop_venues: usize,
    /// Communes (the first ones by INSEE code) of the national secrecy measurement.
    #[arg(long, default_value_t = 40_000)]
    secrecy_communes: usize,
    /// Cheques the growth measurement fills the database with, between its two probes.
    #[arg(long, default_value_t = 10_000_000)]
    growth_cheques: i64,
    /// Of the filled cheques, how many are redeemed (and paid).
    #[arg(long, default_value_t = 1_000_000)]
    growth_redeemed: usize,
    /// Cheques each probe of the growth measurement redeems and pays.
    #[arg(long, default_value_t = 100_000)]
    growth_probe: usize,
    /// Seconds each probe of the growth measurement leaves the database idle before its last
    /// lookups (0: none).
    #[arg(long, default_value_t = 120)]
    growth_idle_s: u64,
    /// Run only some measurements: issue, storage, http, metrics, backup, pages, payment-run, print,
    /// directory, import, workshops, workshop-scan,
    /// allocation, two-stage-allocation, orientation, secrecy, growth (repeatable).
    /// Without --only, all but payment-run (its set-up redeems a million cheques), growth (it
    /// issues ten million) and backup.
    #[arg(long)]
    only: Vec<String>,
    /// Write the fixture of an external load generator and stop: --cheques issued cheques and
    /// a venue that redeems them; the file holds the venue's token on its first line, then one
    /// code per line (scripts/bench/http-vs-pgbench.sh gives it to wrk).
    #[arg(long)]
    prepare_http: Option<std::path::PathBuf>,
}

struct Fixture {
    venue: passnum_store::Venue,
    codes: Vec<ChequeCode>,
}

async fn fixture(store: &Store, cheques: usize, tag: u64) -> anyhow::Result<Fixture> {
    let at = now();
    let funder = store
        .create_funder(&format!("Banc d'essai {tag}"), "autre", at)
        .await?;
    let venue = qualified_venue(store, siret_for(tag, 0)?, "Lieu du banc d'essai", at).await?;
    let today = passnum_core::paris::local_date(at);
    let booklets = cheques.div_ceil(10) as i64;
    let order = store
        .create_order(funder.id, &order_of(booklets, today)?, at)
        .await?;
    let codes = order_codes(store, order.id, cheques).await?;
    Ok(Fixture { venue, codes })
}

/// See [`BenchArgs::prepare_http`].
async fn prepare_http(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let fx = fixture(store, args.cheques, tag).await?;
    let token = store
        .create_token(Actor::Venue(fx.venue.id), "bench", now())
        .await?;
    let mut text = String::with_capacity(16 * (fx.codes.len() + 1));
    text.push_str(&token);
    // The first cheque of every booklet, then the second…: scans in flight together come from
    // different booklets, as they do when each person carries their own. In booklet order, the
    // 32 scans in flight shared three booklets, whose rows every batch locks.
    let mut order: Vec<usize> = (0..fx.codes.len()).collect();
    order.sort_by_key(|&i| (i % 10, i / 10));
    for code in order.iter().map(|&i| &fx.codes[i]) {
        text.push('\n');
        text.push_str(&code.grouped());
    }
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("écriture de {}", path.display()))?;
    println!(
        "{} chèques prêts pour le lieu {} : {}",
        fx.codes.len(),
        fx.venue.id.0,
        path.display()
    );
    Ok(())
}

/// The first `n` cheque codes of an order, in booklet order.
async fn order_codes(
    store: &Store,
    order: passnum_core::OrderId,
    n: usize,
) -> anyhow::Result<Vec<ChequeCode>> {
    let mut codes = Vec::with_capacity(n);
    let mut after = 0;
    while codes.len() < n {
        let page = store.list_cheques(order, after, 500).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        codes.extend(
            page.iter()
                .map(|c| ChequeCode::parse(&c.code).expect("stored code")),
        );
    }
    codes.truncate(n);
    Ok(codes)
}

/// Redeems every code from `concurrency` tasks taking the next one from a shared index, the
/// i-th at `venues[i % len]`, dated `at` (or the present); each must be accepted. Returns the
/// latency of each call.
async fn redeem_all(
    store: &Store,
    codes: Arc<Vec<ChequeCode>>,
    venues: Arc<Vec<passnum_core::VenueId>>,
    concurrency: usize,
    at: Option<passnum_core::Timestamp>,
    workshops: Arc<Vec<i64>>,
) -> anyhow::Result<Vec<Duration>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (store, codes, venues, next, workshops) = (
            store.clone(),
            codes.clone(),
            venues.clone(),
            next.clone(),
            workshops.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                let req = RedeemRequest {
                    venue_id: venues[i % venues.len()],
                    code: *code,
                    service_code: "2.1.07".into(),
                    // Codes come in booklet order, ten per booklet. Each block of 200
                    // booklets fills ten workshops of 200 places, cheque k of every booklet in
                    // workshop k: never a booklet twice in one workshop, and the requests of a
                    // moment go to a few workshops, as people arrive at the start of theirs.
                    workshop_id: (!workshops.is_empty())
                        .then(|| workshops[(i % 10 + 10 * (i / 2000)) % workshops.len()]),
                    now: at.unwrap_or_else(now),
                    idempotency: None,
                };
                let t = Instant::now();
                let a = store.redeem(req).await.expect("redeem");
                assert!(matches!(a.outcome, Outcome::Accepted(_)), "{:?}", a.outcome);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await?);
    }
    Ok(lat)
}

fn order_of(booklets: i64, today: time::Date) -> anyhow::Result<NewOrder> {
    Ok(NewOrder::parse(&OrderRequest {
        booklet_count: booklets,
        cheques_per_booklet: 10,
        face_value_cents: 1000,
        valid_from: today - time::Duration::days(1),
        valid_until: today + time::Duration::days(365),
        tolerance_days: 30,
        perimeter_communes: vec![],
        perimeter_departements: vec![],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })?)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() * 99 / 100).copied().unwrap_or_default()
}

pub async fn run(url: Option<String>, args: BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let store = Store::connect(&url, StoreOptions::default())
        .await
        .with_context(|| format!("ouverture de {url}"))?;
    let tag = now().unix_ms() as u64;
    if let Some(path) = &args.prepare_http {
        return prepare_http(&store, &args, tag, path).await;
    }
    let wants = |k: &str| {
        if args.only.is_empty() {
            k != "payment-run" && k != "backup" && k != "growth"
        } else {
            args.only.iter().any(|o| o == k)
        }
    };
    println!("| measure | engine | n | clients | result | detail |");
    println!("|---|---|---|---|---|---|");
    if wants("issue") {
        bench_issue(&store, &args, tag).await?;
    }
    if wants("storage") {
        bench_storage(&store, &args, tag).await?;
    }
    if wants("http") {
        bench_http(&store, &args, tag + 1).await?;
    }
    if wants("backup") {
        backup::bench_backup(&store, &args, tag + 30).await?;
    }
    if wants("metrics") {
        bench_metrics(&store, &args, tag + 20).await?;
    }
    if wants("pages") {
        bench_pages(&args).await?;
    }
    if wants("payment-run") {
        bench_payment_run(&store, &args, tag + 2).await?;
    }
    if wants("print") {
        bench_print(&store, &args, tag + 3).await?;
    }
    if wants("allocation") {
        bench_allocation(&store, &args, tag + 4).await?;
    }
    if wants("two-stage-allocation") {
        bench_two_stage_allocation(&store, &args, tag + 40).await?;
    }
    if wants("orientation") {
        bench_orientation(&store, &args, tag + 5).await?;
    }
    if wants("directory") {
        directory::bench_directory(&store, &args, tag + 6).await?;
    }
    if wants("import") {
        import::bench_import(&store, &args, tag + 7).await?;
    }
    if wants("workshops") {
        workshops::bench_workshop_search(&store, &args, tag + 8).await?;
    }
    if wants("workshop-scan") {
        workshops::bench_workshop_scan(&store, &args, tag + 9).await?;
    }
    if wants("growth") {
        growth::bench_growth(&store, &args, tag + 10).await?;
    }
    if wants("secrecy") {
        secrecy::bench_secrecy(args.secrecy_communes)?;
    }
    store.close().await;
    Ok(())
}

/// The process's peak resident memory (Linux), to show that printing does not grow with
/// the order.
fn peak_rss_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("n/a".into(), |kb| format!("{} MB", kb / 1024))
}

/// Recomputes an order's total after its quantities changed.
fn fix_total(o: NewOrder) -> anyhow::Result<NewOrder> {
    Ok(NewOrder::parse(&OrderRequest {
        booklet_count: o.booklet_count,
        cheques_per_booklet: o.cheques_per_booklet,
        face_value_cents: o.face_value.cents(),
        valid_from: o.validity.valid_from,
        valid_until: o.validity.valid_until,
        tolerance_days: o.validity.tolerance_days,
        perimeter_communes: vec![],
        perimeter_departements: vec![],
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })?)
}
