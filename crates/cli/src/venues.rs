//! `passnum venues`: the qualified venues in the national venue standard.

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
}

pub async fn run(ctx: &Ctx, command: VenuesCommand) -> anyhow::Result<()> {
    match command {
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
