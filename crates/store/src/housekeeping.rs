//! Forgetting what is only kept for a while: idempotency keys (one row per redemption request
//! with a key), sign-in attempts, expired sessions and password links, and the diagnostic
//! answers and household fingerprints of handouts without contact for two years
//! (docs/rgpd.md). Run by
//! `passnum jobs run`; deletes in slices so that a large backlog never holds the write lock
//! for long.

use passnum_core::Timestamp;

use crate::{Store, StoreError};

/// Rows deleted per transaction.
const SLICE: i64 = 10_000;

/// How long each kind of row is kept.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// A retry with the same key within this time gets the first answer. Never shorter than
    /// the rollback window plus a day.
    pub idempotency_ms: i64,
    pub sign_in_attempts_ms: i64,
    /// A handout's answers and household fingerprint, after its last contact (the handout or
    /// the booklet's latest redemption).
    pub handout_answers_ms: i64,
}

/// What was forgotten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub idempotency_keys: u64,
    pub sign_in_attempts: u64,
    pub sessions: u64,
    pub password_links: u64,
    pub handout_answers: u64,
    /// E-mails pending for a week, given up.
    pub mail_given_up: u64,
    /// Finished e-mails past their keeping time, deleted.
    pub mail_deleted: u64,
}

impl Store {
    pub async fn housekeeping(
        &self,
        now: Timestamp,
        keep: Retention,
    ) -> Result<Purged, StoreError> {
        let floor = self.options().rollback_window_ms + 24 * 3_600_000;
        let idempotency_before = now.plus_ms(-keep.idempotency_ms.max(floor));
        let (mail_given_up, mail_deleted) = self.tidy_outbox(now).await?;
        Ok(Purged {
            mail_given_up,
            mail_deleted,
            idempotency_keys: self
                .delete_in_slices(
                    match self.engine() {
                        // Keys are written in rowid order: the old ones come first, and a slice
                        // stops at its 10,000th without reading the rest of the table.
                        crate::Engine::Sqlite => {
                            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM \
                             idempotency_keys WHERE created_at < $1 ORDER BY rowid LIMIT $2)"
                        }
                        crate::Engine::Postgres => {
                            "DELETE FROM idempotency_keys WHERE (actor, idem_key) IN \
                             (SELECT actor, idem_key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)"
                        }
                    },
                    idempotency_before,
                )
                .await?,
            sign_in_attempts: self
                .purge_sign_in_attempts(now.plus_ms(-keep.sign_in_attempts_ms))
                .await?,
            sessions: self
                .delete_in_slices(
                    "DELETE FROM sessions WHERE token_hash IN \
                     (SELECT token_hash FROM sessions WHERE expires_at < $1 LIMIT $2)",
                    now,
                )
                .await?,
            password_links: self
                .delete_in_slices(
                    "DELETE FROM password_resets WHERE token_hash IN \
                     (SELECT token_hash FROM password_resets WHERE expires_at < $1 LIMIT $2)",
                    now,
                )
                .await?,
            handout_answers: self
                .erase_handout_answers(now, now.plus_ms(-keep.handout_answers_ms))
                .await?,
        })
    }

    /// Erases the diagnostic answers and household fingerprint of handouts whose last contact
    /// is before `before`; the commune and publics stay for the figures. In slices, oldest first.
    async fn erase_handout_answers(
        &self,
        now: Timestamp,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        // $1 the limit before which a contact is old, $2 the slice, $3 when they are erased.
        self.in_slices(
            "UPDATE handouts SET household_hash = NULL, needs = '', equipment = '', level = '', \
             language_need = 0, disability_need = 0, override_reason = NULL, answers_erased_at = $3 \
             WHERE id IN (SELECT h.id FROM handouts h WHERE h.answers_erased_at IS NULL AND h.handed_out_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM cheques c JOIN redemptions r ON r.cheque_id = c.id \
             WHERE c.booklet_id = h.booklet_id AND r.redeemed_at >= $1) ORDER BY h.handed_out_at LIMIT $2)",
            before,
            Some(now),
        )
        .await
    }

    async fn delete_in_slices(
        &self,
        sql: &'static str,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.in_slices(sql, before, None).await
    }

    /// Runs `sql` (`$1` before, `$2` the slice size, `$3` `stamp` when given) in its own
    /// transaction until a run touches fewer rows than a slice: a large backlog never holds the
    /// write lock for long.
    async fn in_slices(
        &self,
        sql: &'static str,
        before: Timestamp,
        stamp: Option<Timestamp>,
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let mut q = sqlx::query(sql).bind(before.unix_ms()).bind(SLICE);
            if let Some(t) = stamp {
                q = q.bind(t.unix_ms());
            }
            let n = q.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            total += n;
            if n < SLICE as u64 {
                return Ok(total);
            }
        }
    }
}
