//! `passnum territory …`: an order's member territories (declare, list, attach a document) and
//! the two stages of an allocation (funder → territories, a territory → its structures).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use passnum_core::application::Document;
use passnum_core::member_territory::NewTerritory;
use passnum_core::{DistributorId, OrderId, TerritoryId};
use passnum_store::{DocumentKind, Store};

use crate::distribution::{CLI_SIGNATURE, KeyArgs, KeyOver, key_from_args, print_shares};

#[derive(Subcommand)]
pub enum TerritoryCommand {
    /// Declare a member territory of an order: a commune, or a group of communes, that joined
    /// by a délibération (and often a convention de mandat).
    Declare {
        #[arg(long)]
        order: i64,
        /// "Commune de Liévin", "Territoire Est".
        #[arg(long)]
        name: String,
        /// INSEE codes of its communes, or SIRENs of intercommunalités (expanded to their
        /// communes), separated by commas.
        #[arg(long)]
        communes: String,
        /// Reference of the délibération by which it joined…
        #[arg(long)]
        deliberation: String,
        /// …and its date (JJ/MM/AAAA or AAAA-MM-JJ).
        #[arg(long)]
        deliberation_date: String,
        /// Reference of the convention de mandat, if signed…
        #[arg(long, default_value = "", requires = "convention_date")]
        convention: String,
        /// …and its date.
        #[arg(long, default_value = "", requires = "convention")]
        convention_date: String,
    },
    /// Record (or correct) a territory's convention de mandat, signed after it joined.
    Convention {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        territory: i64,
        #[arg(long)]
        reference: String,
        /// JJ/MM/AAAA or AAAA-MM-JJ.
        #[arg(long)]
        date: String,
    },
    /// Correct a territory: its name, or its communes (a code typed wrongly, a commune joining
    /// or leaving); a commune where a structure received the territory's booklets stays.
    Amend {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        territory: i64,
        /// Its new name (kept when not given).
        #[arg(long)]
        name: Option<String>,
        /// All its communes: INSEE codes, or SIRENs of intercommunalités, separated by commas
        /// (kept when not given).
        #[arg(long)]
        communes: Option<String>,
        /// Its délibération's reference, typed wrongly at the declaration (kept when not given).
        #[arg(long)]
        deliberation: Option<String>,
        /// Its délibération's date, JJ/MM/AAAA or AAAA-MM-JJ (kept when not given).
        #[arg(long)]
        deliberation_date: Option<String>,
    },
    /// The member territories of an order, with their booklets.
    List {
        #[arg(long)]
        order: i64,
    },
    /// Withdraw a territory declared by mistake: refused once it received booklets or has a
    /// référent. Its communes and documents go with it.
    Remove {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        territory: i64,
    },
    /// Attach a PDF to a territory: its délibération, its convention, another piece.
    Attach {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        territory: i64,
        /// deliberation, convention or autre.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// First stage: share the funder's stock among the member territories by a key (fixed part,
    /// population of their communes, columns of a CSV `territoire;qpv;…`). Preview, then
    /// --commit.
    Allocate {
        #[arg(long)]
        order: i64,
        #[command(flatten)]
        key: KeyArgs,
        /// Both stages at once, decided by the funder: each territory's share goes on at once
        /// to the structures of its communes, by the population of their commune (a territory
        /// without structures keeps its share).
        #[arg(long)]
        then_share: bool,
    },
    /// Second stage: share one territory's booklets among the structures of its communes, by
    /// hand (--to, --booklets) or by key. Preview, then --commit.
    Share {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        territory: i64,
        #[arg(long, requires = "booklets")]
        to: Option<i64>,
        #[arg(long, requires = "to")]
        booklets: Option<i64>,
        #[command(flatten)]
        key: KeyArgs,
    },
}

pub async fn run(store: &Store, cmd: TerritoryCommand) -> anyhow::Result<()> {
    match cmd {
        TerritoryCommand::Declare {
            order,
            name,
            communes,
            deliberation,
            deliberation_date,
            convention,
            convention_date,
        } => {
            let t = NewTerritory::parse(
                &name,
                &communes,
                (&deliberation, &deliberation_date),
                (&convention, &convention_date),
            )?;
            let t = store
                .declare_territory(OrderId(order), &t, CLI_SIGNATURE, crate::now())
                .await?;
            println!(
                "territoire n° {} : {} ({} commune{})",
                t.id,
                t.name,
                t.communes.len(),
                if t.communes.len() > 1 { "s" } else { "" }
            );
        }
        TerritoryCommand::Convention {
            order,
            territory,
            reference,
            date,
        } => {
            let c = passnum_core::member_territory::parse_convention(&reference, &date)?;
            let t = store
                .record_convention(OrderId(order), TerritoryId(territory), &c)
                .await?;
            println!(
                "territoire n° {} : convention {} du {}",
                t.id,
                c.reference,
                passnum_core::paris::format_date(c.date)
            );
        }
        TerritoryCommand::Amend {
            order,
            territory,
            name,
            communes,
            deliberation,
            deliberation_date,
        } => {
            let (order, territory) = (OrderId(order), TerritoryId(territory));
            let now = store.territory(order, territory).await?;
            let amendment = passnum_core::member_territory::TerritoryAmendment::parse(
                name.as_deref().unwrap_or(&now.name),
                &communes.unwrap_or_else(|| now.communes.join(",")),
                (
                    deliberation.as_deref().unwrap_or(&now.deliberation_ref),
                    deliberation_date.as_deref().unwrap_or(&now.deliberation_on),
                ),
            )?;
            let t = store.amend_territory(order, territory, &amendment).await?;
            println!(
                "territoire n° {} « {} » : {} ; délibération {} du {}",
                t.id,
                t.name,
                t.communes.join(", "),
                t.deliberation_ref,
                t.deliberation_on
            );
        }
        TerritoryCommand::List { order } => {
            println!("n°\treçus\ten stock\tdélibération\tconvention\tcommunes\tnom");
            for t in store.territories_of(OrderId(order)).await? {
                println!(
                    "{}\t{}\t{}\t{} du {}\t{}\t{}\t{}",
                    t.id,
                    t.received,
                    t.in_stock,
                    t.deliberation_ref,
                    t.deliberation_on,
                    match (&t.convention_ref, &t.convention_on) {
                        (Some(r), Some(d)) => format!("{r} du {d}"),
                        _ => "-".into(),
                    },
                    t.communes.join(","),
                    t.name
                );
            }
        }
        TerritoryCommand::Remove { order, territory } => {
            store
                .remove_territory(OrderId(order), TerritoryId(territory))
                .await?;
            println!("territoire n° {territory} retiré");
        }
        TerritoryCommand::Attach {
            order,
            territory,
            kind,
            file,
        } => attach(store, order, territory, kind, file).await?,
        TerritoryCommand::Allocate {
            order,
            key,
            then_share,
        } => allocate(store, order, key, then_share).await?,
        TerritoryCommand::Share {
            order,
            territory,
            to,
            booklets,
            key,
        } => share(store, order, territory, to, booklets, key).await?,
    }
    Ok(())
}

async fn attach(
    store: &Store,
    order: i64,
    territory: i64,
    kind: String,
    file: PathBuf,
) -> anyhow::Result<()> {
    let kind = DocumentKind::parse(&kind)
        .with_context(|| format!("--kind : deliberation, convention ou autre, reçu « {kind} »"))?;
    let meta = std::fs::metadata(&file).with_context(|| file.display().to_string())?;
    // Read no more than a document may weigh: a wrong path to a large file fails fast.
    if meta.len() > passnum_core::application::MAX_DOCUMENT_BYTES as u64 {
        anyhow::bail!(
            "{} dépasse 5 Mo : réduisez-le ou découpez-le.",
            file.display()
        );
    }
    let bytes = std::fs::read(&file).with_context(|| file.display().to_string())?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let doc = Document::check(&name, bytes)?;
    let d = store
        .attach_territory_document(
            OrderId(order),
            TerritoryId(territory),
            kind,
            &doc,
            CLI_SIGNATURE,
            crate::now(),
        )
        .await?;
    println!(
        "pièce n° {} : {} ({} octets)",
        d.id, d.file_name, d.size_bytes
    );

    Ok(())
}

async fn allocate(store: &Store, order: i64, key: KeyArgs, then_share: bool) -> anyhow::Result<()> {
    let order = OrderId(order);
    let stock = store.unallocated_booklets(order).await?;
    let k = key_from_args(store, &key, KeyOver::Territories(order)).await?;
    let shares = k.allocate(stock)?;
    print_shares("territoire", &shares, stock);
    let shares: Vec<(TerritoryId, i64)> = shares
        .into_iter()
        .map(|(t, n)| (TerritoryId(t), n))
        .collect();
    let plan = if then_share {
        let onward = passnum_app::allocation::KeyInput {
            criteria_csv: None,
            weights: "",
            population_weight: Some(1),
            fixed: 0,
        };
        let plan = passnum_app::allocation::plan_both_stages(store, order, &shares, &onward)
            .await?
            .map_err(anyhow::Error::msg)?;
        println!("territoire\tstructure\tcarnets");
        for p in &plan {
            for (d, n) in &p.structures {
                println!("{}\t{d}\t{n}", p.territory);
            }
        }
        Some(plan)
    } else {
        None
    };
    if key.commit {
        match plan {
            Some(plan) => {
                store
                    .allocate_both_stages(order, &plan, CLI_SIGNATURE, crate::now())
                    .await?
            }
            None => {
                store
                    .allocate_to_territories(order, &shares, CLI_SIGNATURE, crate::now())
                    .await?
            }
        }
        eprintln!("Répartition entre les territoires enregistrée.");
    } else {
        eprintln!("Aperçu seulement : ajoutez --commit pour enregistrer cette répartition.");
    }

    Ok(())
}

async fn share(
    store: &Store,
    order: i64,
    territory: i64,
    to: Option<i64>,
    booklets: Option<i64>,
    key: KeyArgs,
) -> anyhow::Result<()> {
    let (order, territory) = (OrderId(order), TerritoryId(territory));
    let shares: Vec<(i64, i64)> = match (to, booklets) {
        (Some(to), Some(n)) => vec![(to, n)],
        _ => {
            anyhow::ensure!(
                key.is_given(),
                "indiquez --to et --booklets (à la main), ou --criteria et/ou --population-weight (par clé)"
            );
            let stock = store.territory(order, territory).await?.in_stock;
            let k = key_from_args(store, &key, KeyOver::StructuresOf(order, territory)).await?;
            let shares = k.allocate(stock)?;
            print_shares("structure", &shares, stock);
            shares
        }
    };
    if key.commit || to.is_some() {
        let shares: Vec<(DistributorId, i64)> = shares
            .into_iter()
            .map(|(d, n)| (DistributorId(d), n))
            .collect();
        store
            .allocate_from_territory(order, territory, &shares, CLI_SIGNATURE, crate::now())
            .await?;
        eprintln!("Carnets du territoire n° {territory} répartis.");
    } else {
        eprintln!("Aperçu seulement : ajoutez --commit pour enregistrer cette répartition.");
    }

    Ok(())
}
