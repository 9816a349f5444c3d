//! `passnum token` and `passnum staff`: API tokens and staff accounts of the web pages.

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use passnum_core::{FunderId, VenueId};
use passnum_store::Actor;

use crate::ctx::{Ctx, now};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (it is shown only once).
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Id of the funder, venue, distributing structure, observer or member territory (not for the operator).
        #[arg(long = "for")]
        for_id: Option<i64>,
        /// A note to recognise the token later.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (ids, roles, labels; never the secrets).
    List,
    /// Revoke a token by its id (see `token list`); servers stop accepting it within 30 s.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Create an account and print a one-time link to choose its password (valid 3 days).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Id of the funder, venue, distributing structure, observer or member territory (not for the operator).
        #[arg(long = "for")]
        for_id: Option<i64>,
        /// Address of the server, to print a whole link (default: --public-url).
        #[arg(long)]
        base_url: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Operator,
    Funder,
    Venue,
    /// An agent of a distributing structure (CCAS, mairie…), who hands booklets out.
    Distributor,
    /// Staff of an observer (the State's programme team, a territorial hub): reads the
    /// figures of the funders it is granted (`passnum observers grant`).
    Observer,
    /// The référent territorial of a member territory (`passnum territory list`): shares its
    /// booklets among its structures and reads its figures.
    Referent,
}

fn actor_of(role: RoleArg, for_id: Option<i64>) -> anyhow::Result<Actor> {
    Ok(match (role, for_id) {
        (RoleArg::Operator, None) => Actor::Operator,
        (RoleArg::Operator, Some(_)) => bail!("un compte opérateur ne se rattache à aucun --for"),
        (RoleArg::Funder, Some(id)) => Actor::Funder(FunderId(id)),
        (RoleArg::Venue, Some(id)) => Actor::Venue(VenueId(id)),
        (RoleArg::Distributor, Some(id)) => Actor::Distributor(passnum_store::DistributorId(id)),
        (RoleArg::Observer, Some(id)) => Actor::Observer(passnum_core::ObserverId(id)),
        (RoleArg::Referent, Some(id)) => Actor::Referent(passnum_core::TerritoryId(id)),
        (_, None) => {
            bail!(
                "indiquez --for <id> : le commanditaire, le lieu, la structure ou l'observateur auquel rattacher le compte"
            )
        }
    })
}

/// What to say when `--for` names no organisation of the role.
fn unknown_org(role: RoleArg) -> &'static str {
    match role {
        RoleArg::Funder => "aucun commanditaire n'a ce numéro : vérifiez --for",
        RoleArg::Venue => "aucun lieu n'a ce numéro : vérifiez --for",
        RoleArg::Distributor => {
            "aucune structure de distribution n'a ce numéro : vérifiez --for (passnum distributor list)"
        }
        RoleArg::Observer => {
            "aucun observateur n'a ce numéro : vérifiez --for (passnum observers list)"
        }
        RoleArg::Referent => {
            "aucun territoire membre n'a ce numéro : vérifiez --for (passnum territory list --order N)"
        }
        RoleArg::Operator => "compte opérateur : sans --for",
    }
}

pub async fn token(ctx: &Ctx, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::List => {
            let store = ctx.store().await?;
            for t in store.list_tokens().await? {
                let state = match t.revoked_at {
                    Some(at) => format!("révoqué le {}", passnum_core::paris::format_moment(at)),
                    None => "actif".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.role.as_str(),
                    t.actor_id,
                    t.label
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let store = ctx.store().await?;
            match store.revoke_token(id, now()).await {
                Err(passnum_store::StoreError::NotFound) => {
                    bail!("aucun jeton actif n'a l'identifiant {id}")
                }
                other => other?,
            }
            println!("Jeton {id} révoqué.");
            Ok(())
        }
        TokenCommand::Create {
            role,
            for_id,
            label,
        } => {
            let actor = actor_of(role, for_id)?;
            let store = ctx.store().await?;
            let token = match store.create_token(actor, &label, now()).await {
                Err(passnum_store::StoreError::NotFound) => bail!(unknown_org(role)),
                other => other?,
            };
            println!("{token}");
            Ok(())
        }
    }
}

pub async fn staff(ctx: &Ctx, command: StaffCommand) -> anyhow::Result<()> {
    let StaffCommand::Create {
        email,
        name,
        role,
        for_id,
        base_url,
    } = command;
    let actor = actor_of(role, for_id)?;
    let store = ctx.store().await?;
    let member = match store
        .create_staff(&email, &name, "!aucun-mot-de-passe", actor, now())
        .await
    {
        Err(passnum_store::StoreError::NotFound) => bail!(unknown_org(role)),
        other => other?,
    };
    let token = store
        .create_password_reset(member.id, now(), 72 * 3_600_000)
        .await?;
    let base = base_url.unwrap_or_else(|| ctx.public_url_or_default());
    println!("{}/mot-de-passe/{token}", base.trim_end_matches('/'));
    Ok(())
}
