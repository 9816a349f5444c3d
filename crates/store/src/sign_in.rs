//! Sign-in attempts, recorded before the password is checked.
//!
//! An attempt is written and committed first, then the client's recent attempts are read back:
//! of any number of parallel attempts, the last to read sees all the others (each committed
//! before reading), so the sign-in policy, deciding on what it reads, lets through no more
//! than its limit, whatever the concurrency and however many servers share the database.

use passnum_core::Timestamp;

use crate::{Store, StoreError};

/// One recent attempt by a client: on the account being signed into, or on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PastAttempt {
    pub on_account: bool,
    pub at: Timestamp,
}

impl Store {
    /// The client's attempts since `since` (`at > since`), oldest first, without recording one.
    ///
    /// Few rows: the policy lets a client write one attempt per delay once past its free
    /// attempts, and a refused attempt writes nothing.
    pub async fn sign_in_attempts(
        &self,
        email: &str,
        client: &str,
        since: Timestamp,
    ) -> Result<Vec<PastAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT CAST(CASE WHEN email = $1 THEN 1 ELSE 0 END AS BIGINT) AS on_account, at \
             FROM sign_in_attempts WHERE client = $2 AND at > $3 ORDER BY at",
        )
        .bind(email.trim().to_lowercase())
        .bind(client)
        .bind(since.unix_ms())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PastAttempt {
                    on_account: crate::rows::get_i64(row, "on_account")? == 1,
                    at: Timestamp::from_unix_ms(crate::rows::get_i64(row, "at")?),
                })
            })
            .collect()
    }

    /// Records an attempt (committed), then reads the client's attempts again, this one
    /// included.
    pub async fn record_sign_in_attempt(
        &self,
        email: &str,
        client: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<Vec<PastAttempt>, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sign_in_attempts (email, client, at) VALUES ($1, $2, $3)")
            .bind(email.trim().to_lowercase())
            .bind(client)
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.sign_in_attempts(email, client, since).await
    }

    /// A successful sign-in clears the client's attempts on that account.
    pub async fn clear_sign_in_attempts(
        &self,
        email: &str,
        client: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_in_attempts WHERE email = $1 AND client = $2")
            .bind(email.trim().to_lowercase())
            .bind(client)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets attempts older than `before`; returns how many.
    pub async fn purge_sign_in_attempts(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM sign_in_attempts WHERE at < $1")
            .bind(before.unix_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
