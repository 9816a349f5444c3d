//! `passnum observers`: the State's programme team or a territorial hub, and the funders and
//! territories whose figures each one reads. Accounts for their staff: `passnum accounts create --role observer`.

use clap::Subcommand;
use passnum_core::territory::Level;
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
    /// Open a funder's figures, or a territory's orders, to an observer.
    Grant(GrantArgs),
    /// Close a funder's figures, or a territory's orders, to an observer.
    Revoke(GrantArgs),
}

#[derive(clap::Args)]
pub struct GrantArgs {
    #[arg(long)]
    observer: i64,
    /// A funder's number (passnum funders list).
    #[arg(
        long,
        required_unless_present = "territory",
        conflicts_with = "territory"
    )]
    funder: Option<i64>,
    /// A territory as LEVEL:CODE — commune:69123, epci:200046977, departement:69,
    /// region:84: the observer reads every order whose perimeter lies inside it.
    #[arg(long)]
    territory: Option<String>,
}

/// "departement:69" → (level, code), or a sentence saying what is expected.
fn parse_territory(s: &str) -> anyhow::Result<(Level, String)> {
    s.split_once(':')
        .and_then(|(l, c)| Some((Level::parse(l.trim())?, c.trim().to_string())))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "territoire « {s} » illisible : écrivez NIVEAU:CODE, par exemple departement:69, \
                 epci:200046977, commune:69123 ou region:84"
            )
        })
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
    let territories: Vec<String> = o
        .territories
        .iter()
        .map(|(level, code)| format!("{}:{code}", level.slug()))
        .collect();
    println!(
        "{}\t{}\t{kind}\t{}\t{}",
        o.id.0,
        o.name,
        if funders.is_empty() {
            "aucun commanditaire".to_string()
        } else {
            funders.join(", ")
        },
        if territories.is_empty() {
            "aucun territoire".to_string()
        } else {
            territories.join(", ")
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
        ObserverCommand::Grant(ref args) | ObserverCommand::Revoke(ref args) => {
            let grant = matches!(command, ObserverCommand::Grant(_));
            let observer = ObserverId(args.observer);
            let o = match (&args.funder, &args.territory) {
                (Some(funder), _) => {
                    store
                        .set_observer_grant(observer, FunderId(*funder), grant, now())
                        .await
                }
                (None, Some(t)) => {
                    let (level, code) = parse_territory(t)?;
                    store
                        .set_observer_territory(observer, level, &code, grant, now())
                        .await
                }
                (None, None) => anyhow::bail!("donnez --funder N ou --territory NIVEAU:CODE"),
            }
            .map_err(unknown)?;
            show(&o);
        }
    }
    Ok(())
}
