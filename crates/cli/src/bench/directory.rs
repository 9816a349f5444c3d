//! The public directory's search among many qualified venues (issue 12's target: median
//! under 20 ms among 20,000 venues).

use std::time::Instant;

use passnum_core::catalogue::ServiceFormat;
use passnum_core::commune::communes;
use passnum_core::{InseeCode, VenueStatus};
use passnum_store::{DirectorySearch, NewVenue, Store};

use super::{BenchArgs, median, p99, siret_for};
use crate::now;

pub(super) async fn bench_directory(
    store: &Store,
    args: &BenchArgs,
    tag: u64,
) -> anyhow::Result<()> {
    let at = now();
    let today = passnum_core::paris::local_date(at);
    let towns = towns();
    let services = store.list_services().await?;
    let setup = Instant::now();
    for n in 0..args.directory_venues {
        town_venue(store, tag, n, &towns, &services, at).await?;
    }
    let setup_s = setup.elapsed().as_secs_f64();
    let categories = categories(&services);
    let mut times = Vec::with_capacity(400);
    let mut found = 0i64;
    for q in 0..400usize {
        let town = towns[(q * 31 + 5) % towns.len()];
        // What people type: a commune's name, a postcode, or nothing; with or without a
        // category and a format; now and then the second page.
        let place = match q % 3 {
            0 => town.name.to_string(),
            1 => town
                .postcodes
                .first()
                .copied()
                .unwrap_or(town.insee)
                .to_string(),
            _ => String::new(),
        };
        let t = Instant::now();
        let search = DirectorySearch {
            communes: (!place.is_empty()).then(|| {
                communes()
                    .matching(&place)
                    .iter()
                    .map(|c| c.insee.to_string())
                    .collect()
            }),
            category: (q % 2 == 0).then(|| categories[q % categories.len()].clone()),
            format: match q % 4 {
                0 => Some(ServiceFormat::Individual),
                1 => Some(ServiceFormat::Collective),
                _ => None,
            },
        };
        let offset = if q % 5 == 0 { 20 } else { 0 };
        let (total, _) = store.search_directory(&search, today, 20, offset).await?;
        times.push(t.elapsed());
        found += total;
    }
    println!(
        "| directory search | {:?} | 400 searches among {} venues | 1 | median {:.2} ms | p99 {:.2} ms, {:.1} venues matching per search; set-up {:.0} s |",
        store.engine(),
        args.directory_venues,
        median(times.clone()).as_secs_f64() * 1000.0,
        p99(times).as_secs_f64() * 1000.0,
        found as f64 / 400.0,
        setup_s,
    );
    Ok(())
}

/// 2,000 communes spread over France, in code order: where the benches' venues gather.
pub(super) fn towns() -> Vec<&'static passnum_core::commune::Commune> {
    let mut all: Vec<&passnum_core::commune::Commune> = communes().iter().collect();
    all.sort_by_key(|c| c.insee);
    all.into_iter()
        .step_by((communes().len() / 2_000).max(1))
        .collect()
}

/// The n-th qualified venue of a bench: in one of `towns`, offering a sixth of the référentiel
/// (a different sixth from its neighbour). Returns it with the codes it offers.
pub(super) async fn town_venue(
    store: &Store,
    tag: u64,
    n: usize,
    towns: &[&passnum_core::commune::Commune],
    services: &[passnum_core::Service],
    at: passnum_core::Timestamp,
) -> anyhow::Result<(passnum_store::Venue, Vec<String>)> {
    let commune = towns[(n * 7919) % towns.len()];
    let offered: Vec<String> = services
        .iter()
        .enumerate()
        .filter(|(i, _)| (i + n).is_multiple_of(6))
        .map(|(_, s)| s.code.to_string())
        .collect();
    let venue = store
        .create_venue(
            &NewVenue {
                siret: siret_for(tag, n)?.into(),
                name: format!("Lieu {n}"),
                commune: InseeCode::parse(commune.insee)?,
                status: VenueStatus::Qualified,
                qualified_until: None,
                address: format!("{n} rue de la Mairie"),
                contact: String::new(),
                services: offered.clone(),
            },
            at,
        )
        .await?;
    Ok((venue, offered))
}

/// The référentiel's category codes, in order.
pub(super) fn categories(services: &[passnum_core::Service]) -> Vec<String> {
    let mut c: Vec<String> = services.iter().map(|s| s.category_code.clone()).collect();
    c.dedup();
    c
}
