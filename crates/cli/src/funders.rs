//! `passnum funders`: the organisations that buy booklets (département, métropole, commune,
//! CAF…). Their staff accounts: `passnum staff create --role funder --for N`.

use clap::Subcommand;
use passnum_store::{FUNDER_KINDS, Funder, Store};

use crate::ctx::now;

#[derive(Subcommand)]
pub enum FunderCommand {
    /// Create a funder.
    Create {
        #[arg(long)]
        name: String,
        /// departement, region, metropole, epci, commune, caf, etat, entreprise, association
        /// or autre.
        #[arg(long, default_value = "autre")]
        kind: String,
    },
    /// List funders with their number, kind and declared budget.
    List,
    /// Record the account a funder's refunds (corrections) are paid to, from its convention;
    /// it replaces the current one.
    Account {
        #[arg(long = "for")]
        funder: i64,
        #[arg(long)]
        iban: String,
        #[arg(long)]
        bic: String,
        #[arg(long)]
        holder: String,
    },
}

fn show(f: &Funder) {
    let budget = f.budget_cents.map_or_else(
        || "budget non déclaré".to_string(),
        |c| format!("budget {}", passnum_core::Money::from_cents(c)),
    );
    println!("{}\t{}\t{}\t{budget}", f.id.0, f.name, f.kind);
}

pub async fn funders(store: &Store, command: FunderCommand) -> anyhow::Result<()> {
    match command {
        FunderCommand::Create { name, kind } => {
            if !FUNDER_KINDS.contains(&kind.as_str()) {
                anyhow::bail!(
                    "type de commanditaire « {kind} » inconnu : choisissez parmi {}",
                    FUNDER_KINDS.join(", ")
                );
            }
            show(&store.create_funder(&name, &kind, now()).await?);
        }
        FunderCommand::Account {
            funder,
            iban,
            bic,
            holder,
        } => {
            let details =
                passnum_core::BankDetails::parse(&iban, &bic, &holder).map_err(|errors| {
                    anyhow::anyhow!(
                        "{}",
                        errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                })?;
            let a = store
                .set_funder_account(passnum_core::FunderId(funder), &details, now())
                .await
                .map_err(|e| match e {
                    passnum_store::StoreError::NotFound => anyhow::anyhow!(
                        "le commanditaire n° {funder} n'existe pas : voyez passnum funders list"
                    ),
                    e => e.into(),
                })?;
            println!(
                "compte de remboursement du commanditaire n° {funder} : {} ({}, {})",
                a.holder, a.iban, a.bic
            );
        }
        FunderCommand::List => {
            let mut offset = 0;
            loop {
                let page = store.list_funders(500, offset).await?;
                page.iter().for_each(show);
                if page.len() < 500 {
                    break;
                }
                offset += 500;
            }
        }
    }
    Ok(())
}
