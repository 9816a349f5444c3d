//! Idempotency keys, claimed in the same transaction as the write they protect.
//!
//! The first request with a key claims it and stores its outcome before commit; a retry finds
//! the stored outcome and gets the same answer without writing anything. On PostgreSQL a
//! concurrent retry on another server waits on the claim's row lock until the first commits.

use sqlx::Any;

use crate::StoreError;
use crate::rows::get_string;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Whose key it is: keys of different callers never collide.
    pub actor: String,
    pub key: String,
    /// Hash of the request body: the same key with another body is refused.
    pub request_hash: String,
}

pub(crate) enum Claim {
    New,
    Replay(String),
}

pub(crate) async fn claim(
    tx: &mut sqlx::AnyConnection,
    k: &IdempotencyKey,
    now_ms: i64,
) -> Result<Claim, StoreError> {
    let inserted = sqlx::query::<Any>(
        "INSERT INTO idempotency_keys (actor, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (actor, idem_key) DO NOTHING",
    )
    .bind(&k.actor)
    .bind(&k.key)
    .bind(&k.request_hash)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let row = sqlx::query::<Any>(
        "SELECT request_hash, outcome FROM idempotency_keys WHERE actor = $1 AND idem_key = $2",
    )
    .bind(&k.actor)
    .bind(&k.key)
    .fetch_one(&mut *tx)
    .await?;
    if get_string(&row, "request_hash")? != k.request_hash {
        return Err(StoreError::IdempotencyMismatch);
    }
    let outcome: Option<String> = sqlx::Row::try_get(&row, "outcome")?;
    outcome
        .map(Claim::Replay)
        .ok_or_else(|| StoreError::corrupt("clé d'idempotence sans réponse"))
}

pub(crate) async fn record(
    tx: &mut sqlx::AnyConnection,
    k: &IdempotencyKey,
    outcome_json: &str,
) -> Result<(), StoreError> {
    sqlx::query::<Any>(
        "UPDATE idempotency_keys SET outcome = $1 WHERE actor = $2 AND idem_key = $3",
    )
    .bind(outcome_json)
    .bind(&k.actor)
    .bind(&k.key)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
