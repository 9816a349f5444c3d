//! Workshops a venue publishes: created one by one or as a series, listed, cancelled with a
//! reason (the places booked are cancelled with it).

use passnum_core::workshop::{Level, WorkshopFormat, WorkshopPlan, WorkshopView};
use passnum_core::{Timestamp, VenueId, VenueStatus};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::rows::{get_i64, get_opt_i64, get_opt_string, get_string, page_limit, placeholders};
use crate::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Workshop {
    pub id: i64,
    pub venue_id: VenueId,
    pub series_id: Option<i64>,
    pub format: WorkshopFormat,
    pub title: String,
    pub services: Vec<String>,
    pub level: Level,
    pub starts_at: Timestamp,
    pub duration_min: i64,
    /// "venue", "elsewhere" or "remote".
    pub place_kind: String,
    pub place_commune: Option<String>,
    pub place_detail: String,
    pub capacity: i64,
    pub seats_taken: i64,
    pub mediator: String,
    pub accessibility: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Moves on every change a calendar must see (iCalendar SEQUENCE).
    pub revision: i64,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
}

impl Workshop {
    pub fn view(&self) -> WorkshopView {
        WorkshopView {
            venue_id: self.venue_id,
            starts_at: self.starts_at,
            duration_min: self.duration_min,
            capacity: self.capacity,
            seats_taken: self.seats_taken,
            cancelled: self.cancelled_at.is_some(),
            services: self.services.clone(),
        }
    }
    pub fn free_places(&self) -> i64 {
        (self.capacity - self.seats_taken).max(0)
    }
}

pub(crate) const WORKSHOP_COLUMNS: &str = "w.id, w.venue_id, w.series_id, w.format, w.title, w.level, w.starts_at, w.duration_min, \
     w.place_kind, w.place_commune, w.place_detail, w.capacity, w.seats_taken, w.mediator, w.accessibility, \
     w.created_at, w.updated_at, w.revision, w.cancelled_at, w.cancel_reason";

pub(crate) fn workshop_row(r: &AnyRow) -> Result<Workshop, StoreError> {
    let format = get_string(r, "format")?;
    let level = get_string(r, "level")?;
    Ok(Workshop {
        id: get_i64(r, "id")?,
        venue_id: VenueId(get_i64(r, "venue_id")?),
        series_id: get_opt_i64(r, "series_id")?,
        format: WorkshopFormat::parse(&format)
            .ok_or_else(|| StoreError::corrupt(format!("format {format}")))?,
        title: get_string(r, "title")?,
        services: vec![],
        level: Level::parse(&level)
            .ok_or_else(|| StoreError::corrupt(format!("niveau {level}")))?,
        starts_at: Timestamp::from_unix_ms(get_i64(r, "starts_at")?),
        duration_min: get_i64(r, "duration_min")?,
        place_kind: get_string(r, "place_kind")?,
        place_commune: get_opt_string(r, "place_commune")?,
        place_detail: get_string(r, "place_detail")?,
        capacity: get_i64(r, "capacity")?,
        seats_taken: get_i64(r, "seats_taken")?,
        mediator: get_string(r, "mediator")?,
        accessibility: get_string(r, "accessibility")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        updated_at: Timestamp::from_unix_ms(get_i64(r, "updated_at")?),
        revision: get_i64(r, "revision")?,
        cancelled_at: get_opt_i64(r, "cancelled_at")?.map(Timestamp::from_unix_ms),
        cancel_reason: get_opt_string(r, "cancel_reason")?,
    })
}

/// Fills each workshop's services (one query for the list).
pub(crate) async fn with_services(
    conn: &mut sqlx::AnyConnection,
    engine: crate::Engine,
    mut list: Vec<Workshop>,
) -> Result<Vec<Workshop>, StoreError> {
    if list.is_empty() {
        return Ok(list);
    }
    let sql = format!(
        "SELECT workshop_id, service_code FROM workshop_services WHERE workshop_id IN ({}) ORDER BY service_code",
        placeholders(engine, 0, list.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for w in &list {
        q = q.bind(w.id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut by_id: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for r in &rows {
        by_id
            .entry(get_i64(r, "workshop_id")?)
            .or_default()
            .push(get_string(r, "service_code")?);
    }
    for w in &mut list {
        w.services = by_id.remove(&w.id).unwrap_or_default();
    }
    Ok(list)
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        code,
        message: message.into(),
    }
}

impl Store {
    /// Publishes a workshop, or every workshop of a series, in one transaction. Only a
    /// qualified venue publishes; the services must still be in its catalogue (checked again
    /// here: the catalogue may have changed since the form was read); a mediator cannot be in
    /// two workshops at once.
    pub async fn create_workshops(
        &self,
        venue: VenueId,
        plan: &WorkshopPlan,
        now: Timestamp,
    ) -> Result<Vec<Workshop>, StoreError> {
        let mut tx = self.begin_write().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM venues WHERE id = $1")
            .bind(venue.0)
            .fetch_optional(&mut *tx)
            .await?;
        match status.as_deref().and_then(VenueStatus::parse) {
            None => return Err(StoreError::NotFound),
            Some(VenueStatus::Qualified) => {}
            Some(_) => {
                return Err(refused(
                    "venue_not_qualified",
                    "Seul un lieu qualifié publie des ateliers : votre qualification est en cours, suspendue ou terminée.",
                ));
            }
        }
        for s in &plan.services {
            let in_catalogue: Option<String> = sqlx::query_scalar(
                "SELECT format FROM venue_services WHERE venue_id = $1 AND service_code = $2",
            )
            .bind(venue.0)
            .bind(s.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let allowed = in_catalogue
                .as_deref()
                .and_then(passnum_core::catalogue::ServiceFormat::parse)
                .is_some_and(|f| plan.format.allowed_by(f));
            if !allowed {
                return Err(refused(
                    "service_not_in_catalogue",
                    format!(
                        "Le service {s} n'est pas (ou plus) dans votre catalogue pour ce format : mettez à jour votre catalogue."
                    ),
                ));
            }
        }
        let mut series: Option<i64> = None;
        let mut ids = Vec::with_capacity(plan.dates.len());
        for start in plan.starts() {
            let end = start.unix_ms() + plan.duration_min * 60_000;
            if !plan.mediator.is_empty() {
                let busy: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM workshops WHERE venue_id = $1 AND mediator = $2 AND cancelled_at IS NULL \
                     AND starts_at < $3 AND starts_at + duration_min * 60000 > $4 LIMIT 1",
                )
                .bind(venue.0)
                .bind(plan.mediator.as_str())
                .bind(end)
                .bind(start.unix_ms())
                .fetch_optional(&mut *tx)
                .await?;
                if busy.is_some() {
                    return Err(refused(
                        "mediator_busy",
                        format!(
                            "{} anime déjà un atelier le {} : changez l'heure ou le médiateur.",
                            plan.mediator,
                            passnum_core::paris::format_moment(start)
                        ),
                    ));
                }
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO workshops (venue_id, series_id, format, title, level, starts_at, duration_min, place_kind, \
                 place_commune, place_detail, capacity, mediator, accessibility, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
            )
            .bind(venue.0)
            .bind(series)
            .bind(plan.format.as_str())
            .bind(plan.title.as_str())
            .bind(plan.level.as_str())
            .bind(start.unix_ms())
            .bind(plan.duration_min)
            .bind(plan.place.kind())
            .bind(plan.place.commune().map(|c| c.as_str().to_string()))
            .bind(plan.place.detail())
            .bind(plan.capacity)
            .bind(plan.mediator.as_str())
            .bind(plan.accessibility.as_str())
            .bind(now.unix_ms())
            .fetch_one(&mut *tx)
            .await?;
            if plan.dates.len() > 1 && series.is_none() {
                series = Some(id);
                sqlx::query("UPDATE workshops SET series_id = $1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            for s in &plan.services {
                sqlx::query(
                    "INSERT INTO workshop_services (workshop_id, service_code) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(s.as_str())
                .execute(&mut *tx)
                .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.workshop(id).await?);
        }
        Ok(out)
    }

    pub async fn workshop(&self, id: i64) -> Result<Workshop, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WORKSHOP_COLUMNS} FROM workshops w WHERE w.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let list = with_services(&mut conn, self.engine(), vec![workshop_row(&row)?]).await?;
        list.into_iter().next().ok_or(StoreError::NotFound)
    }

    /// The names of who runs a venue's workshops from `from` on (not cancelled), in
    /// alphabetical order, at most 100: each gets a calendar of its own.
    pub async fn venue_mediators(
        &self,
        venue: VenueId,
        from: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT mediator FROM workshops WHERE venue_id = $1 AND starts_at >= $2 \
             AND cancelled_at IS NULL AND mediator <> '' ORDER BY mediator LIMIT 100",
        )
        .bind(venue.0)
        .bind(from.unix_ms())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| get_string(r, "mediator")).collect()
    }

    /// A venue's workshops starting in [from, to), in time order; cancelled ones included.
    pub async fn venue_workshops(
        &self,
        venue: VenueId,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Workshop>, StoreError> {
        let mut conn = self.may_lag().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WORKSHOP_COLUMNS} FROM workshops w WHERE w.venue_id = $1 AND w.starts_at >= $2 AND w.starts_at < $3 \
             ORDER BY w.starts_at, w.id LIMIT $4 OFFSET $5"
        )))
        .bind(venue.0)
        .bind(from.unix_ms())
        .bind(to.unix_ms())
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(&mut *conn)
        .await?;
        let list = rows
            .iter()
            .map(workshop_row)
            .collect::<Result<Vec<_>, _>>()?;
        with_services(&mut conn, self.engine(), list).await
    }

    /// Cancels a workshop of the venue with its reason; the places booked in it are cancelled
    /// with the same reason (the booking page shows it). Returns how many bookings it ended.
    pub async fn cancel_workshop(
        &self,
        venue: VenueId,
        id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let reason = reason.trim();
        let n = reason.chars().count();
        if !(3..=500).contains(&n) {
            return Err(StoreError::Invalid {
                code: "reason_required",
                message: "Donnez la raison de l'annulation (de 3 à 500 caractères) : les personnes inscrites la verront.".into(),
            });
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE workshops SET cancelled_at = $1, cancel_reason = $2, updated_at = $1, revision = revision + 1 \
             WHERE id = $3 AND venue_id = $4 AND cancelled_at IS NULL",
        )
        .bind(now.unix_ms())
        .bind(reason)
        .bind(id)
        .bind(venue.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM workshops WHERE id = $1 AND venue_id = $2")
                    .bind(id)
                    .bind(venue.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                None => StoreError::NotFound,
                Some(_) => refused("workshop_cancelled", "Cet atelier est déjà annulé."),
            });
        }
        // Those who left an address are told (with the workshop's own cancellation).
        let told: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM bookings WHERE workshop_id = $1 AND status IN ('booked', 'waiting') \
             AND contact IS NOT NULL ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for booking in told {
            crate::bookings::queue_booking_notice(&mut tx, booking, true, now).await?;
        }
        let ended = sqlx::query(
            "UPDATE bookings SET status = 'cancelled', cancel_reason = $1, updated_at = $2 \
             WHERE workshop_id = $3 AND status IN ('booked', 'waiting')",
        )
        .bind(format!("Atelier annulé par le lieu : {reason}"))
        .bind(now.unix_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(ended)
    }
}

/// What a search for workshops asks: the communes near the person (the workshops of their
/// qualified venues), a window, the référentiel categories wanted (empty: any). Only workshops
/// with a free place.
#[derive(Clone, Debug)]
pub struct WorkshopSearch {
    pub communes: Vec<String>,
    pub categories: Vec<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub limit: i64,
}

impl Store {
    /// Workshops with a free place, soonest first, with their venue's name. The venues are
    /// found first (by commune), then each one's workshops by the (venue, start) index: the
    /// cost follows the venues near the person, not the size of the programme.
    pub async fn search_workshops(
        &self,
        q: &WorkshopSearch,
    ) -> Result<Vec<(Workshop, String)>, StoreError> {
        if q.communes.is_empty() {
            return Ok(vec![]);
        }
        let engine = self.engine();
        let nc = q.communes.len();
        let communes = placeholders(engine, 0, nc);
        let rest = placeholders(engine, nc, 3);
        let marks: Vec<&str> = rest.split(", ").collect();
        let (from, to, today) = (marks[0], marks[1], marks[2]);
        let categories = if q.categories.is_empty() {
            String::new()
        } else {
            format!(
                " AND EXISTS (SELECT 1 FROM workshop_services ws JOIN services s ON s.code = ws.service_code \
                 WHERE ws.workshop_id = w.id AND s.category_code IN ({}))",
                placeholders(engine, nc + 3, q.categories.len())
            )
        };
        let limit = placeholders(engine, nc + 3 + q.categories.len(), 1);
        let sql = format!(
            "SELECT {WORKSHOP_COLUMNS}, v.name AS venue_name FROM workshops w JOIN venues v ON v.id = w.venue_id \
             WHERE v.commune_insee IN ({communes}) AND v.status = 'qualified' \
             AND w.starts_at >= {from} AND w.starts_at < {to} \
             AND (v.qualified_until IS NULL OR v.qualified_until >= {today}) \
             AND w.cancelled_at IS NULL AND w.seats_taken < w.capacity{categories} \
             ORDER BY w.starts_at, w.id LIMIT {limit}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in &q.communes {
            query = query.bind(c.as_str());
        }
        query = query
            .bind(q.from.unix_ms())
            .bind(q.to.unix_ms())
            .bind(crate::rows::date_to_sql(passnum_core::paris::local_date(
                q.from,
            )));
        for c in &q.categories {
            query = query.bind(c.as_str());
        }
        let mut conn = self.may_lag().await?;
        let rows = query
            .bind(page_limit(q.limit))
            .fetch_all(&mut *conn)
            .await?;
        let names: Vec<String> = rows
            .iter()
            .map(|r| get_string(r, "venue_name"))
            .collect::<Result<_, _>>()?;
        let list = rows
            .iter()
            .map(workshop_row)
            .collect::<Result<Vec<_>, _>>()?;
        let list = with_services(&mut conn, engine, list).await?;
        Ok(list.into_iter().zip(names).collect())
    }
}
