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
    /// Qualified venues among which the orientation measurement suggests.
    #[arg(long, default_value_t = 10_000)]
    orientation_venues: usize,
    /// Run only some measurements: issue, storage, http, pages, payment-run, print,
    /// allocation, orientation (repeatable).
    /// Without --only, all but payment-run (its set-up redeems a million cheques).
    #[arg(long)]
    only: Vec<String>,
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
    let venue = store
        .create_venue(
            &NewVenue {
                siret: siret_for(tag, 0)?,
                name: "Lieu du banc d'essai".into(),
                commune: InseeCode::parse("69123")?,
                status: VenueStatus::Qualified,
                qualified_until: None,
                address: String::new(),
                contact: String::new(),
                services: vec![],
            },
            at,
        )
        .await?;
    let today = passnum_core::paris::local_date(at);
    let booklets = cheques.div_ceil(10) as i64;
    let order = store
        .create_order(funder.id, &order_of(booklets, today)?, at)
        .await?;
    let codes = order_codes(store, order.id, cheques).await?;
    Ok(Fixture { venue, codes })
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
) -> anyhow::Result<Vec<Duration>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (store, codes, venues, next) =
            (store.clone(), codes.clone(), venues.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                let req = RedeemRequest {
                    venue_id: venues[i % venues.len()],
                    code: *code,
                    service_code: "2.1.07".into(),
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

async fn bench_storage(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let fx = fixture(store, args.cheques, tag).await?;
    let (codes, venues) = (Arc::new(fx.codes), Arc::new(vec![fx.venue.id]));
    let start = Instant::now();
    let lat = redeem_all(store, codes, venues, args.concurrency, None).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| storage | {:?} | {} | {} | {:.0} redemptions/s | median {:.2} ms, p99 {:.2} ms |",
        store.engine(),
        lat.len(),
        args.concurrency,
        lat.len() as f64 / secs,
        median(lat.clone()).as_secs_f64() * 1e3,
        p99(lat).as_secs_f64() * 1e3
    );
    Ok(())
}

async fn bench_http(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let fx = Arc::new(fixture(store, args.cheques, tag).await?);
    let token = store
        .create_token(Actor::Venue(fx.venue.id), "bench", now())
        .await?;
    let app = Application::build(
        AppState::new(store.clone(), Arc::new(SystemClock)),
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let url = format!("http://{}/api/v1/redemptions", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.http_concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = vec![];
    for _ in 0..args.http_concurrency {
        let (client, fx, next, url, token) = (
            client.clone(),
            fx.clone(),
            next.clone(),
            url.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = fx.codes.get(i) else { break };
                let body = format!(r#"{{"code":"{}","service_code":"2.1.07"}}"#, code.grouped());
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("bench-{i}"))
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 201, "{:?}", r.text().await);
                let _ = r.bytes().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| http (idempotency keys) | {:?} | {} | {} | {:.0} redemptions/s | median {:.2} ms, p99 {:.2} ms |",
        store.engine(),
        lat.len(),
        args.http_concurrency,
        lat.len() as f64 / secs,
        median(lat.clone()).as_secs_f64() * 1e3,
        p99(lat).as_secs_f64() * 1e3
    );
    Ok(())
}

async fn bench_issue(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let funder = store
        .create_funder(&format!("Banc d'émission {tag}"), "autre", now())
        .await?;
    let order = order_of(
        args.issue.div_euclid(10).max(1),
        passnum_core::paris::local_date(now()),
    )?;
    let start = Instant::now();
    store.create_order(funder.id, &order, now()).await?;
    println!(
        "| issue order | {:?} | {} cheques | 1 | {:.2} s | {:.0} cheques/s |",
        store.engine(),
        order.cheque_count(),
        start.elapsed().as_secs_f64(),
        order.cheque_count() as f64 / start.elapsed().as_secs_f64()
    );
    Ok(())
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
    let wants = |k: &str| {
        if args.only.is_empty() {
            k != "payment-run"
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
    if wants("orientation") {
        bench_orientation(&store, &args, tag + 5).await?;
    }
    store.close().await;
    Ok(())
}

/// Median time to answer each page on the demo data (a fresh demo database), measured over
/// loopback one request at a time, and the weight of the scan page before any camera library.
async fn bench_pages(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("pages.db").display()
    );
    let store = Store::connect(&url, StoreOptions::default()).await?;
    let app = Application::build(
        AppState::new(store.clone(), Arc::new(SystemClock)),
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let listen = app.local_addr();
    crate::demo::create(&store, listen, false, None).await?;
    let base = format!("http://{listen}");
    tokio::spawn(app.run_until_stopped());
    // Some history to render: 50 redemptions at the demo venue.
    let venue = store.list_venues(1, 0).await?.remove(0);
    let order = store.list_orders(None, 1, 0).await?.remove(0);
    for c in store.list_cheques(order.id, 0, 50).await? {
        let code = ChequeCode::parse(&c.code).expect("stored code");
        store
            .redeem(RedeemRequest {
                venue_id: venue.id,
                code,
                service_code: "2.1.07".into(),
                now: now(),
                idempotency: None,
            })
            .await?;
    }
    // One handout at the demo agent's structure, for its orientation page.
    let structure = store.list_distributors(1, 0).await?.remove(0);
    let handout = passnum_core::handout::Handout::parse(
        &passnum_core::handout::HandoutRequest {
            needs: vec!["online_procedures".into(), "email".into()],
            equipment: "phone_only".into(),
            level: "never".into(),
            consent: true,
            ..Default::default()
        },
        &passnum_core::handout::HandoutRules::default(),
        &passnum_core::handout::HouseholdKey::generate(),
    )?;
    let handed = store
        .hand_out(
            structure.id,
            None,
            order.id,
            1,
            &InseeCode::parse("69123")?,
            &handout,
            now(),
        )
        .await?;
    let slip = format!("/structure/remises/{}", handed.id);
    let mut cookies = std::collections::HashMap::new();
    for (email, _, _) in crate::demo::DEMO_STAFF {
        let (member, _) = store
            .staff_for_sign_in(email)
            .await?
            .context("demo staff")?;
        cookies.insert(
            member.actor.role().as_str(),
            store.create_session(member.id, now(), 3_600_000).await?,
        );
    }
    let pages: &[(&str, Option<&str>)] = &[
        ("/", None),
        ("/verifier", None),
        ("/lieux", None),
        ("/connexion", None),
        ("/lieu", Some("venue")),
        ("/lieu/paiements", Some("venue")),
        ("/commanditaire", Some("funder")),
        ("/commanditaire/encaissements", Some("funder")),
        ("/commanditaire/commandes/1", Some("funder")),
        ("/commanditaire/commandes/1/facture", Some("funder")),
        ("/commanditaire/releve", Some("funder")),
        ("/operateur", Some("operator")),
        ("/operateur/commanditaires", Some("operator")),
        ("/operateur/commandes", Some("operator")),
        ("/operateur/lieux", Some("operator")),
        ("/operateur/virements", Some("operator")),
        ("/operateur/comptes", Some("operator")),
        ("/structure", Some("distributor")),
        ("/structure/remise", Some("distributor")),
        (slip.as_str(), Some("distributor")),
    ];
    let client = reqwest::Client::new();
    println!();
    println!("| page | requests | median | p90 | HTML bytes |");
    println!("|---|---|---|---|---|");
    let mut scan_html = 0;
    for (path, role) in pages {
        let mut lat = vec![];
        let mut size = 0;
        for _ in 0..args.page_requests {
            let mut req = client.get(format!("{base}{path}"));
            if let Some(r) = role {
                req = req.header("cookie", format!("passnum_session={}", cookies[r]));
            }
            let t = Instant::now();
            let resp = req.send().await?;
            anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
            size = resp.bytes().await?.len();
            lat.push(t.elapsed());
        }
        if *path == "/lieu" {
            scan_html = size;
        }
        let mut sorted = lat.clone();
        sorted.sort();
        println!(
            "| {path} | {} | {:.2} ms | {:.2} ms | {size} |",
            lat.len(),
            median(lat).as_secs_f64() * 1e3,
            sorted[sorted.len() * 9 / 10].as_secs_f64() * 1e3
        );
    }
    let css = passnum_web::ui::transfer_size("dsfr/css/dsfr.min.css", true).unwrap_or(0)
        + passnum_web::ui::transfer_size("app/passnum.css", true).unwrap_or(0);
    let js = passnum_web::ui::transfer_size("app/scan.js", true).unwrap_or(0);
    let fonts: usize = ["Marianne-Regular", "Marianne-Medium", "Marianne-Bold"]
        .iter()
        .filter_map(|f| passnum_web::ui::transfer_size(&format!("dsfr/fonts/{f}.woff2"), true))
        .sum();
    println!();
    println!(
        "Scan page weight (gzip where the browser accepts it): HTML {scan_html} B (uncompressed) + CSS {css} B + JS {js} B + fonts {fonts} B = {} KB",
        (scan_html + css + js + fonts) / 1024
    );
    store.close().await;
    Ok(())
}

/// A SIRET unique to (tag, n), valid under Luhn.
fn siret_for(tag: u64, n: usize) -> anyhow::Result<Siret> {
    let base = (tag % 10_000) * 100_000 + n as u64;
    (0..100_000)
        .map(|nic| format!("{:09}{:05}", base % 1_000_000_000, nic))
        .find_map(|s| Siret::parse(&s).ok())
        .context("SIRET de test")
}

/// A monthly payment run over `run_cheques` redeemed cheques spread over `run_venues` venues:
/// preparing the run, confirming it, and writing the SEPA file and every statement as CSV.
async fn bench_payment_run(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    use passnum_core::payment::FeeRate;
    let setup = Instant::now();
    let at = now();
    let long_ago = at.plus_ms(-3 * 24 * 3_600_000);
    let today = passnum_core::paris::local_date(at);
    let funder = store
        .create_funder(&format!("Banc de paiement {tag}"), "autre", long_ago)
        .await?;
    let order = store
        .create_order(
            funder.id,
            &order_of(
                args.run_cheques.div_ceil(10) as i64,
                today - time::Duration::days(5),
            )?,
            long_ago,
        )
        .await?;
    let iban = passnum_core::Iban::parse("FR7630006000011234567890189")?;
    let bic = passnum_core::Bic::parse("AGRIFRPP")?;
    let mut venues = Vec::with_capacity(args.run_venues);
    for n in 0..args.run_venues {
        let v = store
            .create_venue(
                &NewVenue {
                    siret: siret_for(tag, n)?,
                    name: format!("Lieu {n}"),
                    commune: InseeCode::parse("69123")?,
                    status: VenueStatus::Qualified,
                    qualified_until: None,
                    address: String::new(),
                    contact: String::new(),
                    services: vec![],
                },
                long_ago,
            )
            .await?;
        let a = store
            .set_bank_account(v.id, &iban, &bic, &format!("Lieu {n}"), long_ago)
            .await?;
        store.confirm_bank_account(v.id, a.id, long_ago).await?;
        venues.push(v.id);
    }
    let codes = Arc::new(order_codes(store, order.id, args.run_cheques).await?);
    redeem_all(
        store,
        codes,
        Arc::new(venues),
        args.concurrency,
        Some(long_ago),
    )
    .await?;
    let setup_s = setup.elapsed().as_secs_f64();
    if args.run_analyze {
        store.analyze().await?;
    }
    let fee = FeeRate::from_basis_points(400)?;
    let t = Instant::now();
    let run = store
        .create_payment_run(today - time::Duration::days(1), fee, at)
        .await?;
    let prepared = t.elapsed().as_secs_f64();
    store.confirm_payment_run(run.id, at).await?;
    let confirmed = t.elapsed().as_secs_f64();
    let dir = tempfile::tempdir()?;
    let debtor = passnum_core::sepa::Debtor {
        name: "Operateur".into(),
        iban: iban.clone(),
        bic: bic.clone(),
    };
    crate::payments::export(store, run.id, dir.path(), &debtor, today, false).await?;
    let total = t.elapsed().as_secs_f64();
    let files = std::fs::read_dir(dir.path())?.count();
    println!(
        "| payment run | {:?} | {} cheques, {} venues | 1 | {total:.2} s | prepare {prepared:.2} s, confirm {:.2} s, SEPA + {} statements {:.2} s (set-up {setup_s:.1} s) |",
        store.engine(),
        run.cheques,
        args.run_venues,
        confirmed - prepared,
        files - 1,
        total - confirmed
    );
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

/// Prints every booklet of a fresh order (`print_booklets` × 10 signed QR codes), one file
/// per booklet, then as merged volumes of 250 booklets.
async fn bench_print(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let at = now();
    let funder = store
        .create_funder(&format!("Banc d'impression {tag}"), "autre", at)
        .await?;
    let today = passnum_core::paris::local_date(at);
    let order = store
        .create_order(funder.id, &order_of(args.print_booklets, today)?, at)
        .await?;
    let key = passnum_core::signature::generate_key(&mut rand::rng());
    store.register_signing_key(&key.verifying_key(), at).await?;
    let dir = tempfile::tempdir()?;
    for merged in [false, true] {
        let out = dir.path().join(if merged { "fusion" } else { "carnets" });
        let print_args = crate::orders::PrintArgs {
            order: order.id.0,
            out: out.clone(),
            merged,
            per_file: 250,
            letter_template: None,
            public_url: "https://pass.example.fr".into(),
            quiet: true,
        };
        let (n, took) = crate::orders::print(store, key.clone(), &print_args).await?;
        let bytes: u64 = std::fs::read_dir(&out)?
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "| print {} | {:?} | {n} booklets ({} QR codes) | {} cores | {:.2} s | {:.0} booklets/s, {} MB of PDF, peak RSS so far {} |",
            if merged {
                "merged (volumes of 250)"
            } else {
                "one file per booklet"
            },
            store.engine(),
            n * 10,
            std::thread::available_parallelism().map_or(1, |c| c.get()),
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            bytes / 1_000_000,
            peak_rss_mb(),
        );
    }
    Ok(())
}

/// Shares `allocation_booklets` booklets among `allocation_distributors` distributors with a
/// key (a fixed part, the embedded commune population and a second figure), then writes it.
async fn bench_allocation(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    use passnum_core::allocation::{AllocationKey, Criterion, StructureShare};
    let at = now();
    let funder = store
        .create_funder(&format!("Banc de répartition {tag}"), "autre", at)
        .await?;
    let today = passnum_core::paris::local_date(at);
    let mut request = order_of(args.allocation_booklets, today)?;
    // One cheque per booklet: the measure is about booklets, not codes.
    request.cheques_per_booklet = 1;
    let order = store
        .create_order(funder.id, &fix_total(request)?, at)
        .await?;
    // Communes of the embedded list, to weigh by real populations.
    let communes: Vec<_> = passnum_core::commune::communes()
        .iter()
        .filter(|c| c.population > 0)
        .take(args.allocation_distributors)
        .map(|c| (c.insee, c.population))
        .collect();
    let mut structures = Vec::with_capacity(communes.len());
    for (i, (insee, population)) in communes.iter().enumerate() {
        let d = store
            .create_distributor(
                &format!("Structure {i}"),
                "ccas",
                &InseeCode::parse(insee)?,
                at,
            )
            .await?;
        structures.push(StructureShare {
            id: d.id.0,
            fixed: 10,
            values: vec![*population, (i as i64 * 7919) % 5000],
        });
    }
    let key = AllocationKey {
        criteria: vec![
            Criterion {
                name: "population".into(),
                weight: 70,
            },
            Criterion {
                name: "qpv".into(),
                weight: 30,
            },
        ],
        structures,
    };
    let mut computes = vec![];
    let mut shares = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        shares = key.allocate(args.allocation_booklets)?;
        computes.push(t.elapsed());
    }
    let t = Instant::now();
    let typed: Vec<(passnum_store::DistributorId, i64)> = shares
        .iter()
        .map(|(d, n)| (passnum_store::DistributorId(*d), *n))
        .collect();
    store.allocate_booklets(order.id, &typed, now()).await?;
    let commit = t.elapsed();
    anyhow::ensure!(store.unallocated_booklets(order.id).await? == 0);
    println!(
        "| allocation | {:?} | {} booklets, {} distributors | 1 | {:.3} s | key computed in {:.2} ms (median of 5), written in {:.3} s |",
        store.engine(),
        args.allocation_booklets,
        typed.len(),
        (median(computes.clone()) + commit).as_secs_f64(),
        median(computes).as_secs_f64() * 1000.0,
        commit.as_secs_f64(),
    );
    Ok(())
}

/// Suggesting venues after a handout, among `orientation_venues` qualified venues spread over
/// the embedded communes, each offering two référentiel categories: the in-memory query alone
/// (1,000 queries from communes all over France, half within the home département's
/// perimeter), loading the directory from the database, and the whole suggestion for a stored
/// handout as the agent's page does it (directory cached, five venue cards read).
async fn bench_orientation(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    use passnum_core::handout::{Handout, HandoutRequest, HandoutRules, HouseholdKey};
    use passnum_core::order::Perimeter;
    use passnum_core::orientation::Directory;
    use std::collections::BTreeSet;

    let at = now();
    let today = passnum_core::paris::local_date(at);
    let mut all: Vec<&passnum_core::commune::Commune> =
        passnum_core::commune::communes().iter().collect();
    all.sort_by_key(|c| c.insee);
    let services = store.list_services().await?;
    let categories: Vec<String> = services
        .iter()
        .map(|s| s.category_code.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let setup = Instant::now();
    let step = (all.len() / args.orientation_venues.max(1)).max(1);
    for n in 0..args.orientation_venues {
        let commune = all[(n * step) % all.len()];
        let offered: Vec<String> = services
            .iter()
            .filter(|s| {
                s.category_code == categories[n % categories.len()]
                    || s.category_code == categories[(n * 7 + 3) % categories.len()]
            })
            .map(|s| s.code.as_str().to_string())
            .collect();
        store
            .create_venue(
                &NewVenue {
                    siret: siret_for(tag, n)?,
                    name: format!("Lieu {n}"),
                    commune: InseeCode::parse(commune.insee)?,
                    status: VenueStatus::Qualified,
                    qualified_until: None,
                    address: format!("{n} rue de la Mairie"),
                    contact: String::new(),
                    services: offered,
                },
                at,
            )
            .await?;
    }
    let setup_s = setup.elapsed().as_secs_f64();

    let t = Instant::now();
    let venues = store.venue_directory(today).await?;
    let read = t.elapsed();
    let t = Instant::now();
    let directory = Directory::new(venues);
    let index = t.elapsed();
    anyhow::ensure!(directory.len() >= args.orientation_venues);

    let mut times = Vec::with_capacity(1000);
    let mut found = 0usize;
    for q in 0..1000usize {
        let home = all[(q * 34 + 11) % all.len()];
        let wanted: BTreeSet<&str> = (0..1 + q % 3)
            .map(|k| categories[(q + k * 4) % categories.len()].as_str())
            .collect();
        let perimeter = if q % 2 == 0 {
            Perimeter::default()
        } else {
            Perimeter {
                communes: BTreeSet::new(),
                departements: [passnum_core::DepartementCode::parse(home.departement)?].into(),
            }
        };
        let from = InseeCode::parse(home.insee)?;
        let t = Instant::now();
        let s = directory.suggest(&from, &wanted, &perimeter, 5);
        times.push(t.elapsed());
        found += s.len();
    }
    println!(
        "| orientation query | in memory | 1,000 queries among {} venues | 1 | median {:.3} ms | p99 {:.3} ms, max {:.3} ms, {:.1} venues found per query |",
        directory.len(),
        median(times.clone()).as_secs_f64() * 1000.0,
        p99(times.clone()).as_secs_f64() * 1000.0,
        times
            .iter()
            .max()
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0,
        found as f64 / 1000.0,
    );
    println!(
        "| orientation directory load | {:?} | {} venues | 1 | {:.1} ms | read {:.1} ms, indexed {:.1} ms (once per 30 s per server) |",
        store.engine(),
        directory.len(),
        (read + index).as_secs_f64() * 1000.0,
        read.as_secs_f64() * 1000.0,
        index.as_secs_f64() * 1000.0,
    );

    // A stored handout, then the suggestion as the agent's page computes it.
    let funder = store
        .create_funder(&format!("Banc d'orientation {tag}"), "autre", at)
        .await?;
    let mut request = order_of(1, today)?;
    request.cheques_per_booklet = 1;
    let order = store
        .create_order(funder.id, &fix_total(request)?, at)
        .await?;
    let lyon = InseeCode::parse("69123")?;
    let d = store
        .create_distributor("Structure d'orientation", "ccas", &lyon, at)
        .await?;
    store.allocate_booklets(order.id, &[(d.id, 1)], at).await?;
    let handout = Handout::parse(
        &HandoutRequest {
            needs: vec!["online_procedures".into(), "job_search".into()],
            equipment: "none".into(),
            level: "never".into(),
            consent: true,
            ..Default::default()
        },
        &HandoutRules::default(),
        &HouseholdKey::generate(),
    )?;
    let record = store
        .hand_out(d.id, None, order.id, 1, &lyon, &handout, at)
        .await?;
    let cache = passnum_app::orientation::DirectoryCache::default();
    passnum_app::orientation::suggest(store, &cache, &record, today).await?;
    let mut full = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let s = passnum_app::orientation::suggest(store, &cache, &record, today).await?;
        full.push(t.elapsed());
        anyhow::ensure!(!s.is_empty());
    }
    println!(
        "| orientation for a handout | {:?} | {} venues | 1 | median {:.2} ms | p99 {:.2} ms, directory cached; set-up (creating the venues) {:.0} s |",
        store.engine(),
        directory.len(),
        median(full.clone()).as_secs_f64() * 1000.0,
        p99(full).as_secs_f64() * 1000.0,
        setup_s,
    );
    Ok(())
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
    })?)
}
