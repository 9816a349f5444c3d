//! Venues' bank details: recorded by the venue, held until the operator confirms them.

use super::*;

impl Store {
    /// Records new bank details for a venue. They replace the current ones at once, and hold
    /// the venue's payments until the operator confirms them.
    /// Records new bank details for a venue (checked by [`BankDetails::parse`]); they hold
    /// the venue's payments until the operator confirms them.
    pub async fn set_bank_account(
        &self,
        venue: VenueId,
        details: &BankDetails,
        now: Timestamp,
    ) -> Result<BankAccount, StoreError> {
        self.get_venue(venue).await?;
        let row = self
            .replace_account(AccountTable::Venue, venue.0, details, now, BANK_COLUMNS)
            .await?;
        bank_account(&row)
    }

    /// Supersedes the owner's current account and records `details` as the new one, in one
    /// transaction (the partial unique index allows one current account per owner).
    pub(super) async fn replace_account(
        &self,
        table: AccountTable,
        owner: i64,
        details: &BankDetails,
        now: Timestamp,
        returning: &str,
    ) -> Result<AnyRow, StoreError> {
        let (table, owner_column) = match table {
            AccountTable::Venue => ("venue_bank_accounts", "venue_id"),
            AccountTable::Funder => ("funder_bank_accounts", "funder_id"),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET superseded_at = $1 WHERE {owner_column} = $2 AND superseded_at IS NULL"
        )))
        .bind(now.unix_ms())
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({owner_column}, iban, bic, holder, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {returning}"
        )))
        .bind(owner)
        .bind(details.iban.as_str())
        .bind(details.bic.as_str())
        .bind(details.holder())
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The operator confirms the venue's current bank details (after checking them by phone
    /// with the venue, for instance). Only the current details can be confirmed.
    pub async fn confirm_bank_account(
        &self,
        venue: VenueId,
        account_id: i64,
        now: Timestamp,
    ) -> Result<BankAccount, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE venue_bank_accounts SET confirmed_at = $1 WHERE id = $2 AND venue_id = $3 AND superseded_at IS NULL \
             AND confirmed_at IS NULL RETURNING {BANK_COLUMNS}"
        )))
        .bind(now.unix_ms())
        .bind(account_id)
        .bind(venue.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(conflict(
                "bank_account_not_confirmable",
                "Ces coordonnées bancaires ne sont pas les coordonnées en attente de ce lieu.",
            ));
        };
        tx.commit().await?;
        bank_account(&row)
    }

    /// The venue's bank details, newest first: the first is the current one.
    pub async fn bank_accounts(&self, venue: VenueId) -> Result<Vec<BankAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM venue_bank_accounts WHERE venue_id = $1 ORDER BY id DESC"
        )))
        .bind(venue.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(bank_account)
        .collect()
    }

    /// Current bank details waiting for the operator's confirmation, oldest first.
    pub async fn pending_bank_accounts(&self) -> Result<Vec<BankAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM venue_bank_accounts WHERE superseded_at IS NULL AND confirmed_at IS NULL ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(bank_account)
        .collect()
    }
}
