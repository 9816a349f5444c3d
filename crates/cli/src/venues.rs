//! `passnum venues`: the qualified venues out in the national venue standard, and places of
//! the standard in, as candidates.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::ctx::Ctx;

#[derive(Subcommand)]
pub enum VenuesCommand {
    /// Write every qualified venue in the national venue standard (schema v1.0.2, CSV, every
    /// column in order). Without --out, the file gets the name the standard recommends
    /// (YYYY-MM-DD_<producer>_lieux-de-mediation-numerique_<territory>.csv) in the current folder.
    Export {
        /// The file to write; `-` writes to the standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Who collects the data (the standard's `source` column): the operator's name.
        #[arg(long, default_value = "passnum")]
        source: String,
        /// SIRET or RNA of the producer, for the file name.
        #[arg(long)]
        producer: Option<String>,
        /// Territory, for the file name ("BordeauxMetropole").
        #[arg(long)]
        territory: Option<String>,
    },
    /// Read a file of the national venue standard (CSV, multi-values separated by | or by ;
    /// in older files, or JSON) and keep its places as candidates, never qualified. Each row
    /// is reported: created, updated (same source and id as before), linked to a venue or
    /// another source's place it duplicates, a link to confirm, or refused with the column
    /// and why. A file that cannot be read writes nothing.
    Import {
        file: PathBuf,
        /// Who produced the file (a place is compared with other sources only); by default
        /// the file's name.
        #[arg(long)]
        source: Option<String>,
        /// Report what would happen, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the report (one line per row) to this file instead of the terminal.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Whether every scan must name a workshop (programmes where venues publish them all).
    /// Without --set, shows the setting.
    WorkshopRequired {
        /// "yes" or "no".
        #[arg(long)]
        set: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, command: VenuesCommand) -> anyhow::Result<()> {
    match command {
        VenuesCommand::WorkshopRequired { set } => {
            let store = ctx.store().await?;
            if let Some(v) = set {
                let required = match v.trim() {
                    "yes" | "oui" => true,
                    "no" | "non" => false,
                    other => anyhow::bail!("--set {other} : indiquez yes ou no."),
                };
                store
                    .set_workshop_required(required, crate::ctx::now())
                    .await?;
            }
            println!(
                "{}",
                if store.workshop_required().await? {
                    "Chaque encaissement doit désigner un atelier."
                } else {
                    "Un encaissement peut se faire sans atelier."
                }
            );
            Ok(())
        }
        VenuesCommand::Import {
            file,
            source,
            dry_run,
            report,
        } => import(ctx, &file, source, dry_run, report).await,
        VenuesCommand::Export {
            out,
            source,
            producer,
            territory,
        } => {
            let store = ctx.store().await?;
            let path = out.unwrap_or_else(|| {
                PathBuf::from(passnum_app::open_data::file_name(
                    passnum_core::paris::local_date(crate::now()),
                    producer.as_deref(),
                    territory.as_deref(),
                ))
            });
            let report = if path.as_os_str() == "-" {
                let stdout = std::io::stdout();
                passnum_app::open_data::export_venues(&store, stdout.lock(), &source).await?
            } else {
                // Written beside, then renamed: a reader never sees half a file.
                let partial = path.with_extension("csv.partiel");
                let file = std::fs::File::create(&partial)
                    .with_context(|| format!("création de {}", partial.display()))?;
                let mut buffered = std::io::BufWriter::new(file);
                let written =
                    passnum_app::open_data::export_venues(&store, &mut buffered, &source).await;
                let report = match written.map_err(anyhow::Error::from).and_then(|r| {
                    buffered.flush()?;
                    Ok(r)
                }) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = std::fs::remove_file(&partial);
                        return Err(e);
                    }
                };
                drop(buffered);
                std::fs::rename(&partial, &path)
                    .with_context(|| format!("écriture de {}", path.display()))?;
                eprintln!("{} lieux écrits dans {}.", report.written, path.display());
                report
            };
            for (id, why) in &report.left_out {
                eprintln!("Lieu n° {id} laissé de côté : {why}.");
            }
            Ok(())
        }
    }
}

async fn import(
    ctx: &Ctx,
    file: &std::path::Path,
    source: Option<String>,
    dry_run: bool,
    report: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    let source = source.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut out: Box<dyn Write> = match &report {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("création de {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut failed_write = None;
    let summary = passnum_app::venue_import::import_venues(
        &store,
        file,
        &source,
        dry_run,
        crate::now(),
        |row| {
            if let Err(e) = writeln!(out, "{}", row.sentence()) {
                failed_write.get_or_insert(e);
            }
        },
    )
    .await;
    out.flush()?;
    if let Some(e) = failed_write {
        return Err(e).context("écriture du rapport");
    }
    let s = summary.map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "{}{} lignes : {} créées, {} mises à jour, {} refusées ; {} reliées à un lieu existant, {} rapprochements à confirmer.",
        if dry_run {
            "Essai, rien n'est écrit. "
        } else {
            ""
        },
        s.rows,
        s.created,
        s.updated,
        s.refused,
        s.linked,
        s.suggested
    );
    Ok(())
}
