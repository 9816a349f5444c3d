use passnum_core::{InseeCode, Siret, Timestamp, VenueId, VenueStatus, VenueView};
use serde::Serialize;
use sqlx::any::AnyRow;
use time::Date;

use crate::funders::clean_name;
use crate::rows::{date_to_sql, get_i64, get_opt_date, get_string, page_limit};
use crate::{Store, StoreError};

#[derive(Clone, Debug)]
pub struct NewVenue {
    pub siret: Siret,
    pub name: String,
    pub commune: InseeCode,
    pub status: VenueStatus,
    pub qualified_until: Option<Date>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Venue {
    pub id: VenueId,
    pub siret: String,
    pub name: String,
    pub commune_insee: String,
    pub status: VenueStatus,
    pub qualified_until: Option<Date>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, siret, name, commune_insee, status, qualified_until, created_at";

pub(crate) fn venue(row: &AnyRow) -> Result<Venue, StoreError> {
    let status = get_string(row, "status")?;
    Ok(Venue {
        id: VenueId(get_i64(row, "id")?),
        siret: get_string(row, "siret")?,
        name: get_string(row, "name")?,
        commune_insee: get_string(row, "commune_insee")?,
        status: VenueStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("statut {status}")))?,
        qualified_until: get_opt_date(row, "qualified_until")?,
        created_at: Timestamp::from_unix_ms(get_i64(row, "created_at")?),
    })
}

impl Venue {
    pub fn view(&self) -> Result<VenueView, StoreError> {
        Ok(VenueView {
            status: self.status,
            qualified_until: self.qualified_until,
            commune: InseeCode::parse(&self.commune_insee).map_err(StoreError::corrupt)?,
        })
    }
}

fn siret_taken() -> StoreError {
    StoreError::Conflict {
        code: "siret_taken",
        message: "ce SIRET appartient déjà à un lieu : un SIRET ne peut désigner qu'un seul lieu"
            .into(),
    }
}

impl Store {
    pub async fn create_venue(&self, v: &NewVenue, now: Timestamp) -> Result<Venue, StoreError> {
        let name = clean_name(&v.name)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO venues (siret, name, commune_insee, status, qualified_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, siret, name, commune_insee, status, qualified_until, created_at",
        )
        .bind(v.siret.as_str())
        .bind(&name)
        .bind(v.commune.as_str())
        .bind(v.status.as_str())
        .bind(v.qualified_until.map(date_to_sql))
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .map_err(|e| if e.is_unique_violation() { siret_taken() } else { e })?;
        let created = venue(&row)?;
        sqlx::query("INSERT INTO accounts (kind, owner_id) VALUES ('venue_payable', $1)")
            .bind(created.id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn list_venues(&self, limit: i64, offset: i64) -> Result<Vec<Venue>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues ORDER BY id LIMIT $1 OFFSET $2"
        )))
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(venue)
        .collect()
    }

    pub async fn get_venue(&self, id: VenueId) -> Result<Venue, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        venue(&row)
    }

    /// Qualify, suspend or revoke a venue.
    pub async fn set_venue_status(
        &self,
        id: VenueId,
        status: VenueStatus,
        qualified_until: Option<Date>,
    ) -> Result<Venue, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let current = venue(&row)?;
        if !current.status.can_become(status) {
            return Err(StoreError::Conflict {
                code: "venue_status_transition",
                message: format!(
                    "un lieu au statut « {} » ne peut pas passer au statut « {} »",
                    current.status.as_str(),
                    status.as_str()
                ),
            });
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE venues SET status = $1, qualified_until = $2 WHERE id = $3 RETURNING {COLUMNS}"
        )))
        .bind(status.as_str())
        .bind(qualified_until.map(date_to_sql))
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        venue(&row)
    }
}
