//! An imported place becomes an application: the operator opens a venue's file from it (status
//! "applied", never qualified by this), and the place is linked to the venue it became.

use passnum_core::{InseeCode, OrgNumber, Timestamp, VenueStatus};

use crate::rows::{get_i64, get_opt_i64, get_opt_string, get_string};
use crate::venues::{NewVenue, Venue};
use crate::{Store, StoreError};

/// An imported place, as the operator reads it before opening a file from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateDetail {
    pub id: i64,
    pub source: String,
    pub source_id: String,
    /// The SIRET the source gave (the standard's `pivot`), if any.
    pub pivot: Option<String>,
    pub name: String,
    pub commune_insee: String,
    pub postcode: String,
    pub address: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub hours: String,
    /// The standard's `services` values, pipe-separated.
    pub services: String,
    /// The venue it was linked to, if any.
    pub venue_id: Option<i64>,
}

impl CandidateDetail {
    /// How to reach the place, in one line: what the source gave.
    pub fn contact(&self) -> String {
        [&self.phone, &self.email, &self.website]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound
}

impl Store {
    pub async fn candidate(&self, id: i64) -> Result<CandidateDetail, StoreError> {
        let mut conn = self.pool().acquire().await?;
        read_candidate(&mut conn, id).await
    }

    /// Opens a venue's file from an imported place: a venue in status "applied" with the
    /// place's name, address, commune, contact and hours, and the place linked to it. A place
    /// already linked to a venue cannot open a second one; the organisation number is the
    /// operator's (the source's is often missing or wrong).
    pub async fn open_file_from_candidate(
        &self,
        id: i64,
        number: OrgNumber,
        by_staff: i64,
        now: Timestamp,
    ) -> Result<Venue, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "candidate_file", || {
            self.open_file_from_candidate_once(id, number.clone(), by_staff, now)
        })
        .await
    }

    async fn open_file_from_candidate_once(
        &self,
        id: i64,
        number: OrgNumber,
        by_staff: i64,
        now: Timestamp,
    ) -> Result<Venue, StoreError> {
        let mut tx = self.begin_write().await?;
        let c = read_candidate(&mut tx, id).await?;
        if let Some(v) = c.venue_id {
            return Err(already_linked(v));
        }
        let commune = InseeCode::parse(&c.commune_insee)
            .map_err(|_| StoreError::corrupt(format!("commune {}", c.commune_insee)))?;
        let v = NewVenue {
            siret: number,
            name: c.name.clone(),
            commune,
            status: VenueStatus::Applied,
            qualified_until: None,
            address: c.address.clone(),
            contact: c
                .contact()
                .chars()
                .take(passnum_core::text::MAX_ADDRESS_CHARS)
                .collect(),
            services: vec![],
        };
        let reason = format!(
            "Dossier ouvert depuis le lieu importé n° {} ({}, id {}).",
            c.id, c.source, c.source_id
        );
        let venue = self
            .insert_venue(&mut tx, &v, &reason, Some(by_staff), now)
            .await?;
        if !c.hours.trim().is_empty() {
            sqlx::query("UPDATE venues SET opening_hours = $1 WHERE id = $2")
                .bind(c.hours.chars().take(500).collect::<String>())
                .bind(venue.id.0)
                .execute(&mut *tx)
                .await?;
        }
        // Conditional: two operators opening a file from the same place cannot both succeed.
        let n = sqlx::query(
            "UPDATE venue_candidates SET match_verdict = 'link', match_venue_id = $1, \
             match_candidate_id = NULL, match_score_pm = 1000 WHERE id = $2 AND match_venue_id IS NULL",
        )
        .bind(venue.id.0)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(already_linked(0));
        }
        tx.commit().await?;
        self.get_venue(venue.id).await
    }
}

fn already_linked(venue: i64) -> StoreError {
    StoreError::Conflict {
        code: "candidate_already_linked",
        message: if venue > 0 {
            format!("Ce lieu importé est déjà relié au lieu n° {venue} : ouvrez son dossier.")
        } else {
            "Ce lieu importé vient d'être relié à un lieu : rechargez la page.".into()
        },
    }
}

async fn read_candidate(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<CandidateDetail, StoreError> {
    let r = sqlx::query(
        "SELECT id, source, source_id, pivot, name, commune_insee, postcode, address, phone, email, \
         website, hours, services, match_venue_id FROM venue_candidates WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(not_found)?;
    Ok(CandidateDetail {
        id: get_i64(&r, "id")?,
        source: get_string(&r, "source")?,
        source_id: get_string(&r, "source_id")?,
        pivot: get_opt_string(&r, "pivot")?,
        name: get_string(&r, "name")?,
        commune_insee: get_string(&r, "commune_insee")?,
        postcode: get_string(&r, "postcode")?,
        address: get_string(&r, "address")?,
        phone: get_opt_string(&r, "phone")?,
        email: get_opt_string(&r, "email")?,
        website: get_opt_string(&r, "website")?,
        hours: get_string(&r, "hours")?,
        services: get_string(&r, "services")?,
        venue_id: get_opt_i64(&r, "match_venue_id")?,
    })
}
