//! The counts behind the open-data export, by commune and Paris month: booklets handed out
//! (commune of residence), cheques used and their amount per venue (commune of the venue, the
//! venue kept for the business-secrecy rule), workshops held. Three grouped statements.

use passnum_core::Timestamp;

use super::{MonthSpan, Sql, sum};
use crate::rows::{get_i64, get_string};
use crate::{Store, StoreError};

/// A count in one commune and month (the month as its index in the spans asked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommuneCount {
    pub commune: String,
    pub month: usize,
    pub n: i64,
}

/// Cheques used at one venue in one month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueMonthUse {
    pub commune: String,
    pub month: usize,
    pub venue_id: i64,
    pub cheques: i64,
    pub cents: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenDataCounts {
    pub handed_out: Vec<CommuneCount>,
    pub used: Vec<VenueMonthUse>,
    pub workshops_held: Vec<CommuneCount>,
}

impl Store {
    /// Everything counted over `months` (workshops held: started before `now`, not cancelled).
    pub async fn open_data_counts(
        &self,
        months: &[MonthSpan],
        now: Timestamp,
    ) -> Result<OpenDataCounts, StoreError> {
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Ok(OpenDataCounts::default());
        };
        let mut out = OpenDataCounts::default();
        let mut conn = self.pool().acquire().await?;
        let mut q = Sql::new(self.engine());
        let span = super::usage_depth::span_index(&mut q, "h.handed_out_at", months);
        let text = format!(
            "SELECT h.commune_insee AS commune, {span} AS span, COUNT(*) AS n FROM handouts h \
             WHERE h.handed_out_at >= {} AND h.handed_out_at < {} GROUP BY 1, 2",
            q.p(first.from.unix_ms()),
            q.p(last.to.unix_ms())
        );
        for r in q.query(text).fetch_all(&mut *conn).await? {
            if let Ok(month) = usize::try_from(get_i64(&r, "span")?) {
                out.handed_out.push(CommuneCount {
                    commune: get_string(&r, "commune")?,
                    month,
                    n: get_i64(&r, "n")?,
                });
            }
        }
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT v.commune_insee AS commune, u.month, u.venue_id, {} AS cheques, {} AS cents \
             FROM usage_months u JOIN venues v ON v.id = u.venue_id \
             WHERE u.month >= {} AND u.month <= {} AND u.cheques > 0 \
             GROUP BY v.commune_insee, u.month, u.venue_id",
            sum("u.cheques"),
            sum("u.cents"),
            q.p(first.key),
            q.p(last.key)
        );
        for r in q.query(text).fetch_all(&mut *conn).await? {
            let key = get_i64(&r, "month")?;
            if let Some(month) = months.iter().position(|m| m.key == key) {
                out.used.push(VenueMonthUse {
                    commune: get_string(&r, "commune")?,
                    month,
                    venue_id: get_i64(&r, "venue_id")?,
                    cheques: get_i64(&r, "cheques")?,
                    cents: get_i64(&r, "cents")?,
                });
            }
        }
        let mut q = Sql::new(self.engine());
        let span = super::usage_depth::span_index(&mut q, "w.starts_at", months);
        let text = format!(
            "SELECT v.commune_insee AS commune, {span} AS span, COUNT(*) AS n FROM workshops w \
             JOIN venues v ON v.id = w.venue_id WHERE w.cancelled_at IS NULL \
             AND w.starts_at >= {} AND w.starts_at < {} AND w.starts_at < {} GROUP BY 1, 2",
            q.p(first.from.unix_ms()),
            q.p(last.to.unix_ms()),
            q.p(now.unix_ms())
        );
        for r in q.query(text).fetch_all(&mut *conn).await? {
            if let Ok(month) = usize::try_from(get_i64(&r, "span")?) {
                out.workshops_held.push(CommuneCount {
                    commune: get_string(&r, "commune")?,
                    month,
                    n: get_i64(&r, "n")?,
                });
            }
        }
        Ok(out)
    }
}
