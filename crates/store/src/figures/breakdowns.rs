//! The figures broken down: by distributing structure, by commune of the person (grouped into
//! territories by the caller), by priority public, by venue, by service and workshop format.

use std::collections::HashMap;

use passnum_core::DistributorId;

use super::{FigureScope, OrderScope, Sql, sum, sum_if};
use crate::rows::{get_i64, get_opt_string, get_string};
use crate::{Store, StoreError};

/// The funnel of the booklets entrusted to one distributing structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructureFunnel {
    pub distributor_id: i64,
    pub name: String,
    pub allocated: i64,
    pub handed_out: i64,
    pub booked: i64,
    pub first_used: i64,
    pub cheques_used: i64,
}

/// Booklets handed out to people of one commune (or with one public), and their use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TerritoryLine {
    pub code: String,
    pub handed_out: i64,
    pub first_used: i64,
    pub cheques_used: i64,
    pub used_cents: i64,
}

/// Booklets handed out to people of one commune with one set of priority publics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidenceLine {
    /// Codes joined by commas, as the handout recorded them (empty: none).
    pub publics: String,
    /// `code` is the commune's INSEE code.
    pub line: TerritoryLine,
}

/// Cheques used at one venue, and paid to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueUsage {
    pub venue_id: i64,
    pub name: String,
    pub commune_insee: String,
    pub cheques_used: i64,
    pub used_cents: i64,
    pub cheques_paid: i64,
    pub paid_cents: i64,
}

/// Cheques used for one service of the référentiel in one workshop format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceLine {
    pub service_code: String,
    pub service_name: String,
    pub level: i64,
    pub level_name: String,
    pub category_code: String,
    pub category_name: String,
    /// "individual", "collective", or "none" (scanned without a workshop).
    pub format: String,
    pub cheques_used: i64,
    pub used_cents: i64,
}

/// Most lines of a list (structures, venues), the largest first.
pub const MAX_LINES: i64 = 500;

fn territory_line(r: &sqlx::any::AnyRow, code: &str) -> Result<TerritoryLine, StoreError> {
    Ok(TerritoryLine {
        code: get_string(r, code)?,
        handed_out: get_i64(r, "handed_out")?,
        first_used: get_i64(r, "first_used")?,
        cheques_used: get_i64(r, "used")?,
        used_cents: get_i64(r, "used_cents")?,
    })
}

impl Store {
    /// One structure's own funnel (its "Stock et remises" page): what it received, handed
    /// out, and how its booklets are used. The booklets are reached through the structure's
    /// holder runs (migration 35), never by a scan of every booklet: read first (the
    /// materialised `mine`), since PostgreSQL guesses a third of the table behind each run and
    /// would otherwise start from every booking.
    pub async fn structure_funnel(
        &self,
        distributor: DistributorId,
    ) -> Result<StructureFunnel, StoreError> {
        let mut conn = self.may_lag().await?;
        let text = format!(
            "WITH mine AS MATERIALIZED (SELECT b.id, b.handed_out_at, b.cheques_used FROM holder_runs r \
             JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id WHERE r.distributor_id = $1) \
             SELECT COUNT(*) AS allocated, {} AS handed_out, {} AS first_used, {} AS used, \
             (SELECT COUNT(DISTINCT k.booklet_id) FROM mine m JOIN bookings k ON k.booklet_id = m.id \
              WHERE k.status <> 'cancelled') AS booked FROM mine b",
            sum_if("b.handed_out_at IS NOT NULL", "1"),
            sum_if("b.cheques_used > 0", "1"),
            sum("b.cheques_used"),
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(distributor.0)
            .fetch_one(&mut *conn)
            .await?;
        Ok(StructureFunnel {
            distributor_id: distributor.0,
            name: String::new(),
            allocated: get_i64(&r, "allocated")?,
            handed_out: get_i64(&r, "handed_out")?,
            booked: get_i64(&r, "booked")?,
            first_used: get_i64(&r, "first_used")?,
            cheques_used: get_i64(&r, "used")?,
        })
    }

    /// The funnel per distributing structure, the structures with the most booklets first. The
    /// booklets are reached through the structures' holder runs (migration 35), so that the
    /// cost follows the booklets given to structures in scope, not the whole table: the
    /// programme's breakdown scanned every booklet, 5.2 ms on PostgreSQL and 26.5 ms on SQLite at
    /// ten million cheques of which none had been given to a structure (BENCHMARKS.md, twentieth
    /// session). Then one pass over the bookings.
    pub async fn funnel_by_structure(
        &self,
        scope: &FigureScope,
    ) -> Result<Vec<StructureFunnel>, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "WITH runs AS MATERIALIZED (SELECT r.distributor_id, r.first_id, r.last_id FROM holder_runs r \
             WHERE r.distributor_id IS NOT NULL{}), \
             mine AS MATERIALIZED (SELECT r.distributor_id, b.handed_out_at, b.cheques_used FROM runs r \
             JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id) \
             SELECT d.id, d.name, COUNT(*) AS allocated, {} AS handed_out, {} AS first_used, {} AS used \
             FROM mine b JOIN distributors d ON d.id = b.distributor_id \
             GROUP BY d.id, d.name ORDER BY allocated DESC, d.name LIMIT {MAX_LINES}",
            q.scope(scope, "r.order_id"),
            sum_if("b.handed_out_at IS NOT NULL", "1"),
            sum_if("b.cheques_used > 0", "1"),
            sum("b.cheques_used"),
        );
        let mut lines = q
            .query(text)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(StructureFunnel {
                    distributor_id: get_i64(r, "id")?,
                    name: get_string(r, "name")?,
                    allocated: get_i64(r, "allocated")?,
                    handed_out: get_i64(r, "handed_out")?,
                    booked: 0,
                    first_used: get_i64(r, "first_used")?,
                    cheques_used: get_i64(r, "used")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT b.distributor_id, COUNT(DISTINCT k.booklet_id) AS booked FROM bookings k \
             JOIN booklets b ON b.id = k.booklet_id WHERE k.status <> 'cancelled' \
             AND b.distributor_id IS NOT NULL{} GROUP BY b.distributor_id",
            q.scope(scope, "b.order_id")
        );
        let mut booked: HashMap<i64, i64> = HashMap::new();
        for r in q.query(text).fetch_all(&mut *conn).await? {
            booked.insert(get_i64(&r, "distributor_id")?, get_i64(&r, "booked")?);
        }
        for l in &mut lines {
            l.booked = booked.get(&l.distributor_id).copied().unwrap_or(0);
        }
        Ok(lines)
    }

    /// Booklets handed out per commune of residence and set of priority publics as recorded
    /// (codes joined by commas), with their use: one grouped pass; the caller adds up
    /// communes into territories and splits the publics.
    pub async fn figures_by_residence(
        &self,
        scope: &FigureScope,
    ) -> Result<Vec<ResidenceLine>, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT h.commune_insee, h.publics, COUNT(*) AS handed_out, {} AS first_used, {} AS used, {} AS used_cents \
             FROM handouts h JOIN booklets b ON b.id = h.booklet_id WHERE 1 = 1{} GROUP BY h.commune_insee, h.publics",
            sum_if("b.cheques_used > 0", "1"),
            sum("b.cheques_used"),
            sum("b.used_cents"),
            q.scope(scope, "h.order_id")
        );
        q.query(text)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(ResidenceLine {
                    publics: get_string(r, "publics")?,
                    line: territory_line(r, "commune_insee")?,
                })
            })
            .collect()
    }

    /// Cheques used in one Paris month (YYYYMM) per venue, by name: a funder's monthly
    /// statement, read from the months' rollup (every venue, not only the busiest).
    pub async fn usage_by_venue_in_month(
        &self,
        scope: &FigureScope,
        month: i64,
    ) -> Result<Vec<VenueUsage>, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut lines = self.venue_usage(&mut conn, scope, Some(month)).await?;
        lines.sort_by(|a, b| a.name.cmp(&b.name).then(a.venue_id.cmp(&b.venue_id)));
        Ok(lines)
    }

    /// Cheques used per venue (in one month, or all time but the busiest [`MAX_LINES`]).
    async fn venue_usage(
        &self,
        conn: &mut sqlx::AnyConnection,
        scope: &OrderScope,
        month: Option<i64>,
    ) -> Result<Vec<VenueUsage>, StoreError> {
        let mut q = Sql::new(self.engine());
        let in_month = month.map_or_else(String::new, |m| format!(" AND u.month = {}", q.p(m)));
        let limit = if month.is_some() {
            String::new()
        } else {
            format!(" LIMIT {MAX_LINES}")
        };
        let text = format!(
            "SELECT u.venue_id, v.name, v.commune_insee, {} AS used, {} AS used_cents \
             FROM usage_months u JOIN venues v ON v.id = u.venue_id WHERE u.cheques > 0{in_month}{} \
             GROUP BY u.venue_id, v.name, v.commune_insee ORDER BY used DESC, v.name{limit}",
            sum("u.cheques"),
            sum("u.cents"),
            q.scope(scope, "u.order_id")
        );
        q.query(text)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(VenueUsage {
                    venue_id: get_i64(r, "venue_id")?,
                    name: get_string(r, "name")?,
                    commune_insee: get_string(r, "commune_insee")?,
                    cheques_used: get_i64(r, "used")?,
                    used_cents: get_i64(r, "used_cents")?,
                    cheques_paid: 0,
                    paid_cents: 0,
                })
            })
            .collect()
    }

    /// Cheques used and paid per venue, the busiest first.
    pub async fn figures_by_venue(
        &self,
        scope: &FigureScope,
    ) -> Result<Vec<VenueUsage>, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut lines = self.venue_usage(&mut conn, scope, None).await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT u.venue_id, {} AS n, {} AS cents FROM usage_paid u WHERE 1 = 1{} GROUP BY u.venue_id",
            sum("u.cheques"),
            sum("u.cents"),
            q.scope(scope, "u.order_id")
        );
        let mut paid: HashMap<i64, (i64, i64)> = HashMap::new();
        for r in q.query(text).fetch_all(&mut *conn).await? {
            paid.insert(
                get_i64(&r, "venue_id")?,
                (get_i64(&r, "n")?, get_i64(&r, "cents")?),
            );
        }
        for l in &mut lines {
            (l.cheques_paid, l.paid_cents) = paid.get(&l.venue_id).copied().unwrap_or((0, 0));
        }
        Ok(lines)
    }

    /// Cheques used per service of the référentiel and workshop format.
    pub async fn figures_by_service(
        &self,
        scope: &FigureScope,
    ) -> Result<Vec<ServiceLine>, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT u.service_code, u.format, s.name, s.level, s.level_name, s.category_code, s.category_name, \
             {} AS used, {} AS used_cents FROM usage_months u LEFT JOIN services s ON s.code = u.service_code \
             WHERE u.cheques > 0{} GROUP BY u.service_code, u.format, s.name, s.level, s.level_name, s.category_code, s.category_name \
             ORDER BY u.service_code, u.format",
            sum("u.cheques"),
            sum("u.cents"),
            q.scope(scope, "u.order_id")
        );
        q.query(text)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                let code = get_string(r, "service_code")?;
                Ok(ServiceLine {
                    service_name: get_opt_string(r, "name")?.unwrap_or_else(|| code.clone()),
                    level: crate::rows::get_opt_i64(r, "level")?.unwrap_or(0),
                    level_name: get_opt_string(r, "level_name")?.unwrap_or_default(),
                    category_code: get_opt_string(r, "category_code")?.unwrap_or_default(),
                    category_name: get_opt_string(r, "category_name")?.unwrap_or_default(),
                    format: get_string(r, "format")?,
                    cheques_used: get_i64(r, "used")?,
                    used_cents: get_i64(r, "used_cents")?,
                    service_code: code,
                })
            })
            .collect()
    }
}
