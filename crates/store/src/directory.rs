//! The public directory of qualified venues: search by commune, category of service and
//! format, a page at a time.

use passnum_core::catalogue::ServiceFormat;
use time::Date;

use crate::rows::{date_to_sql, get_i64, placeholders};
use crate::{Store, StoreError, Venue};

/// What a person looks for. Empty parts match everything.
#[derive(Clone, Debug, Default)]
pub struct DirectorySearch {
    /// INSEE codes of the communes asked for (resolved from a name or a postcode); `None`
    /// for anywhere, `Some(empty)` for a place that matched no commune (nothing is found).
    pub communes: Option<Vec<String>>,
    /// A category of the référentiel ("2.2").
    pub category: Option<String>,
    /// Venues giving it individually (also "both"), or collectively (also "both").
    pub format: Option<ServiceFormat>,
}

impl Store {
    /// Qualified venues (their qualification not ended on `today`) that match, by name; and
    /// how many match in all.
    pub async fn search_directory(
        &self,
        search: &DirectorySearch,
        today: Date,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<Venue>), StoreError> {
        let mut conn = self.may_lag().await?;
        if search.communes.as_ref().is_some_and(Vec::is_empty) {
            return Ok((0, vec![]));
        }
        let engine = self.engine();
        // Today first; the communes, category and formats follow. Every parameter is written
        // by `placeholders`, as SQLite numbers `?` by position and mixing styles breaks that.
        let mut filter = format!(
            "v.status = 'qualified' AND (v.qualified_until IS NULL OR v.qualified_until >= {})",
            placeholders(engine, 0, 1)
        );
        let mut next = 1;
        let communes = search.communes.as_deref().unwrap_or_default();
        if !communes.is_empty() {
            filter.push_str(&format!(
                " AND v.commune_insee IN ({})",
                placeholders(engine, next, communes.len())
            ));
            next += communes.len();
        }
        let formats: &[&str] = match search.format {
            None => &[],
            Some(ServiceFormat::Individual) => &["individual", "both"],
            Some(ServiceFormat::Collective) => &["collective", "both"],
            Some(ServiceFormat::Both) => &["both"],
        };
        if search.category.is_some() || !formats.is_empty() {
            // In a few communes, a look into each venue's catalogue (by its primary key) is
            // cheapest; anywhere, the set of venues built once from the catalogue side,
            // through its (service_code, format, venue_id) index.
            filter.push_str(if communes.is_empty() {
                " AND v.id IN (SELECT vs.venue_id FROM venue_services vs WHERE 1 = 1"
            } else {
                " AND EXISTS (SELECT 1 FROM venue_services vs WHERE vs.venue_id = v.id"
            });
            if search.category.is_some() {
                filter.push_str(&format!(
                    " AND vs.service_code IN (SELECT s.code FROM services s WHERE s.category_code = {})",
                    placeholders(engine, next, 1)
                ));
                next += 1;
            }
            if !formats.is_empty() {
                filter.push_str(&format!(
                    " AND vs.format IN ({})",
                    placeholders(engine, next, formats.len())
                ));
            }
            filter.push(')');
        }
        let bind_all = |sql: String| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(date_to_sql(today));
            for c in communes {
                q = q.bind(c.clone());
            }
            if let Some(c) = &search.category {
                q = q.bind(c.clone());
            }
            for f in formats {
                q = q.bind(*f);
            }
            q
        };
        let total = get_i64(
            &bind_all(format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM venues v WHERE {filter}"
            ))
            .fetch_one(&mut *conn)
            .await?,
            "n",
        )?;
        let cols = crate::venues::COLUMNS
            .split(", ")
            .map(|c| format!("v.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let page = format!(
            "SELECT {cols} FROM venues v WHERE {filter} ORDER BY v.name, v.id LIMIT {} OFFSET {}",
            crate::rows::page_limit(limit),
            offset.max(0)
        );
        let venues = bind_all(page)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(crate::venues::venue)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((total, venues))
    }
}
