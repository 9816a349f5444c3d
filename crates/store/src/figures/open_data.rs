//! The counts behind the open-data export, by commune and Paris month: booklets handed out
//! (commune of residence), cheques used and their amount per venue and référentiel level
//! (commune of the venue, the venue kept for the business-secrecy rule), amounts paid to
//! venues by confirmed payment runs, workshops held; and booklets bought per month (orders
//! paid). One grouped statement each, over rollups or small tables.

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

/// Cheques used at one venue in one month for services of one level of the référentiel
/// (0: redeemed without a service).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueMonthUse {
    pub commune: String,
    pub month: usize,
    pub venue_id: i64,
    pub level: i64,
    pub cheques: i64,
    pub cents: i64,
}

/// What confirmed payment runs of one month paid for one venue's cheques (the cheques' value,
/// the operator's fee included, corrections deducted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueMonthPaid {
    pub commune: String,
    pub month: usize,
    pub venue_id: i64,
    pub cents: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenDataCounts {
    pub handed_out: Vec<CommuneCount>,
    pub used: Vec<VenueMonthUse>,
    pub paid: Vec<VenueMonthPaid>,
    pub workshops_held: Vec<CommuneCount>,
    /// Booklets of the orders paid in each month (by index), not a count of people.
    pub bought: Vec<i64>,
    /// The référentiel's levels and their names.
    pub levels: Vec<(i64, String)>,
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
        let mut conn = self.may_lag().await?;
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
            "SELECT v.commune_insee AS commune, u.month, u.venue_id, COALESCE(s.level, 0) AS level, \
             {} AS cheques, {} AS cents FROM usage_months u JOIN venues v ON v.id = u.venue_id \
             LEFT JOIN services s ON s.code = u.service_code \
             WHERE u.month >= {} AND u.month <= {} AND u.cheques > 0 \
             GROUP BY v.commune_insee, u.month, u.venue_id, COALESCE(s.level, 0)",
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
                    level: get_i64(&r, "level")?,
                    cheques: get_i64(&r, "cheques")?,
                    cents: get_i64(&r, "cents")?,
                });
            }
        }
        out.paid = paid(self, &mut conn, months).await?;
        out.bought = bought(self, &mut conn, months).await?;
        out.levels = sqlx::query(
            "SELECT level, MIN(level_name) AS name FROM services GROUP BY level ORDER BY level",
        )
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((get_i64(r, "level")?, get_string(r, "name")?)))
        .collect::<Result<_, StoreError>>()?;
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

/// Payment runs confirmed in `months`: per venue's commune, month and venue, the value of the
/// cheques they settled (the venue's transfer plus the operator's fee). Reads the runs' few
/// ledger transfers (two per venue and run), never the run items.
async fn paid(
    store: &Store,
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    months: &[MonthSpan],
) -> Result<Vec<VenueMonthPaid>, StoreError> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(vec![]);
    };
    let mut q = Sql::new(store.engine());
    let span = super::usage_depth::span_index(&mut q, "p.confirmed_at", months);
    let text = format!(
        "SELECT v.commune_insee AS commune, {span} AS span, v.id AS venue_id, {} AS cents \
         FROM payment_runs p JOIN transfers t ON t.payment_run_id = p.id \
         JOIN accounts a ON a.id = t.debit_account_id AND a.kind = 'venue_payable' \
         JOIN venues v ON v.id = a.owner_id \
         WHERE p.status = 'confirmed' AND p.confirmed_at >= {} AND p.confirmed_at < {} \
         AND t.kind IN ('venue_payment', 'operator_fee') \
         GROUP BY 1, 2, 3",
        sum("t.amount_cents"),
        q.p(first.from.unix_ms()),
        q.p(last.to.unix_ms())
    );
    let mut out = vec![];
    for r in q.query(text).fetch_all(&mut **conn).await? {
        if let Ok(month) = usize::try_from(get_i64(&r, "span")?) {
            out.push(VenueMonthPaid {
                commune: get_string(&r, "commune")?,
                month,
                venue_id: get_i64(&r, "venue_id")?,
                cents: get_i64(&r, "cents")?,
            });
        }
    }
    Ok(out)
}

/// Booklets of the orders paid in each month.
async fn bought(
    store: &Store,
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    months: &[MonthSpan],
) -> Result<Vec<i64>, StoreError> {
    let mut out = vec![0; months.len()];
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(out);
    };
    let mut q = Sql::new(store.engine());
    let span = super::usage_depth::span_index(&mut q, "paid_at", months);
    let text = format!(
        "SELECT {span} AS span, {} AS n FROM orders WHERE status <> 'cancelled' \
         AND paid_at >= {} AND paid_at < {} GROUP BY 1",
        sum("booklet_count"),
        q.p(first.from.unix_ms()),
        q.p(last.to.unix_ms())
    );
    for r in q.query(text).fetch_all(&mut **conn).await? {
        if let Ok(m) = usize::try_from(get_i64(&r, "span")?) {
            out[m] = get_i64(&r, "n")?;
        }
    }
    Ok(out)
}
