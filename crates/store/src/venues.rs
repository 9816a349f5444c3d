use passnum_core::{InseeCode, Siret, Timestamp, VenueId, VenueStatus, VenueView};
use serde::Serialize;
use sqlx::any::AnyRow;
use time::Date;

use crate::funders::clean_name;
use crate::rows::{date_to_sql, get_i64, get_opt_date, get_string, page_limit};
use crate::{Store, StoreError};
use passnum_core::text::MAX_ADDRESS_CHARS;

#[derive(Clone, Debug)]
pub struct NewVenue {
    pub siret: Siret,
    pub name: String,
    pub commune: InseeCode,
    pub status: VenueStatus,
    pub qualified_until: Option<Date>,
    /// Street address, as a person would write it on an envelope.
    pub address: String,
    /// How to book: telephone, e-mail or web page.
    pub contact: String,
    /// Codes of the services offered (each given individually and collectively until the venue
    /// says otherwise in its catalogue).
    pub services: Vec<String>,
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
    pub address: String,
    pub contact: String,
    /// Free text, as shown to a person: "lundi–vendredi 9 h–12 h, mercredi 14 h–18 h".
    pub opening_hours: String,
    /// Free text: step-free access, hearing loop, help in other languages…
    pub accessibility: String,
    /// Codes of the services offered.
    pub services: Vec<String>,
}

pub(crate) const COLUMNS: &str = "id, siret, name, commune_insee, status, qualified_until, created_at, address, contact, opening_hours, accessibility";

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
        address: get_string(row, "address")?,
        contact: get_string(row, "contact")?,
        opening_hours: get_string(row, "opening_hours")?,
        accessibility: get_string(row, "accessibility")?,
        services: vec![],
    })
}

fn clean_text(s: &str, what: &str, max: usize) -> Result<String, StoreError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(StoreError::Invalid {
            code: "invalid_venue",
            message: format!("{what} dépasse {max} caractères : raccourcissez ce texte."),
        });
    }
    Ok(s.to_string())
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
        message: "Ce SIRET appartient déjà à un lieu : un SIRET ne peut désigner qu'un seul lieu."
            .into(),
    }
}

impl Store {
    pub async fn create_venue(&self, v: &NewVenue, now: Timestamp) -> Result<Venue, StoreError> {
        let name = clean_name(&v.name)?;
        let address = clean_text(&v.address, "L'adresse", MAX_ADDRESS_CHARS)?;
        let contact = clean_text(&v.contact, "Le contact", MAX_ADDRESS_CHARS)?;
        let known = self.inner.caches.services.lock().clone();
        let mut services: Vec<String> = v.services.iter().map(|c| c.trim().to_string()).collect();
        services.sort();
        services.dedup();
        if let Some(bad) = services.iter().find(|c| !known.contains(*c)) {
            return Err(StoreError::Invalid {
                code: "service_unknown",
                message: format!("Le service « {bad} » n'existe pas dans le référentiel."),
            });
        }
        if v.status == VenueStatus::Qualified && services.is_empty() {
            let r = passnum_core::venue::StatusChangeRefusal::EmptyCatalogue;
            return Err(StoreError::Conflict {
                code: r.code(),
                message: r.to_string(),
            });
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO venues (siret, name, commune_insee, status, qualified_until, created_at, address, contact) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        )))
        .bind(v.siret.as_str())
        .bind(&name)
        .bind(v.commune.as_str())
        .bind(v.status.as_str())
        .bind(v.qualified_until.map(date_to_sql))
        .bind(now.unix_ms())
        .bind(&address)
        .bind(&contact)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .map_err(|e| if e.is_unique_violation() { siret_taken() } else { e })?;
        let mut created = venue(&row)?;
        sqlx::query("INSERT INTO accounts (kind, owner_id) VALUES ('venue_payable', $1)")
            .bind(created.id.0)
            .execute(&mut *tx)
            .await?;
        for code in &services {
            sqlx::query("INSERT INTO venue_services (venue_id, service_code) VALUES ($1, $2)")
                .bind(created.id.0)
                .bind(code.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        created.services = services;
        Ok(created)
    }

    pub async fn list_venues(&self, limit: i64, offset: i64) -> Result<Vec<Venue>, StoreError> {
        let mut venues: Vec<Venue> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues ORDER BY id LIMIT $1 OFFSET $2"
        )))
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(venue)
        .collect::<Result<_, _>>()?;
        let (Some(first), Some(last)) = (venues.first(), venues.last()) else {
            return Ok(venues);
        };
        let rows = sqlx::query(
            "SELECT venue_id, service_code FROM venue_services WHERE venue_id BETWEEN $1 AND $2 ORDER BY service_code",
        )
        .bind(first.id.0)
        .bind(last.id.0)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            let id = VenueId(get_i64(r, "venue_id")?);
            if let Some(v) = venues.iter_mut().find(|v| v.id == id) {
                v.services.push(get_string(r, "service_code")?);
            }
        }
        Ok(venues)
    }

    /// The services a venue offers.
    pub(crate) async fn venue_services(&self, id: VenueId) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT service_code FROM venue_services WHERE venue_id = $1 ORDER BY service_code",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn get_venue(&self, id: VenueId) -> Result<Venue, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM venues WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut v = venue(&row)?;
        v.services = self.venue_services(id).await?;
        Ok(v)
    }

    /// Sets what a person reads before going to the venue: opening hours and accessibility.
    pub async fn set_venue_practical_info(
        &self,
        id: VenueId,
        opening_hours: &str,
        accessibility: &str,
    ) -> Result<Venue, StoreError> {
        let hours = clean_text(opening_hours, "Le texte des horaires d'ouverture", 500)?;
        let access = clean_text(accessibility, "Le texte d'accessibilité", 500)?;
        let mut tx = self.begin_write().await?;
        let n =
            sqlx::query("UPDATE venues SET opening_hours = $1, accessibility = $2 WHERE id = $3")
                .bind(&hours)
                .bind(&access)
                .bind(id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.get_venue(id).await
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
        let catalogue_len = get_i64(
            &sqlx::query("SELECT COUNT(*) AS n FROM venue_services WHERE venue_id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?,
            "n",
        )?;
        passnum_core::venue::check_status_change(
            current.status,
            status,
            usize::try_from(catalogue_len).unwrap_or(0),
        )
        .map_err(|r| StoreError::Conflict {
            code: r.code(),
            message: r.to_string(),
        })?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE venues SET status = $1, qualified_until = $2 WHERE id = $3 RETURNING {COLUMNS}"
        )))
        .bind(status.as_str())
        .bind(qualified_until.map(date_to_sql))
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut v = venue(&row)?;
        v.services = self.venue_services(id).await?;
        Ok(v)
    }
}
