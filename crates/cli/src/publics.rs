//! `passnum public …`: an order's own publics, next to the seven national ones (add, list,
//! reword, retire).

use clap::Subcommand;
use passnum_core::OrderId;
use passnum_core::own_public::{NewOwnPublic, OwnPublic, OwnPublicId, OwnPublicRequest};
use passnum_store::Store;

use crate::distribution::CLI_SIGNATURE;

#[derive(Subcommand)]
pub enum PublicCommand {
    /// Add a public of the funder's own to an order ("Femmes des communes isolées").
    Add {
        #[arg(long)]
        order: i64,
        #[command(flatten)]
        fields: PublicFields,
    },
    /// Reword a public (its code, and so the handouts that name it, stay).
    Edit {
        #[arg(long)]
        order: i64,
        /// Its number (the N of its code own_N).
        #[arg(long)]
        public: i64,
        #[command(flatten)]
        fields: PublicFields,
    },
    /// Retire a public: no longer offered at handouts nor a target; its handouts keep it.
    Retire {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        public: i64,
    },
    /// The own publics of an order.
    List {
        #[arg(long)]
        order: i64,
    },
}

#[derive(clap::Args)]
pub struct PublicFields {
    #[arg(long)]
    label: String,
    /// Age band in whole years, bounds included: "16-25", "60-" or "-25".
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    age: String,
    /// Who belongs to it, as agents read it under the checkbox.
    #[arg(long, default_value = "")]
    criteria: String,
    /// One of the order's target publics.
    #[arg(long)]
    target: bool,
}

impl PublicFields {
    fn parse(&self) -> anyhow::Result<NewOwnPublic> {
        let (min, max) = self.age.split_once('-').unwrap_or((&self.age, &self.age));
        Ok(NewOwnPublic::parse(&OwnPublicRequest {
            label: self.label.clone(),
            age_min: min.into(),
            age_max: max.into(),
            criteria: self.criteria.clone(),
            target: self.target,
        })?)
    }
}

fn line(p: &OwnPublic) -> String {
    let age = p
        .age
        .map(|a| a.words())
        .unwrap_or_else(|| "tout âge".into());
    let mut flags = vec![];
    if p.target {
        flags.push("public cible");
    }
    if p.retired {
        flags.push("retiré");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    format!("{}\t{}\t{age}{flags}", p.code(), p.label)
}

pub async fn run(store: &Store, cmd: PublicCommand) -> anyhow::Result<()> {
    let now = crate::now();
    match cmd {
        PublicCommand::Add { order, fields } => {
            let p = store
                .add_order_public(OrderId(order), &fields.parse()?, CLI_SIGNATURE, now)
                .await?;
            println!("{}", line(&p));
        }
        PublicCommand::Edit {
            order,
            public,
            fields,
        } => {
            let p = store
                .update_order_public(OrderId(order), OwnPublicId(public), &fields.parse()?)
                .await?;
            println!("{}", line(&p));
        }
        PublicCommand::Retire { order, public } => {
            store
                .retire_order_public(OrderId(order), OwnPublicId(public), now)
                .await?;
            println!("public own_{public} retiré");
        }
        PublicCommand::List { order } => {
            let publics = store.order_publics(OrderId(order)).await?;
            if publics.is_empty() {
                println!("aucun public propre : seuls les sept publics nationaux sont proposés");
            }
            for p in &publics {
                println!("{}", line(p));
            }
        }
    }
    Ok(())
}
