//! `passnum opendata export --out DIR`: the programme's figures as open data (three CSV files
//! with Table Schemas), the qualified venues file, and their `datapackage.json`. Secrecy is
//! checked before anything is written; every file goes in beside under a temporary name and is
//! renamed once all are complete, so a reader never sees half an export.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use passnum_store::{MonthSpan, Store};

use crate::ctx::now;

/// The national venue standard's schema, published with the venues file.
const VENUES_SCHEMA: &str = include_str!("../../../data/standards/mediation-num/schema.json");

#[derive(Subcommand)]
pub enum OpenDataCommand {
    /// Write the export into DIR (created if needed; files of a previous export replaced).
    Export {
        #[arg(long)]
        out: PathBuf,
        /// Months published, the current one included.
        #[arg(long, default_value_t = 24)]
        months: usize,
        /// Who collects the venues' data (the standard's `source` column).
        #[arg(long, default_value = "passnum")]
        source: String,
    },
}

pub async fn run(store: &Store, command: OpenDataCommand) -> anyhow::Result<()> {
    let OpenDataCommand::Export {
        out,
        months,
        source,
    } = command;
    anyhow::ensure!((1..=120).contains(&months), "--months : de 1 à 120 mois");
    let started = std::time::Instant::now();
    let report = export(store, &out, months, &source).await?;
    println!(
        "Données ouvertes écrites dans {} : {} fichiers, {} cases publiées « secret », {} lieux ({:.1} s).",
        out.display(),
        report.0,
        report.1,
        report.2,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The last `n` Paris months, oldest first, with their slugs.
fn spans(n: usize) -> (Vec<MonthSpan>, Vec<String>) {
    passnum_app::activity::last_months(now(), n)
        .into_iter()
        .map(|(m, span)| (span, m.slug()))
        .unzip()
}

/// Writes the export; returns (files, cells hidden, venues).
pub async fn export(
    store: &Store,
    dir: &Path,
    months: usize,
    source: &str,
) -> anyhow::Result<(usize, usize, usize)> {
    let (spans, slugs) = spans(months);
    let counts = store.open_data_counts(&spans, now()).await?;
    // Refused here, before any file exists, if a secret could be recomputed.
    let figures = passnum_app::open_figures::build(&counts, slugs)?;
    let mut venues = Vec::new();
    let venue_report = passnum_app::open_data::export_venues(store, &mut venues, source).await?;
    // The data package wants an RFC 3339 date and time.
    let generated = now()
        .to_offset_datetime()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| now().to_offset_datetime())
        .format(&time::format_description::well_known::Rfc3339)
        .context("date de l'export")?;
    let mut files: Vec<(String, Vec<u8>)> = figures
        .files()
        .into_iter()
        .map(|f| (f.name, f.contents.into_bytes()))
        .collect();
    for (name, schema) in passnum_app::open_figures::schemas() {
        files.push((name, serde_json::to_vec_pretty(&schema)?));
    }
    files.push(("lieux-de-mediation-numerique.csv".into(), venues));
    files.push((
        "lieux-de-mediation-numerique.schema.json".into(),
        VENUES_SCHEMA.as_bytes().to_vec(),
    ));
    files.push((
        "datapackage.json".into(),
        serde_json::to_vec_pretty(&passnum_app::open_figures::datapackage(&generated))?,
    ));
    std::fs::create_dir_all(dir).with_context(|| format!("création de {}", dir.display()))?;
    let partial = |name: &str| dir.join(format!(".{name}.partiel"));
    let written: anyhow::Result<()> = files.iter().try_for_each(|(name, bytes)| {
        std::fs::write(partial(name), bytes).with_context(|| format!("écriture de {name}"))
    });
    if let Err(e) = written {
        for (name, _) in &files {
            let _ = std::fs::remove_file(partial(name));
        }
        return Err(e);
    }
    for (name, _) in &files {
        std::fs::rename(partial(name), dir.join(name))
            .with_context(|| format!("écriture de {name}"))?;
    }
    Ok((files.len(), figures.hidden, venue_report.written))
}
