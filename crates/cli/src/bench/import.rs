//! Importing a file of the national venue standard with duplicate detection (issue 12's
//! target: 20,000 venues in under 10 s on each engine, memory bounded).

use std::io::Write;
use std::time::Instant;

use passnum_core::commune::communes;
use passnum_core::{InseeCode, VenueStatus};
use passnum_store::{NewVenue, Store};

use super::{BenchArgs, peak_rss_mb, siret_for};
use crate::now;

/// Resets the process's peak resident memory (Linux), so that the next reading is the
/// import's own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub(super) async fn bench_import(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let at = now();
    let mut all: Vec<&passnum_core::commune::Commune> = communes().iter().collect();
    all.sort_by_key(|c| c.insee);
    let towns: Vec<_> = all.iter().step_by((all.len() / 2_000).max(1)).collect();
    // Venues passnum already has, which some rows of the file duplicate.
    let existing = args.import_venues / 10;
    for n in 0..existing {
        let commune = towns[(n * 7919) % towns.len()];
        store
            .create_venue(
                &NewVenue {
                    siret: siret_for(tag, n)?.into(),
                    name: format!("Médiathèque Lieu {n}"),
                    commune: InseeCode::parse(commune.insee)?,
                    status: VenueStatus::Applied,
                    qualified_until: None,
                    address: format!("{n} rue de la Mairie"),
                    contact: String::new(),
                    services: vec![],
                },
                at,
            )
            .await?;
    }
    // The file: one row in ten duplicates a venue (written differently), one in twenty has a
    // bad SIRET, the others are new places of the same towns.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("lieux.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(f, "{}", passnum_core::standard::COLUMNS.join(","))?;
    for n in 0..args.import_venues {
        let (name, town, address) = if n % 10 == 0 && n / 10 < existing {
            let k = n / 10;
            (
                format!("MEDIATHEQUE LIEU {k}"),
                towns[(k * 7919) % towns.len()],
                format!("{k} r. de la Mairie"),
            )
        } else {
            (
                format!("Espace numérique {n}"),
                towns[(n * 104_729) % towns.len()],
                format!("{} avenue {n}", n % 90 + 1),
            )
        };
        let pivot = if n % 20 == 7 {
            "73282932000075".to_string()
        } else {
            String::new()
        };
        let mut cells = vec![String::new(); passnum_core::standard::COLUMNS.len()];
        for (i, c) in passnum_core::standard::COLUMNS.iter().enumerate() {
            cells[i] = match *c {
                "id" => format!("src-{n}"),
                "pivot" => pivot.clone(),
                "nom" => name.clone(),
                "commune" => town.name.to_string(),
                "code_postal" => town
                    .postcodes
                    .first()
                    .copied()
                    .unwrap_or("00000")
                    .to_string(),
                "code_insee" => town.insee.to_string(),
                "adresse" => address.clone(),
                "latitude" => format!("{:.5}", town.position.latitude),
                "longitude" => format!("{:.5}", town.position.longitude),
                "telephone" => "+33478000000".into(),
                "services" => {
                    "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien"
                        .into()
                }
                "modalites_accompagnement" => {
                    "Accompagnement individuel|Dans un atelier collectif".into()
                }
                "date_maj" => "2026-11-30".into(),
                _ => String::new(),
            };
        }
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(&cells)?;
        f.write_all(&w.into_inner()?)?;
    }
    f.flush()?;
    drop(f);
    for (label, dry_run) in [
        ("dry run", true),
        ("first import", false),
        ("same file again (updates)", false),
    ] {
        reset_peak_rss();
        let t = Instant::now();
        let s =
            passnum_app::venue_import::import_venues(store, &path, "bench", dry_run, at, |_| {})
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "| venue import, {label} | {:?} | {} rows, {} venues already known | 1 | {:.2} s | {} created, {} updated, {} refused, {} linked, {} to confirm; peak RSS {} |",
            store.engine(),
            s.rows,
            existing,
            t.elapsed().as_secs_f64(),
            s.created,
            s.updated,
            s.refused,
            s.linked,
            s.suggested,
            peak_rss_mb(),
        );
    }
    Ok(())
}
