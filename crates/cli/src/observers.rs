//! `passnum observers`: the State's programme team or a territorial hub, and the funders whose
//! figures each one reads. Accounts for their staff: `passnum accounts create --role observer`.

use clap::Subcommand;
use passnum_core::{FunderId, ObserverId};
use passnum_store::{OBSERVER_KINDS, Observer, Store};

use crate::ctx::now;

#[derive(Subcommand)]
pub enum ObserverCommand {
    /// Create an observer.
    Create {
        #[arg(long)]
        name: String,
        /// etat (the programme's State team), hub (a territorial hub) or autre.
        #[arg(long, default_value = "etat")]
        kind: String,
    },
    /// List observers and the funders each one reads.
    List,
    /// Open a funder's figures to an observer.
    Grant {
        #[arg(long)]
        observer: i64,
        #[arg(long)]
        funder: i64,
    },
    /// Close a funder's figures to an observer.
    Revoke {
        #[arg(long)]
        observer: i64,
        #[arg(long)]
        funder: i64,
    },
}

fn show(o: &Observer) {
    let kind = OBSERVER_KINDS
        .iter()
        .find(|(k, _)| *k == o.kind)
        .map_or(o.kind.as_str(), |(_, l)| l);
    let funders: Vec<String> = o
        .funders
        .iter()
        .map(|(id, name)| format!("{name} (n° {})", id.0))
        .collect();
    println!(
        "{}\t{}\t{kind}\t{}",
        o.id.0,
        o.name,
        if funders.is_empty() {
            "aucun commanditaire".to_string()
        } else {
            funders.join(", ")
        }
    );
}

pub async fn observers(store: &Store, command: ObserverCommand) -> anyhow::Result<()> {
    let unknown = |e: passnum_store::StoreError| match e {
        passnum_store::StoreError::NotFound => {
            anyhow::anyhow!(
                "observateur ou commanditaire introuvable : vérifiez les numéros (passnum observers list, passnum funders list)"
            )
        }
        e => e.into(),
    };
    match command {
        ObserverCommand::Create { name, kind } => {
            show(&store.create_observer(&name, &kind, now()).await?);
        }
        ObserverCommand::List => {
            for o in store.list_observers().await? {
                show(&o);
            }
        }
        ObserverCommand::Grant { observer, funder }
        | ObserverCommand::Revoke { observer, funder } => {
            let grant = matches!(command, ObserverCommand::Grant { .. });
            let o = store
                .set_observer_grant(ObserverId(observer), FunderId(funder), grant, now())
                .await
                .map_err(unknown)?;
            show(&o);
        }
    }
    Ok(())
}
