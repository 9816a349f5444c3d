//! `passnum distributor …`, `passnum allocate`, `passnum transfer`, `passnum distribution`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use passnum_core::allocation::AllocationKey;
use passnum_core::{InseeCode, OrderId};
use passnum_store::{DistributorId, Store};

#[derive(Subcommand)]
pub enum DistributorCommand {
    /// Register a distributing structure.
    Create {
        #[arg(long)]
        name: String,
        /// ccas, mairie, mediatheque, france_services, services_sociaux, association, autre.
        #[arg(long)]
        kind: String,
        /// INSEE code of its commune.
        #[arg(long)]
        commune: String,
    },
    List,
}

#[derive(clap::Args)]
pub struct AllocateArgs {
    #[arg(long)]
    pub order: i64,
    /// By hand: the distributor…
    #[arg(long)]
    pub to: Option<i64>,
    /// …and how many booklets.
    #[arg(long)]
    pub booklets: Option<i64>,
    /// By key: a CSV `structure;critère1;critère2…` (one line per distributor).
    #[arg(long)]
    pub criteria: Option<PathBuf>,
    /// Weights of the CSV's criteria, e.g. "qpv=30,jeunes=10".
    #[arg(long, default_value = "")]
    pub weights: String,
    /// Adds the population of each distributor's commune (embedded list) with this weight.
    #[arg(long)]
    pub population_weight: Option<i64>,
    /// Booklets every distributor of the key gets first.
    #[arg(long, default_value_t = 0)]
    pub fixed: i64,
    /// Write the allocation (without it, only the preview is shown).
    #[arg(long)]
    pub commit: bool,
}

pub async fn distributor(store: &Store, cmd: DistributorCommand) -> anyhow::Result<()> {
    match cmd {
        DistributorCommand::Create {
            name,
            kind,
            commune,
        } => {
            let commune = InseeCode::parse_known(&commune)?;
            let d = store
                .create_distributor(&name, &kind, &commune, crate::now())
                .await?;
            println!(
                "distributeur n° {} : {} ({})",
                d.id.0, d.name, d.commune_insee
            );
        }
        DistributorCommand::List => {
            let mut offset = 0;
            loop {
                let page = store.list_distributors(500, offset).await?;
                for d in &page {
                    println!("{}\t{}\t{}\t{}", d.id.0, d.kind, d.commune_insee, d.name);
                }
                if page.len() < 500 {
                    break;
                }
                offset += 500;
            }
        }
    }
    Ok(())
}

/// The key described by the arguments (the same builder as the funder's page).
pub async fn key_from_args(store: &Store, args: &AllocateArgs) -> anyhow::Result<AllocationKey> {
    let text = match &args.criteria {
        Some(path) => {
            Some(std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?)
        }
        None => None,
    };
    let input = passnum_app::allocation::KeyInput {
        criteria_csv: text.as_deref(),
        weights: &args.weights,
        population_weight: args.population_weight,
        fixed: args.fixed,
    };
    passnum_app::allocation::build_key(store, &input)
        .await?
        .map_err(|e| match &args.criteria {
            Some(path) => anyhow::anyhow!("{} : {e}", path.display()),
            None => anyhow::anyhow!("{e}"),
        })
}

pub async fn allocate(store: &Store, args: AllocateArgs) -> anyhow::Result<()> {
    let order = OrderId(args.order);
    let now = crate::now();
    if let (Some(to), Some(n)) = (args.to, args.booklets) {
        store
            .allocate_booklets(order, &[(DistributorId(to), n)], now)
            .await?;
        println!("{n} carnets donnés au distributeur n° {to}.");
        return Ok(());
    }
    if args.criteria.is_none() && args.population_weight.is_none() {
        bail!(
            "indiquez --to et --booklets (à la main), ou --criteria et/ou --population-weight (par clé)"
        );
    }
    let stock = store.unallocated_booklets(order).await?;
    let key = key_from_args(store, &args).await?;
    let shares = key.allocate(stock)?;
    println!("structure\tcarnets");
    for (d, n) in &shares {
        println!("{d}\t{n}");
    }
    println!(
        "total\t{} (stock de la commande : {stock})",
        shares.iter().map(|(_, n)| n).sum::<i64>()
    );
    if args.commit {
        let shares: Vec<(DistributorId, i64)> = shares
            .into_iter()
            .map(|(d, n)| (DistributorId(d), n))
            .collect();
        store.allocate_booklets(order, &shares, now).await?;
        eprintln!("Répartition enregistrée.");
    } else {
        eprintln!("Aperçu seulement : ajoutez --commit pour enregistrer cette répartition.");
    }
    Ok(())
}

pub async fn show(store: &Store, order: i64) -> anyhow::Result<()> {
    let order = OrderId(order);
    println!(
        "stock du commanditaire : {} carnets",
        store.unallocated_booklets(order).await?
    );
    println!("distributeur\tattribués\tremis\ten stock\tnom");
    for d in store.distribution_of(order).await? {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            d.distributor_id.0, d.allocated, d.handed_out, d.in_stock, d.name
        );
    }
    Ok(())
}

/// Moves booklets not yet handed out from one distributor to another.
pub async fn transfer(
    store: &Store,
    order: i64,
    from: i64,
    to: i64,
    booklets: i64,
) -> anyhow::Result<()> {
    store
        .transfer_booklets(
            passnum_core::OrderId(order),
            passnum_store::DistributorId(from),
            passnum_store::DistributorId(to),
            booklets,
            crate::now(),
        )
        .await?;
    eprintln!("{booklets} carnets transférés du distributeur n° {from} au n° {to}.");
    Ok(())
}

/// Declares a booklet lost or stolen: its unused cheques are blocked.
pub async fn block(store: &Store, order: i64, booklet: i64, stolen: bool) -> anyhow::Result<()> {
    let n = store
        .block_booklet(passnum_core::OrderId(order), booklet, stolen, crate::now())
        .await?;
    eprintln!(
        "Carnet n° {booklet} déclaré {} : {n} chèques non utilisés sont bloqués.",
        if stolen { "volé" } else { "perdu" }
    );
    Ok(())
}
