//! The audit trail: who changed what, when and from where, append-only and hash-chained.
//!
//! Each line's hash is SHA-256 over the previous line's hash and the line's own fields, so an
//! altered line breaks its own hash and a removed one breaks the next line's link; the head row
//! (last id and hash) catches lines removed at the end. Appends are serialised by the update
//! of the head row (both engines), which also hands out consecutive ids. Triggers refuse any
//! UPDATE or DELETE (and TRUNCATE on PostgreSQL); someone who can drop them can still rewrite
//! the table, but not without `passnum audit verify` noticing, unless they recompute every hash
//! after the change and the head: keep the verified head hash outside the database (the daily
//! report of `passnum audit verify` prints it).

use passnum_core::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::rows::{get_i64, get_opt_i64, get_string, page_limit};
use crate::{Store, StoreError};

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One action to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// `staff:12`, `token:3f2a9c41d0be` (the start of the token's hash, never the token).
    pub actor: String,
    pub role: String,
    pub org_id: Option<i64>,
    /// The route template and method: `POST /operateur/virements/{id}`.
    pub action: String,
    /// The path as asked: `/operateur/virements/12` (never the query string).
    pub target: String,
    pub status: u16,
    /// The client's address.
    pub client: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub status: i64,
    pub client: String,
    pub hash: String,
}

/// What `verify_audit` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every line links to the one before and matches its hash; the head agrees.
    Intact { lines: i64, head: String },
    /// The first line that does not hold, and why.
    Broken { line: i64, why: String },
}

fn line_hash(prev: &str, id: i64, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    // Fields separated by a byte no field holds (they are checked text or numbers).
    for part in [
        prev,
        &id.to_string(),
        &e.at.unix_ms().to_string(),
        &e.actor,
        &e.role,
        &e.org_id.map(|o| o.to_string()).unwrap_or_default(),
        &e.action,
        &e.target,
        &e.status.to_string(),
        &e.client,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

fn entry(r: &AnyRow) -> Result<(AuditEntry, String), StoreError> {
    Ok((
        AuditEntry {
            id: get_i64(r, "id")?,
            at: Timestamp::from_unix_ms(get_i64(r, "at")?),
            actor: get_string(r, "actor")?,
            role: get_string(r, "role")?,
            org_id: get_opt_i64(r, "org_id")?,
            action: get_string(r, "action")?,
            target: get_string(r, "target")?,
            status: get_i64(r, "status")?,
            client: get_string(r, "client")?,
            hash: get_string(r, "hash")?,
        },
        get_string(r, "prev_hash")?,
    ))
}

const COLUMNS: &str = "id, at, actor, role, org_id, action, target, CAST(status AS BIGINT) AS status, client, prev_hash, hash";

impl Store {
    /// Appends one line, chained to the last.
    pub async fn append_audit(&self, e: &NewAuditEntry) -> Result<i64, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "audit", || self.append_audit_once(e)).await
    }

    async fn append_audit_once(&self, e: &NewAuditEntry) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        // Taking the head row serialises appends: the next one waits, then reads this one.
        let head = sqlx::query(
            "UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id, hash",
        )
        .fetch_one(&mut *tx)
        .await?;
        let (id, prev) = (get_i64(&head, "last_id")?, get_string(&head, "hash")?);
        let hash = line_hash(&prev, id, e);
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, role, org_id, action, target, status, client, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(e.at.unix_ms())
        .bind(e.actor.as_str())
        .bind(e.role.as_str())
        .bind(e.org_id)
        .bind(e.action.as_str())
        .bind(e.target.as_str())
        .bind(i32::from(e.status))
        .bind(e.client.as_str())
        .bind(prev.as_str())
        .bind(hash.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Lines newest first; only one organisation's (`role`, `org`) when given.
    pub async fn audit_entries(
        &self,
        of: Option<(&str, i64)>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let q = match of {
            Some((role, org)) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE role = $1 AND org_id = $2 ORDER BY id DESC LIMIT $3 OFFSET $4"
            )))
            .bind(role.to_string())
            .bind(org),
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE $1 = '' AND $2 = 0 ORDER BY id DESC LIMIT $3 OFFSET $4"
            )))
            .bind(String::new())
            .bind(0i64),
        };
        q.bind(page_limit(limit))
            .bind(offset.max(0))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| entry(r).map(|(e, _)| e))
            .collect()
    }

    /// Reads the whole trail in id order, a page at a time, and checks every link and hash and
    /// the head.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let mut prev = ZERO.to_string();
        let mut expected = 1;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE id >= $1 ORDER BY id LIMIT 10000"
            )))
            .bind(expected)
            .fetch_all(self.pool())
            .await?;
            let n = rows.len();
            for r in &rows {
                let (e, prev_hash) = entry(r)?;
                let broken = |why: &str| AuditVerdict::Broken {
                    line: e.id,
                    why: why.to_string(),
                };
                if e.id != expected {
                    return Ok(AuditVerdict::Broken {
                        line: expected,
                        why: "ligne manquante".into(),
                    });
                }
                if prev_hash != prev {
                    return Ok(broken("ne suit pas la ligne précédente"));
                }
                let again = NewAuditEntry {
                    actor: e.actor.clone(),
                    role: e.role.clone(),
                    org_id: e.org_id,
                    action: e.action.clone(),
                    target: e.target.clone(),
                    status: u16::try_from(e.status).unwrap_or(0),
                    client: e.client.clone(),
                    at: e.at,
                };
                if line_hash(&prev, e.id, &again) != e.hash {
                    return Ok(broken("modifiée après son enregistrement"));
                }
                prev = e.hash;
                expected += 1;
            }
            if n < 10_000 {
                break;
            }
        }
        let head = sqlx::query("SELECT last_id, hash FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let (last, head_hash) = (get_i64(&head, "last_id")?, get_string(&head, "hash")?);
        if last != expected - 1 || head_hash != prev {
            return Ok(AuditVerdict::Broken {
                line: expected,
                why: format!(
                    "les dernières lignes manquent (la tête du journal indique {last} lignes)"
                ),
            });
        }
        Ok(AuditVerdict::Intact {
            lines: last,
            head: prev,
        })
    }
}
