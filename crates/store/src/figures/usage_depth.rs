//! How deeply and how soon booklets are used once handed out: booklets by number of cheques
//! used, days from handout to the first cheque, booklets untouched 30 and 90 days after their
//! handout, and cohorts by month of handout. Each is one pass over the booklets' counters.

use passnum_core::Timestamp;

use super::{FigureScope, MonthSpan, Sql, sum_if};
use crate::rows::get_i64;
use crate::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;

/// Booklets handed out, by how they were used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageDepth {
    /// `by_cheques[n]`: booklets handed out with `n` cheques used (the last entry gathers any
    /// booklet with more cheques than the list has places).
    pub by_cheques: Vec<i64>,
    /// (days from handout to the first cheque, booklets); negative when the first cheque was
    /// used before the handout was recorded.
    pub first_use_days: Vec<(i64, i64)>,
    /// Booklets handed out 30 days ago or more, and of them those with no cheque used within
    /// 30 days of their handout; the same at 90 days.
    pub handed_30: i64,
    pub untouched_30: i64,
    pub handed_90: i64,
    pub untouched_90: i64,
}

impl UsageDepth {
    /// The median delay to a first use, in days, over the booklets used.
    pub fn median_first_use_days(&self) -> Option<i64> {
        let total: i64 = self.first_use_days.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        let mut seen = 0;
        for (days, n) in &self.first_use_days {
            seen += n;
            if seen * 2 >= total {
                return Some(*days);
            }
        }
        None
    }
}

/// Booklets handed out in one month, followed since.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cohort {
    pub handed_out: i64,
    pub first_used: i64,
    pub cheques_used: i64,
}

/// `CASE WHEN <col> < edge1 THEN 0 WHEN <col> < edge2 THEN 1 … END`: the index of the span an
/// instant falls in, one chain per row (a column per span cost a `CASE` per span and row).
pub(crate) fn span_index(q: &mut Sql, col: &str, months: &[MonthSpan]) -> String {
    let arms: Vec<String> = months
        .iter()
        .enumerate()
        .map(|(i, m)| format!("WHEN {col} < {} THEN {i}", q.p(m.to.unix_ms())))
        .collect();
    format!("CASE {} ELSE -1 END", arms.join(" "))
}

impl Store {
    /// Depth, delays and untouched booklets of `scope` at `now`, in one grouped pass over the
    /// booklets handed out: by cheques used, days to the first use and age (under 30 days, 30
    /// to 89, 90 and more). `max_cheques`: the last entry of `by_cheques` (a booklet holds ten
    /// cheques in most programmes).
    pub async fn usage_depth(
        &self,
        scope: &FigureScope,
        now: Timestamp,
        max_cheques: usize,
    ) -> Result<UsageDepth, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut out = UsageDepth {
            by_cheques: vec![0; max_cheques + 1],
            ..Default::default()
        };
        let mut q = Sql::new(self.engine());
        let age = format!(
            "CASE WHEN b.handed_out_at <= {} THEN 90 WHEN b.handed_out_at <= {} THEN 30 ELSE 0 END",
            q.p(now.unix_ms() - 90 * DAY_MS),
            q.p(now.unix_ms() - 30 * DAY_MS)
        );
        let text = format!(
            "SELECT b.cheques_used AS n, (b.first_used_at - b.handed_out_at) / {DAY_MS} AS days, {age} AS age, \
             COUNT(*) AS booklets FROM booklets b WHERE b.handed_out_at IS NOT NULL{} GROUP BY 1, 2, 3",
            q.scope(scope, "b.order_id")
        );
        let mut delays: std::collections::BTreeMap<i64, i64> = Default::default();
        for r in q.query(text).fetch_all(&mut *conn).await? {
            let booklets = get_i64(&r, "booklets")?;
            let n = usize::try_from(get_i64(&r, "n")?)
                .unwrap_or(0)
                .min(max_cheques);
            out.by_cheques[n] += booklets;
            let days = crate::rows::get_opt_i64(&r, "days")?;
            if let Some(d) = days {
                *delays.entry(d).or_default() += booklets;
            }
            let age = get_i64(&r, "age")?;
            for (limit, handed, untouched) in [
                (30, &mut out.handed_30, &mut out.untouched_30),
                (90, &mut out.handed_90, &mut out.untouched_90),
            ] {
                if age >= limit {
                    *handed += booklets;
                    // Untouched: no cheque within `limit` days of the handout.
                    if days.is_none_or(|d| d >= limit) {
                        *untouched += booklets;
                    }
                }
            }
        }
        out.first_use_days = delays.into_iter().collect();
        Ok(out)
    }

    /// The booklets handed out in each of `months`, and how they have been used since: one
    /// grouped pass over the booklets. Also the "booklets handed out" of the monthly series.
    pub async fn cohorts(
        &self,
        scope: &FigureScope,
        months: &[MonthSpan],
    ) -> Result<Vec<Cohort>, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope_listed(&mut conn, scope).await?;
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Ok(vec![]);
        };
        let mut q = Sql::new(self.engine());
        let bucket = span_index(&mut q, "b.handed_out_at", months);
        let text = format!(
            "SELECT {bucket} AS span, COUNT(*) AS handed, {} AS used, {} AS cheques FROM booklets b \
             WHERE b.handed_out_at >= {} AND b.handed_out_at < {}{} GROUP BY 1",
            sum_if("b.cheques_used > 0", "1"),
            super::sum("b.cheques_used"),
            q.p(first.from.unix_ms()),
            q.p(last.to.unix_ms()),
            q.scope(scope, "b.order_id")
        );
        let mut out = vec![Cohort::default(); months.len()];
        for r in q.query(text).fetch_all(&mut *conn).await? {
            if let Ok(i) = usize::try_from(get_i64(&r, "span")?)
                && let Some(c) = out.get_mut(i)
            {
                *c = Cohort {
                    handed_out: get_i64(&r, "handed")?,
                    first_used: get_i64(&r, "used")?,
                    cheques_used: get_i64(&r, "cheques")?,
                };
            }
        }
        Ok(out)
    }
}
