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

impl Store {
    /// Depth, delays and untouched booklets of `scope` at `now`. `max_cheques`: the last entry
    /// of `by_cheques` (a booklet holds ten cheques in most programmes).
    pub async fn usage_depth(
        &self,
        scope: &FigureScope,
        now: Timestamp,
        max_cheques: usize,
    ) -> Result<UsageDepth, StoreError> {
        let mut out = UsageDepth {
            by_cheques: vec![0; max_cheques + 1],
            ..Default::default()
        };
        let mut conn = self.pool().acquire().await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT b.cheques_used AS n, COUNT(*) AS booklets FROM booklets b \
             WHERE b.handed_out_at IS NOT NULL{} GROUP BY b.cheques_used",
            q.scope(scope, "b.order_id")
        );
        for r in q.query(text).fetch_all(&mut *conn).await? {
            let n = usize::try_from(get_i64(&r, "n")?)
                .unwrap_or(0)
                .min(max_cheques);
            out.by_cheques[n] += get_i64(&r, "booklets")?;
        }
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT (b.first_used_at - b.handed_out_at) / {DAY_MS} AS days, COUNT(*) AS booklets FROM booklets b \
             WHERE b.handed_out_at IS NOT NULL AND b.first_used_at IS NOT NULL{} \
             GROUP BY (b.first_used_at - b.handed_out_at) / {DAY_MS} ORDER BY days",
            q.scope(scope, "b.order_id")
        );
        for r in q.query(text).fetch_all(&mut *conn).await? {
            out.first_use_days
                .push((get_i64(&r, "days")?, get_i64(&r, "booklets")?));
        }
        let mut q = Sql::new(self.engine());
        let mut columns = vec![];
        for days in [30, 90] {
            let before = q.p(now.unix_ms() - days * DAY_MS);
            columns.push(format!(
                "{} AS handed_{days}",
                sum_if(&format!("b.handed_out_at <= {before}"), "1")
            ));
            let before = q.p(now.unix_ms() - days * DAY_MS);
            let within = q.p(days * DAY_MS);
            columns.push(format!(
                "{} AS untouched_{days}",
                sum_if(
                    &format!("b.handed_out_at <= {before} AND (b.first_used_at IS NULL OR b.first_used_at > b.handed_out_at + {within})"),
                    "1"
                )
            ));
        }
        let text = format!(
            "SELECT {} FROM booklets b WHERE b.handed_out_at IS NOT NULL{}",
            columns.join(", "),
            q.scope(scope, "b.order_id")
        );
        let r = q.query(text).fetch_one(&mut *conn).await?;
        out.handed_30 = get_i64(&r, "handed_30")?;
        out.untouched_30 = get_i64(&r, "untouched_30")?;
        out.handed_90 = get_i64(&r, "handed_90")?;
        out.untouched_90 = get_i64(&r, "untouched_90")?;
        Ok(out)
    }

    /// The booklets handed out in each of `months`, and how they have been used since: one
    /// pass over the booklets.
    pub async fn cohorts(
        &self,
        scope: &FigureScope,
        months: &[MonthSpan],
    ) -> Result<Vec<Cohort>, StoreError> {
        let Some(first) = months.first() else {
            return Ok(vec![]);
        };
        let mut q = Sql::new(self.engine());
        let mut columns = vec![];
        for (i, m) in months.iter().enumerate() {
            for (name, cond, what) in [
                ("h", "", "1"),
                ("u", " AND b.cheques_used > 0", "1"),
                ("c", "", "b.cheques_used"),
            ] {
                let (from, to) = (q.p(m.from.unix_ms()), q.p(m.to.unix_ms()));
                columns.push(format!(
                    "{} AS {name}{i}",
                    sum_if(
                        &format!("b.handed_out_at >= {from} AND b.handed_out_at < {to}{cond}"),
                        what
                    )
                ));
            }
        }
        let text = format!(
            "SELECT {} FROM booklets b WHERE b.handed_out_at >= {}{}",
            columns.join(", "),
            q.p(first.from.unix_ms()),
            q.scope(scope, "b.order_id")
        );
        let r = q.query(text).fetch_one(self.pool()).await?;
        (0..months.len())
            .map(|i| {
                Ok(Cohort {
                    handed_out: get_i64(&r, &format!("h{i}"))?,
                    first_used: get_i64(&r, &format!("u{i}"))?,
                    cheques_used: get_i64(&r, &format!("c{i}"))?,
                })
            })
            .collect()
    }
}
