use passnum_core::{FunderId, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::rows::{get_i64, get_string, page_limit};
use crate::{Store, StoreError};

/// The names of the organisations by id: funders, venues, distributing structures, observers.
#[derive(Clone, Debug, Default)]
pub struct PartyNames {
    pub funders: std::collections::HashMap<i64, String>,
    pub venues: std::collections::HashMap<i64, String>,
    pub distributors: std::collections::HashMap<i64, String>,
    pub observers: std::collections::HashMap<i64, String>,
}

impl PartyNames {
    /// The name of `id` in one of the lists, or "n° id" for one without a row.
    pub fn of(list: &std::collections::HashMap<i64, String>, id: i64) -> String {
        list.get(&id).cloned().unwrap_or_else(|| format!("n° {id}"))
    }
}

/// Kinds of funders the programme knows; anything else is "autre".
pub const FUNDER_KINDS: &[&str] = &[
    "departement",
    "region",
    "metropole",
    "epci",
    "commune",
    "caf",
    "etat",
    "entreprise",
    "association",
    "autre",
];

/// What a page shows for a funder kind.
pub fn funder_kind_label(kind: &str) -> &'static str {
    match kind {
        "departement" => "Département",
        "region" => "Région",
        "metropole" => "Métropole",
        "epci" => "Intercommunalité (EPCI)",
        "commune" => "Commune",
        "caf" => "Caisse d'allocations familiales",
        "etat" => "État",
        "entreprise" => "Entreprise",
        "association" => "Association",
        _ => "Autre",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Funder {
    pub id: FunderId,
    pub name: String,
    pub kind: String,
    pub created_at: Timestamp,
    /// What the funder declares it may spend on orders; `None`: not declared.
    pub budget_cents: Option<i64>,
}

fn funder(row: &AnyRow) -> Result<Funder, StoreError> {
    Ok(Funder {
        id: FunderId(get_i64(row, "id")?),
        name: get_string(row, "name")?,
        kind: get_string(row, "kind")?,
        created_at: Timestamp::from_unix_ms(get_i64(row, "created_at")?),
        budget_cents: crate::rows::get_opt_i64(row, "budget_cents")?,
    })
}

pub(crate) fn clean_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > passnum_core::text::MAX_NAME_CHARS {
        return Err(StoreError::Invalid {
            code: "invalid_name",
            message: format!(
                "Le nom doit comporter entre 1 et {} caractères.",
                passnum_core::text::MAX_NAME_CHARS
            ),
        });
    }
    Ok(name.to_string())
}

impl Store {
    pub async fn create_funder(
        &self,
        name: &str,
        kind: &str,
        now: Timestamp,
    ) -> Result<Funder, StoreError> {
        let name = clean_name(name)?;
        if !FUNDER_KINDS.contains(&kind) {
            return Err(StoreError::Invalid {
                code: "invalid_funder_kind",
                message: format!(
                    "Type de commanditaire inconnu ; valeurs possibles : {}.",
                    FUNDER_KINDS.join(", ")
                ),
            });
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("INSERT INTO funders (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id, name, kind, created_at, budget_cents")
            .bind(&name)
            .bind(kind)
            .bind(now.unix_ms())
            .fetch_one(&mut *tx)
            .await?;
        let f = funder(&row)?;
        sqlx::query("INSERT INTO accounts (kind, owner_id) VALUES ('funder_held', $1)")
            .bind(f.id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(f)
    }

    pub async fn list_funders(&self, limit: i64, offset: i64) -> Result<Vec<Funder>, StoreError> {
        let mut conn = self.may_lag().await?;
        sqlx::query("SELECT id, name, kind, created_at, budget_cents FROM funders ORDER BY id LIMIT $1 OFFSET $2")
            .bind(page_limit(limit))
            .bind(offset.max(0))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(funder)
            .collect()
    }

    /// Funders whose name contains `query` (any case; all when empty), by id.
    pub async fn search_funders(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Funder>, StoreError> {
        let mut conn = self.may_lag().await?;
        let words = query.trim().to_lowercase();
        sqlx::query(
            "SELECT id, name, kind, created_at, budget_cents FROM funders \
             WHERE $1 = '' OR LOWER(name) LIKE $2 ESCAPE '\\' ORDER BY id LIMIT $3 OFFSET $4",
        )
        .bind(words.as_str())
        .bind(crate::rows::like_pattern(&words))
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(funder)
        .collect()
    }

    /// Every organisation's name by id, for pages that list ledger accounts or staff accounts
    /// (which carry only ids): four narrow reads, whatever the number of lines shown.
    pub async fn party_names(&self) -> Result<PartyNames, StoreError> {
        let read = |sql: &'static str| async move {
            sqlx::query(sql)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| Ok((get_i64(r, "id")?, get_string(r, "name")?)))
                .collect::<Result<std::collections::HashMap<i64, String>, StoreError>>()
        };
        Ok(PartyNames {
            funders: read("SELECT id, name FROM funders").await?,
            venues: read("SELECT id, name FROM venues").await?,
            distributors: read("SELECT id, name FROM distributors").await?,
            observers: read("SELECT id, name FROM observers").await?,
        })
    }

    pub async fn get_funder(&self, id: FunderId) -> Result<Funder, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, kind, created_at, budget_cents FROM funders WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        funder(&row)
    }

    /// Declares (or clears) what a funder may spend. It may not fall below what the funder's
    /// confirmed orders already commit; the funder's row is locked so that no confirmation
    /// slips in between the sum and the write.
    pub async fn set_funder_budget(
        &self,
        id: FunderId,
        budget: Option<passnum_core::Money>,
    ) -> Result<Funder, StoreError> {
        if budget.is_some_and(|b| b.cents() < 0) {
            return Err(StoreError::Invalid {
                code: "invalid_budget",
                message: "Le budget ne peut pas être négatif.".into(),
            });
        }
        let mut tx = self.begin_write().await?;
        lock_budget(&mut tx, self.engine(), id).await?;
        passnum_core::order::check_new_budget(budget, committed(&mut tx, id).await?)
            .map_err(|r| StoreError::refused(&r))?;
        let row = sqlx::query(
            "UPDATE funders SET budget_cents = $1 WHERE id = $2 RETURNING id, name, kind, created_at, budget_cents",
        )
        .bind(budget.map(|b| b.cents()))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let f = funder(&row)?;
        tx.commit().await?;
        Ok(f)
    }
}

/// The funder's declared budget, its row locked until the transaction ends (on SQLite the
/// write transaction already holds the database), so that no order is confirmed and no budget
/// changed in between.
pub(crate) async fn lock_budget(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    engine: crate::Engine,
    funder: FunderId,
) -> Result<Option<passnum_core::Money>, StoreError> {
    let lock = engine.for_update();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT budget_cents FROM funders WHERE id = $1{lock}"
    )))
    .bind(funder.0)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(crate::rows::get_opt_i64(&row, "budget_cents")?.map(passnum_core::Money::from_cents))
}

/// What the funder's confirmed orders (confirmed, paid, issued or closed) commit.
pub(crate) async fn committed(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    funder: FunderId,
) -> Result<passnum_core::Money, StoreError> {
    let cents: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) FROM orders \
         WHERE funder_id = $1 AND status IN ('confirmed', 'paid', 'issued', 'closed')",
    )
    .bind(funder.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(passnum_core::Money::from_cents(cents))
}
