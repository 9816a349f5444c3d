//! Growth (issue 18, item 6): the same measures on an empty database and after the books grew
//! to `growth_cheques` cheques, `growth_redeemed` of them redeemed and paid. Each probe has its
//! own funder and order of `growth_probe` cheques, so what it reads and writes is the same size
//! both times: only the rest of the database grew. Status lookups are measured three times: of
//! the probe's own cheques (what venues look up: the cheques in circulation, while the books
//! keep the history), of codes drawn over the whole database (what a lookup of a cheque nobody
//! touched since it was issued costs in an index a hundred times larger), and of such codes
//! again once the database was left idle for `growth_idle_s` (see [`lookups_after_idle`]).

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use super::*;
use passnum_core::payment::FeeRate;
use passnum_store::FigureScope;

/// Venues that redeem and are paid, in every probe and in the fill.
const VENUES: usize = 200;
/// Cheques per order of the fill (100,000 booklets of ten).
const FILL_ORDER: i64 = 1_000_000;
/// Status lookups per probe and per kind, each of a different code, in [`ROUNDS`] rounds.
const LOOKUPS: usize = 10_000;
/// A lookup takes a fifth of a millisecond, so a second of the machine's noise (a checkpoint's
/// sync, another process) lands on thousands of them at once: on the same grown database, the
/// p99 of 10,000 lookups swung from 0.31 to 0.50 ms between two runs a minute apart (pgbench).
/// Each quantile is taken per round, and the median of the rounds' is reported.
const ROUNDS: usize = 5;

/// Codes drawn at random from one order, and its size: a lookup "anywhere" picks an order in
/// proportion to its cheques, then one of its codes not yet looked up.
struct Drawn {
    cheques: i64,
    codes: Vec<ChequeCode>,
}

struct Probe {
    /// Redemptions per second over the probe's cheques, then over their second half only.
    redeemed_per_s: [f64; 2],
    /// The probe's own cheques, then codes over the whole database, then codes over the whole
    /// database after the database was left idle: median and p99 of each.
    lookups_ms: [[f64; 2]; 3],
    run_s: f64,
    marks_s: f64,
    funder_dashboard_ms: f64,
    programme_dashboard_ms: f64,
}

pub(super) async fn bench_growth(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let at = now();
    let long_ago = at.plus_ms(-3 * DAY_MS);
    if let Some(pages_out) = host_pages_out_idle_memory() {
        eprintln!(
            "croissance : DAMON « pageout » {} sur cet hôte",
            if pages_out {
                "actif (la mémoire que personne ne touche depuis une minute retourne sur disque)"
            } else {
                "inactif"
            }
        );
    }
    let venues = Arc::new(paid_venues(store, tag, VENUES, long_ago).await?);
    let mut sample: Vec<Drawn> = vec![];
    // Each probe reads with statistics as production has them (see `probe`).
    let empty = probe(store, args, tag, &venues, &mut sample).await?;
    let started = Instant::now();
    let filled_cheques = fill(store, args, tag, &venues, &mut sample).await?;
    let fill_s = started.elapsed().as_secs_f64();
    let grown = probe(store, args, tag + 1, &venues, &mut sample).await?;
    let engine = store.engine();
    let row = |name: &str, unit: &str, a: f64, b: f64| {
        println!(
            "| growth: {name} | {engine:?} | {} → {} cheques | 1 | {b:.2} {unit} against {a:.2} {unit} | ratio {:.2} (fill {fill_s:.0} s) |",
            args.growth_probe,
            filled_cheques + 2 * args.growth_probe as i64,
            b / a
        );
    };
    for (half, name) in ["redemptions", "redemptions, the probe's second half"]
        .iter()
        .enumerate()
    {
        row(
            name,
            "/s",
            empty.redeemed_per_s[half],
            grown.redeemed_per_s[half],
        );
    }
    let after_idle = format!(
        "drawn over the database after {} s idle",
        args.growth_idle_s
    );
    let kinds = [
        "of the probe's cheques",
        "drawn over the database",
        &after_idle,
    ];
    let measured = if args.growth_idle_s > 0 { 3 } else { 2 };
    for (kind, name) in kinds.iter().enumerate().take(measured) {
        for (q, quantile) in ["median", "p99"].iter().enumerate() {
            row(
                &format!("cheque lookup {name}, {quantile}"),
                "ms",
                empty.lookups_ms[kind][q],
                grown.lookups_ms[kind][q],
            );
        }
    }
    row(
        &format!("payment run of {}", args.growth_probe),
        "s",
        empty.run_s,
        grown.run_s,
    );
    row(
        "payment marks moved after it",
        "s",
        empty.marks_s,
        grown.marks_s,
    );
    row(
        "funder dashboard",
        "ms",
        empty.funder_dashboard_ms,
        grown.funder_dashboard_ms,
    );
    row(
        "programme dashboard",
        "ms",
        empty.programme_dashboard_ms,
        grown.programme_dashboard_ms,
    );
    Ok(())
}

/// One probe: a new funder's order of `growth_probe` cheques redeemed at the storage layer,
/// status lookups (see the module's comment), a payment run of those cheques, and the
/// dashboards' reads.
async fn probe(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
    venues: &Arc<Vec<passnum_core::VenueId>>,
    sample: &mut Vec<Drawn>,
) -> anyhow::Result<Probe> {
    let at = now();
    let (funder, order) = funded_order(
        store,
        &format!("Banc de croissance {tag}"),
        args.growth_probe.div_ceil(10) as i64,
    )
    .await?;
    // Each probe starts from a database at rest (`Store::settle`). Right after the fill,
    // autovacuum works through ten million new cheques for minutes, on one of the machine's
    // cores: the grown probe measured both dashboards twice slower while it ran (BENCHMARKS.md,
    // twenty-second session). And the checkpointer writes the fill's dirty pages back to back
    // (a checkpoint every 20–35 s, as a gigabyte of WAL fills up), where the empty probe ran
    // just after `CREATE DATABASE`'s own checkpoint: the grown probe's slowest lookups of its
    // own cheques were 1.39–1.80 times the empty probe's in three such runs of four, with 128 MB
    // of shared buffers as with 4 GB, and 1.22–1.27 after a checkpoint (BENCHMARKS.md,
    // twenty-fourth session). No statistics on SQLite, whose planner then
    // trusts the indexes. (With the statistics of the empty database loaded by the pooled
    // connections, SQLite kept scanning every booklet for a funder's funnel once the database
    // had grown: 2.3 → 45 ms at ten million cheques.)
    let t = Instant::now();
    store.settle().await?;
    eprintln!(
        "croissance : base au repos en {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let codes = order_codes(store, order, args.growth_probe).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(tag);
    // Three times as many codes drawn as one probe takes (two rounds of lookups drawn over the
    // database), so that the grown probe may still pick from the empty probe's order.
    let per_kind = LOOKUPS.min(codes.len() / 3);
    let own: Vec<ChequeCode> = codes.choose_multiple(&mut rng, per_kind).copied().collect();
    sample.push(Drawn {
        cheques: codes.len() as i64,
        codes: codes
            .choose_multiple(&mut rng, 3 * per_kind)
            .copied()
            .collect(),
    });
    let n = codes.len();
    eprintln!("croissance : {n} chèques à encaisser");
    // Timed by halves as well: every redemption adds an entry to `redemptions_venue` (venue,
    // id), on its venue's last page, so a batch for a hundred venues changes a hundred pages of
    // it, which SQLite's log writes whole. On an empty database that index fits on a few pages
    // at first, which all batches share: the empty probe's first half writes far fewer pages
    // than later redemptions, on an empty database or a grown one (BENCHMARKS.md, twenty-fifth
    // session).
    let mut first = codes;
    let second = first.split_off(n / 2);
    let t = Instant::now();
    redeem_days_ago(store, first, venues, args.concurrency).await?;
    let half = Instant::now();
    redeem_days_ago(store, second, venues, args.concurrency).await?;
    let redeemed_per_s = [
        n as f64 / t.elapsed().as_secs_f64(),
        (n - n / 2) as f64 / half.elapsed().as_secs_f64(),
    ];
    let lookups = lookups(store, &own, sample, &mut rng).await?;

    let t = Instant::now();
    let paid = pay_everything(store).await?;
    let run_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    store.move_payment_marks(now()).await?;
    let marks_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        paid == n as i64,
        "the run paid {paid} cheques instead of the probe's {n}"
    );

    let [funder_times, programme_times] = dashboards(store, funder, at).await?;
    let [own_times, drawn_times] = lookups;
    let idle_times = if args.growth_idle_s > 0 {
        lookups_after_idle(store, own.len(), sample, &mut rng, args.growth_idle_s).await?
    } else {
        vec![]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(Probe {
        redeemed_per_s,
        lookups_ms: [own_times, drawn_times, idle_times]
            .map(|times| [ms(per_round(&times, median)), ms(per_round(&times, p99))]),
        run_s,
        marks_s,
        funder_dashboard_ms: ms(median(funder_times)),
        programme_dashboard_ms: ms(median(programme_times)),
    })
}

/// Twenty reads of each dashboard, the probe's funder's then the whole programme's: each
/// one's times.
async fn dashboards(
    store: &Store,
    funder: passnum_core::FunderId,
    at: passnum_core::Timestamp,
) -> anyhow::Result<[Vec<Duration>; 2]> {
    let spans: Vec<passnum_store::MonthSpan> = passnum_app::activity::last_months(at, 12)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let mut dashboards = [vec![], vec![]];
    for (i, scope) in [FigureScope::funder(funder), FigureScope::All]
        .iter()
        .enumerate()
    {
        let mut parts: [Vec<Duration>; 4] = Default::default();
        for _ in 0..20 {
            let t = Instant::now();
            store.funnel(scope).await?;
            let a = t.elapsed();
            store.figures_have_orders(scope).await?;
            let b = t.elapsed();
            store.monthly_figures(scope, &spans).await?;
            let c = t.elapsed();
            store.funnel_by_structure(scope).await?;
            let d = t.elapsed();
            dashboards[i].push(d);
            for (k, v) in [a, b - a, c - b, d - c].into_iter().enumerate() {
                parts[k].push(v);
            }
        }
        // Which read grows, when one does.
        eprintln!(
            "tableau de bord {}: parcours {:?}, commandes {:?}, mois {:?}, structures {:?}",
            if i == 0 { "commanditaire" } else { "programme" },
            median(parts[0].clone()),
            median(parts[1].clone()),
            median(parts[2].clone()),
            median(parts[3].clone()),
        );
    }
    Ok(dashboards)
}

/// `n` lookups of codes drawn over the database after `idle_s` seconds in which nothing was
/// asked of it. The empty probe's codes come from its own order, issued and scanned a
/// minute before; the grown probe's mostly from the fill's, left alone for minutes. The same
/// idle time gives both probes' pages the same age, so what differs then is the books' size.
/// On a host that takes back memory nobody touches, that is the larger index's leaves gone to
/// disk; on one that keeps it, nothing (BENCHMARKS.md, twenty-fifth and twenty-sixth sessions).
async fn lookups_after_idle(
    store: &Store,
    n: usize,
    sample: &mut [Drawn],
    rng: &mut impl Rng,
    idle_s: u64,
) -> anyhow::Result<Vec<Duration>> {
    eprintln!("croissance : base laissée au repos {idle_s} s");
    tokio::time::sleep(Duration::from_secs(idle_s)).await;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let code = pick(sample, rng).context("plus aucun code tiré à consulter")?;
        times.push(timed_lookup(store, &code).await?);
    }
    Ok(times)
}

/// Whether this host sends memory nobody touches back to disk (a DAMON `pageout` scheme
/// running, as on the virtual machines of BENCHMARKS.md), `None` when it cannot be read (DAMON's
/// files are root's). Lookups drawn over a grown database then read some of their pages from
/// disk, an empty database's do not: printed so that the figures are read for what they are.
fn host_pages_out_idle_memory() -> Option<bool> {
    let dirs = |path: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut pages_out = false;
    for kdamond in dirs(std::path::Path::new("/sys/kernel/mm/damon/admin/kdamonds")) {
        if std::fs::read_to_string(kdamond.join("state")).ok()?.trim() != "on" {
            continue;
        }
        for context in dirs(&kdamond.join("contexts")) {
            pages_out |= dirs(&context.join("schemes")).iter().any(|scheme| {
                std::fs::read_to_string(scheme.join("action")).is_ok_and(|a| a.trim() == "pageout")
            });
        }
    }
    Some(pages_out)
}

/// Grows the books: orders of [`FILL_ORDER`] cheques up to `growth_cheques`, `growth_redeemed`
/// of them redeemed (the same share of each order) and paid by one run. Returns the cheques
/// issued. Progress goes to the standard error.
async fn fill(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
    venues: &Arc<Vec<passnum_core::VenueId>>,
    sample: &mut Vec<Drawn>,
) -> anyhow::Result<i64> {
    let orders = (args.growth_cheques / FILL_ORDER).max(1);
    let per_order_redeemed = (args.growth_redeemed as i64 / orders).min(FILL_ORDER) as usize;
    let started = Instant::now();
    let mut to_redeem = Vec::with_capacity(per_order_redeemed * orders as usize);
    for i in 0..orders {
        let (_, order) =
            funded_order(store, &format!("Remplissage {tag} n° {i}"), FILL_ORDER / 10).await?;
        to_redeem.extend(order_codes(store, order, per_order_redeemed).await?);
        sample.push(Drawn {
            cheques: FILL_ORDER,
            codes: draw(store, order, FILL_ORDER, LOOKUPS, tag + i as u64).await?,
        });
        eprintln!(
            "remplissage : commande {}/{orders} émise ({:.0} s)",
            i + 1,
            started.elapsed().as_secs_f64()
        );
    }
    to_redeem.shuffle(&mut rand::rngs::StdRng::seed_from_u64(tag));
    redeem_days_ago(store, to_redeem, venues, args.concurrency).await?;
    eprintln!(
        "remplissage : {} chèques encaissés ({:.0} s)",
        per_order_redeemed * orders as usize,
        started.elapsed().as_secs_f64()
    );
    let paid = pay_everything(store).await?;
    store.move_payment_marks(now()).await?;
    eprintln!(
        "remplissage : {paid} chèques payés ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(orders * FILL_ORDER)
}

/// Status lookups of each of `own` (the probe's cheques, just redeemed) and of as many codes
/// picked over the whole database, one of each kind in turn so that the machine's noise falls
/// on both alike: their times, in that order.
async fn lookups(
    store: &Store,
    own: &[ChequeCode],
    sample: &mut [Drawn],
    rng: &mut impl Rng,
) -> anyhow::Result<[Vec<Duration>; 2]> {
    let mut times = [Vec::with_capacity(own.len()), Vec::with_capacity(own.len())];
    for code in own {
        let anywhere = pick(sample, rng).context("plus aucun code tiré à consulter")?;
        for (kind, code) in [code, &anywhere].into_iter().enumerate() {
            times[kind].push(timed_lookup(store, code).await?);
        }
    }
    Ok(times)
}

/// One status lookup, as a venue makes it before scanning: how long it took.
async fn timed_lookup(store: &Store, code: &ChequeCode) -> anyhow::Result<Duration> {
    let t = Instant::now();
    store.cheque_status(code, None).await?;
    Ok(t.elapsed())
}

/// The median over [`ROUNDS`] consecutive rounds of a quantile of each round's times.
fn per_round(times: &[Duration], quantile: fn(Vec<Duration>) -> Duration) -> Duration {
    let round = times.len().div_ceil(ROUNDS).max(1);
    median(times.chunks(round).map(|r| quantile(r.to_vec())).collect())
}

/// An order picked in proportion to its cheques among those with drawn codes left, and one of
/// those codes, taken out so that each is looked up once.
fn pick(sample: &mut [Drawn], rng: &mut impl Rng) -> Option<ChequeCode> {
    let total: i64 = sample
        .iter()
        .filter(|d| !d.codes.is_empty())
        .map(|d| d.cheques)
        .sum();
    if total == 0 {
        return None;
    }
    let mut r = rng.random_range(0..total);
    for drawn in sample.iter_mut().filter(|d| !d.codes.is_empty()) {
        if r < drawn.cheques {
            return drawn.codes.pop();
        }
        r -= drawn.cheques;
    }
    None
}

/// A payment run of everything redeemed until yesterday, prepared and confirmed (what the
/// officer waits for); the cheques it paid. The daily job then moves the payment marks.
async fn pay_everything(store: &Store) -> anyhow::Result<i64> {
    let at = now();
    let run = store
        .create_payment_run(
            passnum_core::paris::local_date(at) - time::Duration::days(1),
            FeeRate::from_basis_points(400)?,
            at,
        )
        .await?;
    store.confirm_payment_run(run.id, at).await?;
    Ok(run.cheques)
}

/// `k` codes drawn at random among an order's `n` cheques (their ids are consecutive).
async fn draw(
    store: &Store,
    order: passnum_core::OrderId,
    n: i64,
    k: usize,
    seed: u64,
) -> anyhow::Result<Vec<ChequeCode>> {
    let first = store
        .list_cheques(order, 0, 1)
        .await?
        .first()
        .context("commande sans chèque")?
        .id;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut codes = Vec::with_capacity(k);
    for _ in 0..k {
        let after = first - 1 + rng.random_range(0..n);
        if let Some(c) = store.list_cheques(order, after, 1).await?.first() {
            codes.push(ChequeCode::parse(&c.code)?);
        }
    }
    Ok(codes)
}
