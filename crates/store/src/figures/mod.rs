//! The programme's figures for a perimeter (everything, or some funders' orders): the funnel
//! from booklets bought to cheques paid, month by month, and broken down by structure,
//! territory, public, venue, service and format, with how deeply and how soon booklets are
//! used. Counts only, never a person.
//!
//! Every query reads the rollups kept in the same transactions as the events (see
//! `crate::usage`): `order_funnel`, `order_months`, the holders' runs, the booklets' own
//! counters, `usage_months` and `usage_paid`; never the cheques or the redemptions, whose cost grows
//! with the books.

mod breakdowns;
mod open_data;
mod usage_depth;

pub use breakdowns::{ResidenceLine, ServiceLine, StructureFunnel, TerritoryLine, VenueUsage};
pub use open_data::{CommuneCount, OpenDataCounts, VenueMonthPaid, VenueMonthUse};
pub use usage_depth::{Cohort, UsageDepth};

use passnum_core::{FunderId, OrderId, Timestamp};
use sqlx::Any;

use crate::rows::get_i64;
use crate::{Engine, Store, StoreError};

/// Whose figures: the operator sees all, a funder its own orders, an observer the orders of
/// the funders and territories it is granted (resolved to orders by `Store::observer_scope`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FigureScope {
    All,
    Funders(Vec<FunderId>),
    Orders(Vec<OrderId>),
}

impl FigureScope {
    pub fn funder(f: FunderId) -> Self {
        Self::Funders(vec![f])
    }
}

/// From booklets bought to cheques paid. Steps are counted independently: a booklet of the
/// funder's stock may be used without having been handed out (that is an anomaly to look at,
/// not a count to hide).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Funnel {
    pub bought: i64,
    /// Booklets a member territory received (the first stage of a two-stage allocation),
    /// whether it passed them on to its structures yet or not.
    pub via_territories: i64,
    pub allocated: i64,
    pub handed_out: i64,
    /// Booklets with a place booked in a workshop (any time, not cancelled).
    pub booked: i64,
    /// Booklets with at least one cheque used.
    pub first_used: i64,
    pub cheques_used: i64,
    pub used_cents: i64,
    pub cheques_paid: i64,
    pub paid_cents: i64,
}

/// One Paris calendar month: its key (YYYYMM) and its edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthSpan {
    pub key: i64,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// One month of activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthFigures {
    pub handed_out: i64,
    pub cheques_used: i64,
    pub used_cents: i64,
}

/// A statement under construction: placeholders numbered for PostgreSQL, anonymous for SQLite,
/// and their values (all integers) in the order they appear in the text.
pub(crate) struct Sql {
    engine: Engine,
    binds: Vec<i64>,
}

impl Sql {
    pub(crate) fn new(engine: Engine) -> Self {
        Self {
            engine,
            binds: vec![],
        }
    }
    /// A placeholder for `v`; call it in the order the text is written.
    pub(crate) fn p(&mut self, v: i64) -> String {
        self.binds.push(v);
        match self.engine {
            Engine::Sqlite => "?".into(),
            Engine::Postgres => format!("${}", self.binds.len()),
        }
    }
    /// ` AND <order_col> IN (the scope's orders)`, or nothing for the whole programme.
    pub(crate) fn scope(&mut self, scope: &OrderScope, order_col: &str) -> String {
        match scope {
            OrderScope::All => String::new(),
            OrderScope::Orders(o) if o.is_empty() => " AND 1 = 0".into(),
            OrderScope::Orders(o) => {
                let marks: Vec<String> = o.iter().map(|id| self.p(id.0)).collect();
                format!(" AND {order_col} IN ({})", marks.join(", "))
            }
        }
    }
    pub(crate) fn query(
        self,
        text: String,
    ) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        for v in self.binds {
            q = q.bind(v);
        }
        q
    }
}

/// `SUM(CASE WHEN <cond> THEN <what> ELSE 0 END)` as a BIGINT on both engines (PostgreSQL sums
/// integers as NUMERIC), 0 over no row.
pub(crate) fn sum_if(cond: &str, what: &str) -> String {
    format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN {what} ELSE 0 END), 0) AS BIGINT)")
}

pub(crate) fn sum(what: &str) -> String {
    format!("CAST(COALESCE(SUM({what}), 0) AS BIGINT)")
}

/// A [`FigureScope`] as the figures' SQL filters on it: every order, or these orders (a
/// funder's are looked up first, see [`Store::order_scope`]).
pub(crate) enum OrderScope {
    All,
    Orders(Vec<OrderId>),
}

impl Store {
    /// `scope` with a funder's orders named by id. Given as `order_id IN (SELECT id FROM orders
    /// WHERE funder_id …)`, the planners must guess how many booklets the subquery selects, and
    /// with misleading statistics they scanned every booklet of the programme for a small
    /// funder (growth benchmark); a list of ids is what both take through their `order_id`
    /// indexes. Read on the figures' own connection, so the ids and the figures come from the
    /// same database.
    pub(crate) async fn order_scope(
        &self,
        conn: &mut sqlx::AnyConnection,
        scope: &FigureScope,
    ) -> Result<OrderScope, StoreError> {
        let funders = match scope {
            FigureScope::All => return Ok(OrderScope::All),
            FigureScope::Orders(o) => return Ok(OrderScope::Orders(o.clone())),
            FigureScope::Funders(f) if f.is_empty() => return Ok(OrderScope::Orders(vec![])),
            FigureScope::Funders(f) => f,
        };
        let mut q = Sql::new(self.engine());
        let marks: Vec<String> = funders.iter().map(|f| q.p(f.0)).collect();
        let text = format!(
            "SELECT id FROM orders WHERE funder_id IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let ids = q
            .query(text)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| get_i64(r, "id").map(OrderId))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrderScope::Orders(ids))
    }

    /// [`Self::order_scope`], the whole programme's orders named too: for reads over the
    /// booklets handed out in a window, through `booklets_figures (order_id, handed_out_at)`.
    /// Without an order to seek, SQLite read that whole index (26 ms for a million booklets,
    /// growth benchmark); one seek per order reads only the window's booklets.
    pub(crate) async fn order_scope_listed(
        &self,
        conn: &mut sqlx::AnyConnection,
        scope: &FigureScope,
    ) -> Result<OrderScope, StoreError> {
        if *scope != FigureScope::All {
            return self.order_scope(conn, scope).await;
        }
        // Beyond a thousand orders, one pass over the index costs less than as many seeks
        // (and the list would approach SQLite's limit of parameters).
        const MAX_SEEKS: i64 = 1_000;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id LIMIT $1")
            .bind(MAX_SEEKS + 1)
            .fetch_all(&mut *conn)
            .await?;
        if ids.len() as i64 > MAX_SEEKS {
            return Ok(OrderScope::All);
        }
        Ok(OrderScope::Orders(ids.into_iter().map(OrderId).collect()))
    }

    /// The funnel of `scope`, in one statement over the rollups: one line per order
    /// (`order_funnel`: bought, handed out, paid), the holders' runs and one line per order and
    /// month (`order_months`: cheques used, booklets first used), so that the whole programme's
    /// funnel reads as many lines with ten million cheques at thousands of venues as with a
    /// thousand cheques at one (BENCHMARKS.md, nineteenth and twenty-second sessions). Only the
    /// bookings are counted from their rows.
    pub async fn funnel(&self, scope: &FigureScope) -> Result<Funnel, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut q = Sql::new(self.engine());
        let held = |holder: &str| {
            sum_if(
                &format!("r.{holder} IS NOT NULL"),
                "r.last_id - r.first_id + 1",
            )
        };
        // One row of sums per rollup, each read once for the scope, joined side by side.
        let parts = [
            (
                format!(
                    "{} AS bought, {} AS handed_out, {} AS paid, {} AS paid_cents",
                    sum("f.bought"),
                    sum("f.handed_out"),
                    sum("f.paid"),
                    sum("f.paid_cents")
                ),
                "order_funnel f WHERE 1 = 1",
                "f.order_id",
            ),
            (
                format!(
                    "{} AS via_territories, {} AS allocated",
                    held("territory_id"),
                    held("distributor_id")
                ),
                "holder_runs r WHERE 1 = 1",
                "r.order_id",
            ),
            (
                format!(
                    "{} AS first_used, {} AS used, {} AS used_cents",
                    sum("u.first_uses"),
                    sum("u.cheques"),
                    sum("u.cents")
                ),
                "order_months u WHERE 1 = 1",
                "u.order_id",
            ),
            (
                "COUNT(DISTINCT k.booklet_id) AS booked".to_string(),
                "bookings k JOIN booklets b ON b.id = k.booklet_id WHERE k.status <> 'cancelled'",
                "b.order_id",
            ),
        ];
        let from: Vec<String> = parts
            .iter()
            .enumerate()
            .map(|(i, (sums, table, col))| {
                format!("(SELECT {sums} FROM {table}{}) s{i}", q.scope(scope, col))
            })
            .collect();
        let text = format!("SELECT * FROM {}", from.join(", "));
        let r = q.query(text).fetch_one(&mut *conn).await?;
        Ok(Funnel {
            bought: get_i64(&r, "bought")?,
            via_territories: get_i64(&r, "via_territories")?,
            allocated: get_i64(&r, "allocated")?,
            handed_out: get_i64(&r, "handed_out")?,
            booked: get_i64(&r, "booked")?,
            first_used: get_i64(&r, "first_used")?,
            cheques_used: get_i64(&r, "used")?,
            used_cents: get_i64(&r, "used_cents")?,
            cheques_paid: get_i64(&r, "paid")?,
            paid_cents: get_i64(&r, "paid_cents")?,
        })
    }

    /// Whether the perimeter has an order yet (the orders are few: no rollup needed).
    pub async fn figures_have_orders(&self, scope: &FigureScope) -> Result<bool, StoreError> {
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT COUNT(*) AS n FROM orders o WHERE 1 = 1{}",
            q.scope(scope, "o.id")
        );
        Ok(get_i64(&q.query(text).fetch_one(&mut *conn).await?, "n")? > 0)
    }

    /// Booklets handed out and cheques used (redemptions in force) in each of `months`: the
    /// handouts in one grouped pass over the booklets, the cheques from `order_months`.
    pub async fn monthly_figures(
        &self,
        scope: &FigureScope,
        months: &[MonthSpan],
    ) -> Result<Vec<MonthFigures>, StoreError> {
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Ok(vec![]);
        };
        let mut out: Vec<MonthFigures> = self
            .cohorts(scope, months)
            .await?
            .into_iter()
            .map(|c| MonthFigures {
                handed_out: c.handed_out,
                ..Default::default()
            })
            .collect();
        let mut conn = self.may_lag().await?;
        let scope = &self.order_scope(&mut conn, scope).await?;
        let mut q = Sql::new(self.engine());
        let text = format!(
            "SELECT u.month, {} AS n, {} AS cents FROM order_months u \
             WHERE u.month >= {} AND u.month <= {}{} GROUP BY u.month",
            sum("u.cheques"),
            sum("u.cents"),
            q.p(first.key),
            q.p(last.key),
            q.scope(scope, "u.order_id")
        );
        for r in q.query(text).fetch_all(&mut *conn).await? {
            let key = get_i64(&r, "month")?;
            if let Some(i) = months.iter().position(|m| m.key == key) {
                out[i].cheques_used = get_i64(&r, "n")?;
                out[i].used_cents = get_i64(&r, "cents")?;
            }
        }
        Ok(out)
    }
}
