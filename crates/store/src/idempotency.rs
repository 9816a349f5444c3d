//! Idempotency keys, claimed in the same transaction as the write they protect.
//!
//! The first request with a key claims it and stores its outcome before commit; a retry finds
//! the stored outcome and gets the same answer without writing anything. On PostgreSQL a
//! concurrent retry on another server waits on the claim's row lock until the first commits.

use std::collections::HashMap;

use sqlx::Any;

use crate::rows::{get_string, value_rows};
use crate::{Engine, StoreError};

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
    stored(tx, k).await
}

/// (actor, key): how a batch names a key.
pub(crate) type KeyName = (String, String);

/// Claims every key of a redemption batch with one statement instead of one per request (a
/// batch of 32 scans with keys made 64 round trips for their keys alone). Keys are inserted in
/// (actor, key) order, the same on every server, so that two batches never wait on each other
/// in a cycle. A key already stored is read back one at a time: only retries have one.
pub(crate) async fn claim_all(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    keys: &[(&IdempotencyKey, i64)],
) -> Result<HashMap<KeyName, Result<Claim, StoreError>>, StoreError> {
    let mut unique: Vec<(&IdempotencyKey, i64)> = Vec::with_capacity(keys.len());
    for &(k, at) in keys {
        if !unique
            .iter()
            .any(|(u, _)| u.actor == k.actor && u.key == k.key)
        {
            unique.push((k, at));
        }
    }
    unique.sort_by(|a, b| (&a.0.actor, &a.0.key).cmp(&(&b.0.actor, &b.0.key)));
    let mut out = HashMap::with_capacity(unique.len());
    if unique.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "INSERT INTO idempotency_keys (actor, idem_key, request_hash, created_at) VALUES {} \
         ON CONFLICT (actor, idem_key) DO NOTHING RETURNING actor, idem_key",
        value_rows(engine, unique.len(), 4)
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for (k, at) in &unique {
        q = q
            .bind(&k.actor)
            .bind(&k.key)
            .bind(&k.request_hash)
            .bind(*at);
    }
    for row in q.fetch_all(&mut *tx).await? {
        out.insert(
            (get_string(&row, "actor")?, get_string(&row, "idem_key")?),
            Ok(Claim::New),
        );
    }
    for (k, _) in unique {
        if let std::collections::hash_map::Entry::Vacant(e) =
            out.entry((k.actor.clone(), k.key.clone()))
        {
            e.insert(stored(tx, k).await);
        }
    }
    Ok(out)
}

/// The outcome stored under a key another request claimed.
async fn stored(tx: &mut sqlx::AnyConnection, k: &IdempotencyKey) -> Result<Claim, StoreError> {
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

/// Stores the outcomes of a batch's keys with one statement.
pub(crate) async fn record_all(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    outcomes: &[(&IdempotencyKey, String)],
) -> Result<(), StoreError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    // `column1`… are the names both engines give the columns of a VALUES list.
    let sql = format!(
        "UPDATE idempotency_keys SET outcome = v.column3 FROM (VALUES {}) AS v \
         WHERE idempotency_keys.actor = v.column1 AND idempotency_keys.idem_key = v.column2",
        value_rows(engine, outcomes.len(), 3)
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for (k, json) in outcomes {
        q = q.bind(&k.actor).bind(&k.key).bind(json.as_str());
    }
    let updated = q.execute(&mut *tx).await?.rows_affected();
    if updated != outcomes.len() as u64 {
        return Err(StoreError::corrupt(
            "clé d'idempotence introuvable à l'enregistrement",
        ));
    }
    Ok(())
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
