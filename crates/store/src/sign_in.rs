//! Sign-in attempts, recorded before the password is checked.
//!
//! An attempt is written and committed first, then counted: of any number of parallel
//! attempts, only those that see at most the limit go on to the password check, and the last
//! of them to count sees all the others (each committed before counting), so at most `limit`
//! pass, whatever the concurrency and however many servers share the database.

use passnum_core::Timestamp;

use crate::{Store, StoreError};

/// How many attempts one client made within the window: for one account, and for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptCounts {
    pub on_account: i64,
    pub from_client: i64,
}

impl Store {
    /// Counts the client's recent attempts (`at > since`) without recording one.
    pub async fn sign_in_attempts(
        &self,
        email: &str,
        client: &str,
        since: Timestamp,
    ) -> Result<AttemptCounts, StoreError> {
        // One read of the client's recent rows gives both counts.
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS from_client, \
             CAST(COALESCE(SUM(CASE WHEN email = $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_account \
             FROM sign_in_attempts WHERE client = $2 AND at > $3",
        )
        .bind(email.trim().to_lowercase())
        .bind(client)
        .bind(since.unix_ms())
        .fetch_one(self.pool())
        .await?;
        let on_account = crate::rows::get_i64(&row, "on_account")?;
        let from_client = crate::rows::get_i64(&row, "from_client")?;
        Ok(AttemptCounts {
            on_account,
            from_client,
        })
    }

    /// Records an attempt (committed), then counts again, this attempt included.
    pub async fn record_sign_in_attempt(
        &self,
        email: &str,
        client: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<AttemptCounts, StoreError> {
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
