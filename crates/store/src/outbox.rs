//! The outbox of e-mails: each event writes its messages in its own transaction (so a crash
//! loses none), and the mail worker claims, sends and marks them (so a message is sent once;
//! see `app::mail` for the one window where a crash can send one twice, with the same
//! Message-ID).

use passnum_core::Timestamp;
use passnum_core::notice::Notice;
use serde::Serialize;

use crate::rows::{get_i64, get_opt_i64, get_opt_string, get_string};
use crate::{Role, Store, StoreError};

/// A message not sent after this long is given up (the daily job marks it failed): it was
/// about something that no longer matters, or no SMTP server is configured.
pub const GIVE_UP_AFTER_MS: i64 = 7 * 24 * 3_600_000;
/// Sent and failed messages (their kind, recipient and dates, not their content) are kept this
/// long for the operator, then deleted by the daily job.
pub const KEEP_DONE_MS: i64 = 90 * 24 * 3_600_000;

/// A message claimed for sending.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub id: i64,
    pub recipient: String,
    pub notice: Notice,
    /// Attempts including this one.
    pub attempts: i64,
    pub created_at: Timestamp,
}

/// One line of the operator's view of the outbox (no content).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailLine {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub done_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

/// Queues one message to one address, in the caller's transaction. `key` names the event: the
/// same key twice (a job run again) queues nothing more.
pub(crate) async fn queue_mail(
    tx: &mut sqlx::AnyConnection,
    now: Timestamp,
    key: &str,
    to: &str,
    notice: &Notice,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (created_at, dedupe_key, kind, recipient, notice, status, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $1) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(now.unix_ms())
    .bind(key)
    .bind(notice.kind())
    .bind(to)
    .bind(to_json(notice)?)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Queues one message to every active account of an organisation (a funder's staff, a venue's
/// team), in the caller's transaction; one row per account (`key:staff id`).
pub(crate) async fn queue_mail_to_org(
    tx: &mut sqlx::AnyConnection,
    now: Timestamp,
    key: &str,
    role: Role,
    org_id: i64,
    notice: &Notice,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO outbox (created_at, dedupe_key, kind, recipient, notice, status, next_attempt_at) \
         SELECT $1, $2 || ':' || CAST(s.id AS TEXT), $3, s.email, $4, 'pending', $1 FROM staff s \
         WHERE s.role = $5 AND s.org_id = $6 AND s.disabled_at IS NULL ORDER BY s.id \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(now.unix_ms())
    .bind(key)
    .bind(notice.kind())
    .bind(to_json(notice)?)
    .bind(role.as_str())
    .bind(org_id)
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

fn to_json(notice: &Notice) -> Result<String, StoreError> {
    serde_json::to_string(notice).map_err(|e| StoreError::Corrupt(format!("notice: {e}")))
}

/// `$1` the lease's end, `$2` now, `$3` the batch. The conditions are repeated outside the
/// subquery so that a row changed meanwhile is re-checked.
const CLAIM_SQLITE: &str = "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
     AND (lease_until IS NULL OR lease_until <= $2) ORDER BY id LIMIT $3) \
     AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
     RETURNING id, recipient, notice, attempts, created_at";
const CLAIM_POSTGRES: &str = "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
     AND (lease_until IS NULL OR lease_until <= $2) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
     AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
     RETURNING id, recipient, notice, attempts, created_at";

impl Store {
    /// Claims up to `limit` messages due at `now` for `lease_ms`: another server (or this one
    /// after a crash) takes them again only once the lease has passed.
    pub async fn claim_due_mail(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutgoingMail>, StoreError> {
        // Servers claim at the same moment: retried on a serialization failure
        // (SERIALIZABLE, issue 18; `SKIP LOCKED` may still meet a row another server just took).
        crate::retry::retrying(&self.inner.telemetry, "mail_claim", || {
            self.claim_due_mail_once(now, lease_ms, limit)
        })
        .await
    }

    async fn claim_due_mail_once(
        &self,
        now: Timestamp,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutgoingMail>, StoreError> {
        let mut tx = self.begin_write().await?;
        // On PostgreSQL, rows another server is claiming are skipped rather than waited for.
        let sql = match self.engine() {
            crate::Engine::Sqlite => CLAIM_SQLITE,
            crate::Engine::Postgres => CLAIM_POSTGRES,
        };
        let rows = sqlx::query(sql)
            .bind(now.unix_ms() + lease_ms)
            .bind(now.unix_ms())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let notice = serde_json::from_str(&get_string(r, "notice")?)
                .map_err(|e| StoreError::Corrupt(format!("outbox notice: {e}")))?;
            out.push(OutgoingMail {
                id: get_i64(r, "id")?,
                recipient: get_string(r, "recipient")?,
                notice,
                attempts: get_i64(r, "attempts")?,
                created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
            });
        }
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    /// The SMTP server took the message: it is done, its content forgotten.
    pub async fn mark_mail_sent(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.finish_mail(id, now, "sent", None).await
    }

    /// The message cannot be delivered (address refused, given up): done, content forgotten.
    pub async fn mark_mail_failed(
        &self,
        id: i64,
        now: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        self.finish_mail(id, now, "failed", Some(error)).await
    }

    async fn finish_mail(
        &self,
        id: i64,
        now: Timestamp,
        status: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET status = $1, done_at = $2, notice = '{}', lease_until = NULL, \
             last_error = COALESCE($3, last_error) WHERE id = $4 AND status = 'pending'",
        )
        .bind(status)
        .bind(now.unix_ms())
        .bind(error.map(|e| truncate(e, 500)))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The SMTP server could not be reached or asked to come back later: try again at `retry_at`.
    pub async fn retry_mail_later(
        &self,
        id: i64,
        retry_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, lease_until = NULL, last_error = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(retry_at.unix_ms())
        .bind(truncate(error, 500))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        let mut c = OutboxCounts::default();
        for r in &rows {
            let n = get_i64(r, "n")?;
            match get_string(r, "status")?.as_str() {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                _ => c.failed = n,
            }
        }
        Ok(c)
    }

    /// The latest messages, newest first (the operator's page; tests).
    pub async fn outbox_lines(&self, limit: i64) -> Result<Vec<MailLine>, StoreError> {
        sqlx::query(
            "SELECT id, kind, recipient, status, attempts, last_error, created_at, done_at \
             FROM outbox ORDER BY id DESC LIMIT $1",
        )
        .bind(crate::rows::page_limit(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(MailLine {
                id: get_i64(r, "id")?,
                kind: get_string(r, "kind")?,
                recipient: get_string(r, "recipient")?,
                status: get_string(r, "status")?,
                attempts: get_i64(r, "attempts")?,
                last_error: get_opt_string(r, "last_error")?,
                created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
                done_at: get_opt_i64(r, "done_at")?.map(Timestamp::from_unix_ms),
            })
        })
        .collect()
    }

    /// The daily job: gives up messages pending for more than [`GIVE_UP_AFTER_MS`] and deletes
    /// finished ones older than [`KEEP_DONE_MS`]. Returns (given up, deleted).
    pub(crate) async fn tidy_outbox(&self, now: Timestamp) -> Result<(u64, u64), StoreError> {
        let mut tx = self.begin_write().await?;
        let given_up = sqlx::query(
            "UPDATE outbox SET status = 'failed', done_at = $1, notice = '{}', lease_until = NULL, \
             last_error = 'Abandonné : pas envoyé en 7 jours (serveur SMTP configuré ?)' \
             WHERE status = 'pending' AND created_at < $2",
        )
        .bind(now.unix_ms())
        .bind(now.unix_ms() - GIVE_UP_AFTER_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let deleted = sqlx::query("DELETE FROM outbox WHERE status <> 'pending' AND done_at < $1")
            .bind(now.unix_ms() - KEEP_DONE_MS)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((given_up, deleted))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
