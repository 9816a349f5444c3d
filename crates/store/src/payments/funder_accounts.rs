//! Funders' refund accounts: where a correction's refund is paid. Recorded by the operator
//! from the funder's convention (a public body's account at the Trésor, usually); a new one
//! replaces the current one and the old ones are kept.

use super::*;

/// A funder's refund account, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunderAccount {
    pub id: i64,
    pub funder_id: FunderId,
    pub iban: Iban,
    pub bic: Bic,
    pub holder: String,
    pub created_at: Timestamp,
    pub superseded_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, funder_id, iban, bic, holder, created_at, superseded_at";

fn funder_account(r: &AnyRow) -> Result<FunderAccount, StoreError> {
    Ok(FunderAccount {
        id: get_i64(r, "id")?,
        funder_id: FunderId(get_i64(r, "funder_id")?),
        iban: iban_of(r)?,
        bic: bic_of(r)?,
        holder: get_string(r, "holder")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        superseded_at: get_opt_i64(r, "superseded_at")?.map(Timestamp::from_unix_ms),
    })
}

impl Store {
    /// Records the account a funder's refunds are paid to; it replaces the current one.
    pub async fn set_funder_account(
        &self,
        funder: FunderId,
        details: &BankDetails,
        now: Timestamp,
    ) -> Result<FunderAccount, StoreError> {
        self.get_funder(funder).await?;
        let row = self
            .replace_account(AccountTable::Funder, funder.0, details, now, COLUMNS)
            .await?;
        funder_account(&row)
    }

    /// A funder's refund accounts, newest first: the first is the current one.
    pub async fn funder_accounts(
        &self,
        funder: FunderId,
    ) -> Result<Vec<FunderAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM funder_bank_accounts WHERE funder_id = $1 ORDER BY id DESC LIMIT 100"
        )))
        .bind(funder.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(funder_account)
        .collect()
    }

    /// The current refund account of each funder that has one.
    pub async fn current_funder_accounts(
        &self,
    ) -> Result<std::collections::HashMap<FunderId, FunderAccount>, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM funder_bank_accounts WHERE superseded_at IS NULL"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(funder_account)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|a| (a.funder_id, a))
        .collect())
    }
}
