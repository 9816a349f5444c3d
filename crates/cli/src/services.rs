//! `passnum services`: the référentiel of services.

use anyhow::Context;
use clap::Subcommand;
use passnum_core::ServiceCatalog;

use crate::ctx::Ctx;

#[derive(Subcommand)]
pub enum ServicesCommand {
    /// Load or update services from a CSV file in the référentiel format.
    Load { file: std::path::PathBuf },
    /// List the services.
    List,
    /// Write the référentiel as CSV, in the format `load` reads (to the standard output
    /// without --out).
    Export {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

pub async fn run(ctx: &Ctx, command: ServicesCommand) -> anyhow::Result<()> {
    match command {
        ServicesCommand::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("lecture de {}", file.display()))?;
            let catalog = ServiceCatalog::parse_csv(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = ctx.store().await?;
            let n = store.load_services(&catalog, crate::ctx::now()).await?;
            eprintln!("{n} services chargés.");
            Ok(())
        }
        ServicesCommand::Export { out } => {
            let store = ctx.store().await?;
            let catalog = ServiceCatalog {
                services: store.list_services().await?,
            };
            let text = catalog.to_csv();
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("écriture de {}", path.display()))?;
                    eprintln!(
                        "{} services écrits dans {}.",
                        catalog.services.len(),
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        ServicesCommand::List => {
            let store = ctx.store().await?;
            for s in store.list_services().await? {
                println!("{}\t{}\t{}", s.code, s.category_name, s.name);
            }
            Ok(())
        }
    }
}
