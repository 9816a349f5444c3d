//! A payment run over many cheques and venues.

use super::*;

pub(super) const DAY_MS: i64 = 86_400_000;

/// A SIRET unique to (tag, n), valid under Luhn.
pub(super) fn siret_for(tag: u64, n: usize) -> anyhow::Result<Siret> {
    let base = (tag % 10_000) * 100_000 + n as u64;
    (0..100_000)
        .map(|nic| format!("{:09}{:05}", base % 1_000_000_000, nic))
        .find_map(|s| Siret::parse(&s).ok())
        .context("SIRET de test")
}

fn bank(n: usize) -> anyhow::Result<passnum_core::BankDetails> {
    passnum_core::BankDetails::parse(
        "FR7630006000011234567890189",
        "AGRIFRPP",
        &format!("Lieu {n}"),
    )
    .map_err(|e| anyhow::anyhow!("{}", e[0]))
}

/// A qualified venue in Lyon offering every service of the référentiel.
pub(super) async fn qualified_venue(
    store: &Store,
    siret: Siret,
    name: &str,
    at: passnum_core::Timestamp,
) -> anyhow::Result<passnum_store::Venue> {
    Ok(store
        .create_venue(
            &NewVenue {
                siret: siret.into(),
                name: name.into(),
                commune: InseeCode::parse("69123")?,
                status: VenueStatus::Qualified,
                qualified_until: None,
                address: String::new(),
                contact: String::new(),
                services: store.referentiel_codes(),
            },
            at,
        )
        .await?)
}

/// `n` qualified venues with a confirmed bank account: venues a payment run pays.
pub(super) async fn paid_venues(
    store: &Store,
    tag: u64,
    n: usize,
    at: passnum_core::Timestamp,
) -> anyhow::Result<Vec<passnum_core::VenueId>> {
    let mut venues = Vec::with_capacity(n);
    for i in 0..n {
        let v = qualified_venue(store, siret_for(tag, i)?, &format!("Lieu {i}"), at).await?;
        let a = store.set_bank_account(v.id, &bank(i)?, at).await?;
        store.confirm_bank_account(v.id, a.id, at).await?;
        venues.push(v.id);
    }
    Ok(venues)
}

/// A new funder and its issued order of `booklets` booklets, created three days ago and valid
/// from eight days ago: redemptions dated three days ago fall in the next payment run.
pub(super) async fn funded_order(
    store: &Store,
    name: &str,
    booklets: i64,
) -> anyhow::Result<(passnum_core::FunderId, passnum_core::OrderId)> {
    let at = now();
    let long_ago = at.plus_ms(-3 * DAY_MS);
    let today = passnum_core::paris::local_date(at);
    let funder = store.create_funder(name, "autre", long_ago).await?;
    let order = store
        .create_order(
            funder.id,
            &order_of(booklets, today - time::Duration::days(5))?,
            long_ago,
        )
        .await?;
    Ok((funder.id, order.id))
}

/// Redeems `codes` at the venues in turn, dated three days ago, from `concurrency` clients.
pub(super) async fn redeem_days_ago(
    store: &Store,
    codes: Vec<ChequeCode>,
    venues: &Arc<Vec<passnum_core::VenueId>>,
    concurrency: usize,
) -> anyhow::Result<()> {
    let long_ago = now().plus_ms(-3 * DAY_MS);
    let none = Arc::new(vec![]);
    redeem_all(
        store,
        Arc::new(codes),
        venues.clone(),
        concurrency,
        Some(long_ago),
        none,
    )
    .await?;
    Ok(())
}

/// A monthly payment run over `run_cheques` redeemed cheques spread over `run_venues` venues:
/// preparing the run, confirming it, and writing the SEPA file and every statement as CSV.
pub(super) async fn bench_payment_run(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
    use passnum_core::payment::FeeRate;
    let setup = Instant::now();
    let at = now();
    let long_ago = at.plus_ms(-3 * DAY_MS);
    let today = passnum_core::paris::local_date(at);
    let (funder, order) = funded_order(
        store,
        &format!("Banc de paiement {tag}"),
        args.run_cheques.div_ceil(10) as i64,
    )
    .await?;
    let venues = Arc::new(paid_venues(store, tag, args.run_venues, long_ago).await?);
    let codes = order_codes(store, order, args.run_cheques).await?;
    redeem_days_ago(store, codes, &venues, args.concurrency).await?;
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
        iban: bank(0)?.iban,
        bic: bank(0)?.bic,
    };
    crate::payments::export(store, run.id, dir.path(), &debtor, today, false).await?;
    let total = t.elapsed().as_secs_f64();
    let files = std::fs::read_dir(dir.path())?.count();
    // The daily job's part, after the officer has the files: the venues' payment marks pass
    // the cheques just paid (first time for every venue, as after the upgrade).
    let m = Instant::now();
    let moved = store.move_payment_marks(at).await?;
    let marks_s = m.elapsed().as_secs_f64();
    println!(
        "| payment run | {:?} | {} cheques, {} venues | 1 | {total:.2} s | prepare {prepared:.2} s, confirm {:.2} s, SEPA + {} statements {:.2} s (set-up {setup_s:.1} s; then the daily job's marks, {moved} venues: {marks_s:.2} s) |",
        store.engine(),
        run.cheques,
        args.run_venues,
        confirmed - prepared,
        files - 1,
        total - confirmed
    );
    bench_figures(store, funder).await
}

/// The "Chiffres" pages' reads over the same books (the cheques just paid): every view's
/// statements, for the funder and for the whole programme, 20 times each; medians.
async fn bench_figures(store: &Store, funder: passnum_core::FunderId) -> anyhow::Result<()> {
    super::figures::bench_views(store, funder).await
}
