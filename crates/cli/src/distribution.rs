//! `passnum distributor …`, `passnum allocate`, `passnum transfer`, `passnum distribution`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use passnum_core::allocation::AllocationKey;
use passnum_core::{InseeCode, OrderId};
use passnum_store::{DistributorId, Store};

/// Who decides a move made from the command line: the operator at the server's console.
pub const CLI_SIGNATURE: &str = "ligne de commande (opérateur)";

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
        /// The venue the same organisation runs (a médiathèque that also hosts workshops):
        /// every account of either then has both menus.
        #[arg(long)]
        venue: Option<i64>,
    },
    /// Record that an existing structure and a venue are one organisation.
    Link {
        #[arg(long)]
        distributor: i64,
        #[arg(long)]
        venue: i64,
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
    #[command(flatten)]
    pub key: KeyArgs,
}

/// An allocation key, as `passnum allocate` and `passnum territory allocate|share` read it.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// By key: a CSV `numéro;critère1;critère2…` (one line per structure, or per territory).
    #[arg(long)]
    pub criteria: Option<PathBuf>,
    /// Weights of the CSV's criteria, e.g. "qpv=30,jeunes=10".
    #[arg(long, default_value = "")]
    pub weights: String,
    /// Adds the population of each structure's commune (of each territory's communes) from
    /// the embedded list, with this weight.
    #[arg(long)]
    pub population_weight: Option<i64>,
    /// Booklets every line of the key gets first.
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
            venue,
        } => {
            let commune = InseeCode::parse_known(&commune)?;
            let venue = venue.map(passnum_core::VenueId);
            let d = store
                .create_structure(&name, &kind, &commune, venue, crate::now())
                .await?;
            println!(
                "distributeur n° {} : {} ({})",
                d.id.0, d.name, d.commune_insee
            );
        }
        DistributorCommand::Link { distributor, venue } => {
            let d = store
                .link_structure_to_venue(DistributorId(distributor), passnum_core::VenueId(venue))
                .await?;
            println!(
                "la structure n° {} ({}) est aussi le lieu n° {venue}",
                d.id.0, d.name
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

impl KeyArgs {
    pub fn is_given(&self) -> bool {
        self.criteria.is_some() || self.population_weight.is_some()
    }
}

/// Which key the arguments describe: over every structure, an order's territories, or one
/// territory's structures.
pub enum KeyOver {
    Structures,
    Territories(OrderId),
    StructuresOf(OrderId, passnum_core::TerritoryId),
}

/// The key described by the arguments (the same builders as the funder's pages).
pub async fn key_from_args(
    store: &Store,
    args: &KeyArgs,
    over: KeyOver,
) -> anyhow::Result<AllocationKey> {
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
    use passnum_app::allocation as a;
    let built = match over {
        KeyOver::Structures => a::build_key(store, &input).await?,
        KeyOver::Territories(order) => a::build_territory_key(store, order, &input).await?,
        KeyOver::StructuresOf(order, t) => {
            a::build_territory_structures_key(store, order, t, &input).await?
        }
    };
    built.map_err(|e| match &args.criteria {
        Some(path) => anyhow::anyhow!("{} : {e}", path.display()),
        None => anyhow::anyhow!("{e}"),
    })
}

pub async fn allocate(store: &Store, args: AllocateArgs) -> anyhow::Result<()> {
    let order = OrderId(args.order);
    let now = crate::now();
    if let (Some(to), Some(n)) = (args.to, args.booklets) {
        store
            .allocate_booklets(order, &[(DistributorId(to), n)], CLI_SIGNATURE, now)
            .await?;
        println!("{n} carnets donnés au distributeur n° {to}.");
        return Ok(());
    }
    if !args.key.is_given() {
        bail!(
            "indiquez --to et --booklets (à la main), ou --criteria et/ou --population-weight (par clé)"
        );
    }
    let stock = store.unallocated_booklets(order).await?;
    let key = key_from_args(store, &args.key, KeyOver::Structures).await?;
    let shares = key.allocate(stock)?;
    print_shares("structure", &shares, stock);
    if args.key.commit {
        let shares: Vec<(DistributorId, i64)> = shares
            .into_iter()
            .map(|(d, n)| (DistributorId(d), n))
            .collect();
        store
            .allocate_booklets(order, &shares, CLI_SIGNATURE, now)
            .await?;
        eprintln!("Répartition enregistrée.");
    } else {
        eprintln!("Aperçu seulement : ajoutez --commit pour enregistrer cette répartition.");
    }
    Ok(())
}

/// A previewed share, one line per structure or territory, and the total.
pub fn print_shares(unit: &str, shares: &[(i64, i64)], stock: i64) {
    println!("{unit}\tcarnets");
    for (id, n) in shares {
        println!("{id}\t{n}");
    }
    println!(
        "total\t{} (stock : {stock})",
        shares.iter().map(|(_, n)| n).sum::<i64>()
    );
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

/// Who held how many of the order's booklets at the end of `day` (Paris time).
pub async fn inventory(store: &Store, order: i64, day: &str) -> anyhow::Result<()> {
    let date = time::Date::parse(day, &time::format_description::well_known::Iso8601::DATE)
        .with_context(|| format!("--at : date attendue au format AAAA-MM-JJ, reçu « {day} »"))?;
    let next = date.next_day().context("--at : date hors limites")?;
    let end = passnum_core::paris::from_local(next, time::Time::MIDNIGHT).plus_ms(-1);
    let lines = store.inventory_at(OrderId(order), end).await?;
    if lines.is_empty() {
        println!(
            "La commande n° {order} n'était pas encore émise le {}.",
            passnum_core::paris::format_date(date)
        );
        return Ok(());
    }
    println!(
        "Inventaire de la commande n° {order} au {} à 23 h 59 (heure de Paris)",
        passnum_core::paris::format_date(date)
    );
    println!("détenteur	reçus	confiés	remis	perdus ou volés	en stock	nom");
    for l in lines {
        let who = holder_code(l.holder, "-");
        println!(
            "{who}	{}	{}	{}	{}	{}	{}",
            l.received, l.sent, l.handed_out, l.blocked, l.in_stock, l.name
        );
    }
    Ok(())
}

/// The recorded moves of an order's booklets, oldest first.
pub async fn moves(store: &Store, order: i64) -> anyhow::Result<()> {
    println!("n°	date	de	à	carnets	numéros	décidé par");
    for m in store.allocation_moves(OrderId(order)).await? {
        println!(
            "{}	{}	{}	{}	{}	{}	{}",
            m.id,
            passnum_core::paris::format_moment(m.created_at),
            holder_code(m.from, "stock"),
            holder_code(m.to, "stock"),
            m.booklets,
            m.numbers.as_deref().unwrap_or("-"),
            m.decided_by.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}

/// A holder in the CLI's tables: the funder's stock as `funder`, a territory as `T12`, a
/// structure by its number.
fn holder_code(h: passnum_store::Holder, funder: &str) -> String {
    match h {
        passnum_store::Holder::Funder => funder.to_string(),
        passnum_store::Holder::Territory(t) => format!("T{t}"),
        passnum_store::Holder::Structure(d) => d.to_string(),
    }
}

/// Writes the procès-verbal de remise of one move as PDF.
pub async fn handover(
    store: &Store,
    order: i64,
    move_id: i64,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let pdf = match passnum_app::handover::handover_pdf(store, OrderId(order), move_id).await {
        Err(passnum_app::booklets::PrintError::Store(passnum_store::StoreError::NotFound)) => {
            bail!(
                "la commande n° {order} n'a pas de remise n° {move_id} : voir passnum distribution --order {order} --moves"
            )
        }
        other => other?,
    };
    let path = out.unwrap_or_else(|| PathBuf::from(format!("pv-remise-{order}-{move_id}.pdf")));
    std::fs::write(&path, pdf).with_context(|| format!("écriture de {}", path.display()))?;
    println!("Écrit : {}", path.display());
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
            CLI_SIGNATURE,
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
