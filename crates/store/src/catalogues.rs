//! Venues' catalogues: the services each gives and in which format, with a history of every
//! change.

use passnum_core::catalogue::{Catalogue, ServiceFormat};
use passnum_core::{Timestamp, VenueId, VenueStatus};
use serde::Serialize;

use crate::rows::{get_i64, get_opt_i64, get_string};
use crate::{Store, StoreError};

/// One change to a catalogue, as the venue and the operator read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogueChange {
    pub at: Timestamp,
    /// The staff member who made it; none for the operator's command line or an upgrade.
    pub by_staff: Option<i64>,
    pub summary: String,
}

impl Store {
    /// The venue's catalogue, in code order.
    pub async fn venue_catalogue(
        &self,
        id: VenueId,
    ) -> Result<Vec<(String, ServiceFormat)>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        read_catalogue(&mut conn, id).await
    }

    /// Replaces the venue's catalogue, at once, and records what changed. A qualified venue
    /// keeps at least one service (it could not be qualified without).
    pub async fn set_venue_catalogue(
        &self,
        id: VenueId,
        catalogue: &Catalogue,
        by_staff: Option<i64>,
        now: Timestamp,
    ) -> Result<CatalogueChange, StoreError> {
        let mut tx = self.begin_write().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM venues WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let status = status.ok_or(StoreError::NotFound)?;
        if catalogue.is_empty() && status == VenueStatus::Qualified.as_str() {
            return Err(StoreError::Conflict {
                code: "empty_catalogue",
                message: "Un lieu qualifié garde au moins un service à son catalogue : ajoutez-en un avant de retirer les autres.".into(),
            });
        }
        let before_pairs = read_catalogue(&mut tx, id).await?;
        // What is stored was checked when written; a service deactivated since stays readable.
        let before = Catalogue::parse(
            before_pairs.iter().map(|(c, f)| (c.as_str(), f.as_str())),
            |_| true,
        )
        .map_err(|e| StoreError::corrupt(e.to_string()))?;
        let summary = catalogue.change_from(&before);
        sqlx::query("DELETE FROM venue_services WHERE venue_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        write_catalogue(&mut tx, id, catalogue).await?;
        sqlx::query("UPDATE venues SET updated_at = $1 WHERE id = $2")
            .bind(now.unix_ms())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO venue_catalogue_changes (venue_id, at, by_staff, summary) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
        .bind(now.unix_ms())
        .bind(by_staff)
        .bind(&summary)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CatalogueChange {
            at: now,
            by_staff,
            summary,
        })
    }

    /// The most recent changes to a venue's catalogue, newest first.
    pub async fn venue_catalogue_changes(
        &self,
        id: VenueId,
        limit: i64,
    ) -> Result<Vec<CatalogueChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, by_staff, summary FROM venue_catalogue_changes WHERE venue_id = $1 \
             ORDER BY at DESC LIMIT $2",
        )
        .bind(id.0)
        .bind(crate::rows::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CatalogueChange {
                    at: Timestamp::from_unix_ms(get_i64(r, "at")?),
                    by_staff: get_opt_i64(r, "by_staff")?,
                    summary: get_string(r, "summary")?,
                })
            })
            .collect()
    }

    /// Every service code of the référentiel, in code order (tests, benchmarks and the demo
    /// give it to venues that must accept any scan).
    pub fn referentiel_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.inner.caches.services.lock().iter().cloned().collect();
        codes.sort();
        codes
    }

    /// Whether a service of the référentiel may be added to a catalogue.
    pub fn service_is_known(&self, code: &str) -> bool {
        self.inner.caches.services.lock().contains(code)
    }
}

/// Writes a catalogue's rows for a venue that has none (any old rows deleted by the caller),
/// inside the caller's transaction.
pub(crate) async fn write_catalogue(
    tx: &mut sqlx::AnyConnection,
    id: VenueId,
    catalogue: &Catalogue,
) -> Result<(), StoreError> {
    for (code, format) in catalogue.entries() {
        sqlx::query(
            "INSERT INTO venue_services (venue_id, service_code, format) VALUES ($1, $2, $3)",
        )
        .bind(id.0)
        .bind(code.as_str())
        .bind(format.as_str())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// A qualified venue as the open-data export reads it: the venue, when its public data last
/// changed, and each catalogue entry as the standard's `services` value with its format.
pub struct PublishedVenueRow {
    pub venue: crate::Venue,
    pub updated_at: Timestamp,
    pub services: Vec<(String, ServiceFormat)>,
}

impl Store {
    /// Qualified venues with an id above `after`, in id order, `limit` at most: the export
    /// walks them page by page, so its memory does not grow with the number of venues.
    pub async fn published_venues(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PublishedVenueRow>, StoreError> {
        let mut conn = self.may_lag().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}, updated_at FROM venues WHERE status = 'qualified' AND id > $1 ORDER BY id LIMIT $2",
            crate::venues::COLUMNS
        )))
        .bind(after)
        .bind(crate::rows::page_limit(limit))
        .fetch_all(&mut *conn)
        .await?;
        let mut out: Vec<PublishedVenueRow> = rows
            .iter()
            .map(|r| {
                let venue = crate::venues::venue(r)?;
                let updated = get_i64(r, "updated_at")?.max(venue.created_at.unix_ms());
                Ok(PublishedVenueRow {
                    venue,
                    updated_at: Timestamp::from_unix_ms(updated),
                    services: vec![],
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let (Some(first), Some(last)) = (out.first(), out.last()) else {
            return Ok(out);
        };
        let entries = sqlx::query(
            "SELECT vs.venue_id, vs.format, s.level, s.category_code, s.standard_service \
             FROM venue_services vs JOIN services s ON s.code = vs.service_code \
             WHERE vs.venue_id BETWEEN $1 AND $2",
        )
        .bind(first.venue.id.0)
        .bind(last.venue.id.0)
        .fetch_all(&mut *conn)
        .await?;
        let index: std::collections::HashMap<i64, usize> = out
            .iter()
            .enumerate()
            .map(|(i, v)| (v.venue.id.0, i))
            .collect();
        for e in &entries {
            let Some(&i) = index.get(&get_i64(e, "venue_id")?) else {
                continue;
            };
            let chosen = get_string(e, "standard_service")?;
            let value = passnum_core::standard::standard_service(
                &chosen,
                &get_string(e, "category_code")?,
                get_i64(e, "level")?,
            );
            out[i].services.push((value.to_string(), stored_format(e)?));
        }
        Ok(out)
    }
}

/// A catalogue's rows, in code order, on a connection or inside a transaction.
async fn read_catalogue(
    conn: &mut sqlx::AnyConnection,
    id: VenueId,
) -> Result<Vec<(String, ServiceFormat)>, StoreError> {
    sqlx::query(
        "SELECT service_code, format FROM venue_services WHERE venue_id = $1 ORDER BY service_code",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((get_string(r, "service_code")?, stored_format(r)?)))
    .collect()
}

fn stored_format(row: &sqlx::any::AnyRow) -> Result<ServiceFormat, StoreError> {
    let format = get_string(row, "format")?;
    ServiceFormat::parse(&format).ok_or_else(|| StoreError::corrupt(format!("format {format}")))
}
