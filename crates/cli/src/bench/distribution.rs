//! Allocation keys and orientation suggestions.

use super::*;

/// Shares `allocation_booklets` booklets among `allocation_distributors` distributors with a
/// key (a fixed part, the embedded commune population and a second figure), then writes it.
pub(super) async fn bench_allocation(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
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
    store
        .allocate_booklets(order.id, &typed, "banc d'essai", now())
        .await?;
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

/// The two stages of a territorial programme (issue 16): `allocation_booklets` booklets shared
/// among `two_stage_territories` member territories by a key (fixed part + population of their
/// communes), then each territory's share among its four structures by its own key, as each
/// referent would do it: one allocation per territory. Keys are built by the same code as the
/// pages (`passnum_app::allocation`), reading the territories and structures from the database.
/// Then the same programme again with both stages decided at once by the funder.
pub(super) async fn bench_two_stage_allocation(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
    let at = now();
    let funder = store
        .create_funder(&format!("Banc territorial {tag}"), "autre", at)
        .await?;
    let today = passnum_core::paris::local_date(at);
    let order = store
        .create_order(funder.id, &fix_total(order_again(args, today)?)?, at)
        .await?;
    let communes = bench_communes(args.two_stage_territories * 4)?;
    let territories = declare_bench_territories(store, order.id, &communes, at).await?;
    for (i, group) in communes.chunks(4).enumerate() {
        for (j, c) in group.iter().enumerate() {
            store
                .create_distributor(
                    &format!("Structure {i}-{j}"),
                    "ccas",
                    &InseeCode::parse(c.insee)?,
                    at,
                )
                .await?;
        }
    }
    let size = format!(
        "{} booklets, {} territories, {} structures",
        args.allocation_booklets,
        territories.len(),
        communes.len()
    );
    stage_by_stage(store, args, order.id, &territories, &size).await?;
    let again = store
        .create_order(funder.id, &fix_total(order_again(args, today)?)?, at)
        .await?;
    declare_bench_territories(store, again.id, &communes, at).await?;
    both_at_once(store, args, again.id, &size).await
}

/// The key both measurements use over the territories: a fixed part of ten booklets and the
/// population of their communes.
const TERRITORY_KEY: passnum_app::allocation::KeyInput<'static> =
    passnum_app::allocation::KeyInput {
        criteria_csv: None,
        weights: "",
        population_weight: Some(100),
        fixed: 10,
    };

/// `n` communes of the embedded list in code order, cities with arrondissements left out (a
/// territory holding a city would also cover structures registered in its arrondissements).
fn bench_communes(n: usize) -> anyhow::Result<Vec<&'static passnum_core::commune::Commune>> {
    let mut communes: Vec<&passnum_core::commune::Commune> = passnum_core::commune::communes()
        .iter()
        .filter(|c| c.population > 0)
        .filter(|c| {
            passnum_core::commune::city_of_arrondissement(c.insee).is_none()
                && passnum_core::commune::arrondissements_of(c.insee).is_empty()
        })
        .collect();
    communes.sort_by_key(|c| c.insee);
    anyhow::ensure!(communes.len() >= n, "pas assez de communes");
    communes.truncate(n);
    Ok(communes)
}

/// One member territory per four communes.
async fn declare_bench_territories(
    store: &Store,
    order: passnum_core::OrderId,
    communes: &[&passnum_core::commune::Commune],
    at: passnum_core::Timestamp,
) -> anyhow::Result<Vec<passnum_core::TerritoryId>> {
    let mut out = Vec::with_capacity(communes.len() / 4);
    for (i, group) in communes.chunks(4).enumerate() {
        let codes: Vec<&str> = group.iter().map(|c| c.insee).collect();
        let t = passnum_core::member_territory::NewTerritory::parse(
            &format!("Territoire {i}"),
            &codes.join(","),
            ("D-1", "2026-01-15"),
            ("", ""),
        )?;
        out.push(
            store
                .declare_territory(order, &t, "banc d'essai", at)
                .await?
                .id,
        );
    }
    Ok(out)
}

/// Stage 1 by the funder, then each territory's referent in turn.
async fn stage_by_stage(
    store: &Store,
    args: &BenchArgs,
    order: passnum_core::OrderId,
    territories: &[passnum_core::TerritoryId],
    size: &str,
) -> anyhow::Result<()> {
    use passnum_app::allocation::{KeyInput, build_territory_key, build_territory_structures_key};
    let t = Instant::now();
    let key = build_territory_key(store, order, &TERRITORY_KEY)
        .await?
        .map_err(anyhow::Error::msg)?;
    let stock = store.unallocated_booklets(order).await?;
    let shares: Vec<(passnum_core::TerritoryId, i64)> = key
        .allocate(stock)?
        .into_iter()
        .map(|(t, n)| (passnum_core::TerritoryId(t), n))
        .collect();
    let keyed = t.elapsed();
    store
        .allocate_to_territories(order, &shares, "banc d'essai", now())
        .await?;
    let first = t.elapsed();
    let onward = KeyInput {
        fixed: 1,
        ..TERRITORY_KEY
    };
    let mut each = Vec::with_capacity(territories.len());
    let t = Instant::now();
    for territory in territories {
        let one = Instant::now();
        let held = store.territory(order, *territory).await?.in_stock;
        let key = build_territory_structures_key(store, order, *territory, &onward)
            .await?
            .map_err(anyhow::Error::msg)?;
        let shares: Vec<(passnum_store::DistributorId, i64)> = key
            .allocate(held)?
            .into_iter()
            .map(|(d, n)| (passnum_store::DistributorId(d), n))
            .collect();
        store
            .allocate_from_territory(order, *territory, &shares, "banc d'essai", now())
            .await?;
        each.push(one.elapsed());
    }
    let second = t.elapsed();
    all_at_structures(store, args, order).await?;
    println!(
        "| two-stage allocation | {:?} | {size} | 1 | {:.3} s | stage 1 {:.3} s (key {:.1} ms); stage 2 {:.3} s in {} allocations, median {:.2} ms each |",
        store.engine(),
        (first + second).as_secs_f64(),
        first.as_secs_f64(),
        keyed.as_secs_f64() * 1000.0,
        second.as_secs_f64(),
        each.len(),
        median(each).as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// Both stages decided by the funder at once: the plan built from the database, then one
/// transaction writing each booklet once.
async fn both_at_once(
    store: &Store,
    args: &BenchArgs,
    order: passnum_core::OrderId,
    size: &str,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let key = passnum_app::allocation::build_territory_key(store, order, &TERRITORY_KEY)
        .await?
        .map_err(anyhow::Error::msg)?;
    let shares: Vec<(passnum_core::TerritoryId, i64)> = key
        .allocate(store.unallocated_booklets(order).await?)?
        .into_iter()
        .map(|(t, n)| (passnum_core::TerritoryId(t), n))
        .collect();
    let onward = passnum_app::allocation::KeyInput {
        fixed: 1,
        ..TERRITORY_KEY
    };
    let plan = passnum_app::allocation::plan_both_stages(store, order, &shares, &onward)
        .await?
        .map_err(anyhow::Error::msg)?;
    let planned = t.elapsed();
    store
        .allocate_both_stages(order, &plan, "banc d'essai", now())
        .await?;
    let at_once = t.elapsed();
    all_at_structures(store, args, order).await?;
    println!(
        "| two-stage allocation, both at once | {:?} | {size} | 1 | {:.3} s | plan {:.1} ms, one transaction {:.3} s |",
        store.engine(),
        at_once.as_secs_f64(),
        planned.as_secs_f64() * 1000.0,
        (at_once - planned).as_secs_f64(),
    );
    Ok(())
}

/// Every booklet of the order reached a structure.
async fn all_at_structures(
    store: &Store,
    args: &BenchArgs,
    order: passnum_core::OrderId,
) -> anyhow::Result<()> {
    anyhow::ensure!(store.unallocated_booklets(order).await? == 0);
    let held: i64 = store
        .distribution_of(order)
        .await?
        .iter()
        .map(|d| d.in_stock)
        .sum();
    anyhow::ensure!(
        held == args.allocation_booklets,
        "{held} carnets aux structures"
    );
    Ok(())
}

/// The order of the two-stage measurement: `allocation_booklets` booklets of one cheque.
fn order_again(args: &BenchArgs, today: time::Date) -> anyhow::Result<NewOrder> {
    let mut request = order_of(args.allocation_booklets, today)?;
    request.cheques_per_booklet = 1;
    Ok(request)
}

/// Suggesting venues after a handout, among `orientation_venues` qualified venues spread over
/// the embedded communes, each offering two référentiel categories: the in-memory query alone
/// (1,000 queries from communes all over France, half within the home département's
/// perimeter), loading the directory from the database, and the whole suggestion for a stored
/// handout as the agent's page does it (directory cached, five venue cards read).
pub(super) async fn bench_orientation(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
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
                    siret: siret_for(tag, n)?.into(),
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
                departements: [passnum_core::DepartementCode::parse(home.departement)?].into(),
                ..Default::default()
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

    bench_suggestion(store, tag, directory.len(), setup_s).await
}

/// A stored handout, then the suggestion as the agent's page computes it (directory cached,
/// five venue cards read).
async fn bench_suggestion(
    store: &Store,
    tag: u64,
    venues: usize,
    setup_s: f64,
) -> anyhow::Result<()> {
    use passnum_core::handout::{Handout, HandoutRequest, HandoutRules, HouseholdKey};

    let at = now();
    let today = passnum_core::paris::local_date(at);
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
    store
        .allocate_booklets(order.id, &[(d.id, 1)], "banc d'essai", at)
        .await?;
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
        venues,
        median(full.clone()).as_secs_f64() * 1000.0,
        p99(full).as_secs_f64() * 1000.0,
        setup_s,
    );
    Ok(())
}
