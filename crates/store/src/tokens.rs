//! API tokens: random bearer secrets, stored only as SHA-256 hashes.
//!
//! A token carries 160 random bits, so a fast hash is enough: there is nothing to brute-force
//! that a slow hash (argon2, for passwords) would protect better.

use passnum_core::{FunderId, Timestamp, VenueId};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::distribution::DistributorId;
use crate::rows::{get_i64, get_string};
use crate::{Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Funder,
    Venue,
    /// An agent of a distributing structure (CCAS, mairie…): hands booklets out.
    Distributor,
    /// Staff of an observer (the State's programme team, a territorial hub): reads figures.
    Observer,
    /// The référent territorial of an order's member territory: shares the territory's
    /// booklets among its structures and reads its figures.
    Referent,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "operator" => Self::Operator,
            "funder" => Self::Funder,
            "venue" => Self::Venue,
            "distributor" => Self::Distributor,
            "observer" => Self::Observer,
            "referent" => Self::Referent,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Funder => "funder",
            Self::Venue => "venue",
            Self::Distributor => "distributor",
            Self::Observer => "observer",
            Self::Referent => "referent",
        }
    }
}

/// Who is calling. Every read and write is scoped by this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "role", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Operator,
    Funder(FunderId),
    Venue(VenueId),
    Distributor(DistributorId),
    Observer(passnum_core::ObserverId),
    Referent(passnum_core::TerritoryId),
}

impl Actor {
    pub fn role(self) -> Role {
        match self {
            Self::Operator => Role::Operator,
            Self::Funder(_) => Role::Funder,
            Self::Venue(_) => Role::Venue,
            Self::Distributor(_) => Role::Distributor,
            Self::Observer(_) => Role::Observer,
            Self::Referent(_) => Role::Referent,
        }
    }

    /// The actor a stored (role, organisation id) pair names.
    pub(crate) fn from_parts(role: &str, id: i64) -> Result<Self, StoreError> {
        Ok(match Role::parse(role) {
            Some(Role::Operator) => Actor::Operator,
            Some(Role::Funder) => Actor::Funder(FunderId(id)),
            Some(Role::Venue) => Actor::Venue(VenueId(id)),
            Some(Role::Distributor) => Actor::Distributor(DistributorId(id)),
            Some(Role::Observer) => Actor::Observer(passnum_core::ObserverId(id)),
            Some(Role::Referent) => Actor::Referent(passnum_core::TerritoryId(id)),
            None => return Err(StoreError::corrupt(format!("rôle {role}"))),
        })
    }

    pub fn actor_id(self) -> i64 {
        match self {
            Self::Operator => 0,
            Self::Funder(f) => f.0,
            Self::Venue(v) => v.0,
            Self::Distributor(d) => d.0,
            Self::Observer(o) => o.0,
            Self::Referent(t) => t.0,
        }
    }

    /// Stable text used to scope idempotency keys.
    pub fn key(self) -> String {
        format!("{}:{}", self.role().as_str(), self.actor_id())
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `symbols` random symbols of 5 bits each (lower-case Crockford alphabet), from the
/// thread-local CSPRNG: session, reset and API tokens all come from here.
pub fn random_token(symbols: usize) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut rng = rand::rng();
    (0..symbols)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect()
}

impl Store {
    /// Refuses an actor whose organisation does not exist (not found), before anything is
    /// written for it.
    pub(crate) async fn check_actor_exists(&self, actor: Actor) -> Result<(), StoreError> {
        match actor {
            Actor::Operator => {}
            Actor::Funder(f) => {
                self.get_funder(f).await?;
            }
            Actor::Venue(v) => {
                self.get_venue(v).await?;
            }
            Actor::Distributor(d) => {
                self.get_distributor(d).await?;
            }
            Actor::Observer(o) => {
                self.get_observer(o).await?;
            }
            Actor::Referent(t) => {
                self.order_of_territory(t).await?;
            }
        }
        Ok(())
    }

    /// A référent's territory, checked again in `tx` and on PostgreSQL locked in share mode
    /// until it commits: a withdrawal of the territory (`remove_territory`), which locks it
    /// for update before looking for référents, either waits and then sees the new account
    /// or token, or goes first and this one finds no territory.
    pub(crate) async fn lock_referent_territory(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        actor: Actor,
    ) -> Result<(), StoreError> {
        let Actor::Referent(t) = actor else {
            return Ok(());
        };
        let lock = self.engine().for_share();
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM order_territories WHERE id = $1{lock}"
        )))
        .bind(t.0)
        .fetch_optional(&mut **tx)
        .await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }

    /// Creates a token and returns it in clear, the only time it is ever visible.
    pub async fn create_token(
        &self,
        actor: Actor,
        label: &str,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        self.check_actor_exists(actor).await?;
        let secret = random_token(32);
        let token = format!("pn_{}_{secret}", actor.role().as_str());
        let mut tx = self.begin_write().await?;
        self.lock_referent_territory(&mut tx, actor).await?;
        sqlx::query("INSERT INTO api_tokens (token_hash, role, actor_id, label, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash_token(&token))
            .bind(actor.role().as_str())
            .bind(actor.actor_id())
            .bind(label)
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The actor a token belongs to, if it exists and is not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let row = sqlx::query(
            "SELECT role, actor_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_token(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id = get_i64(&row, "actor_id")?;
        let role = get_string(&row, "role")?;
        Actor::from_parts(&role, id).map(Some)
    }
}

/// An API token as listed for the operator (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub role: Role,
    pub actor_id: i64,
    pub label: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Store {
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        sqlx::query(
            "SELECT id, role, actor_id, label, created_at, revoked_at FROM api_tokens ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let role = get_string(r, "role")?;
            Ok(TokenInfo {
                id: get_i64(r, "id")?,
                role: Role::parse(&role)
                    .ok_or_else(|| StoreError::corrupt(format!("rôle {role}")))?,
                actor_id: get_i64(r, "actor_id")?,
                label: get_string(r, "label")?,
                created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
                revoked_at: crate::rows::get_opt_i64(r, "revoked_at")?.map(Timestamp::from_unix_ms),
            })
        })
        .collect()
    }

    /// Revokes a token. Servers that cached it stop accepting it within their cache delay (30 s).
    pub async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now.unix_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
