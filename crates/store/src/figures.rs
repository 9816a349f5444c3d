//! The programme's figures for a perimeter (everything, or one funder's orders): the funnel
//! from booklets bought to cheques paid, and the same steps month by month. Counts only,
//! never a person.

use passnum_core::{FunderId, Timestamp};

use crate::rows::get_i64;
use crate::{Engine, Store, StoreError};

/// Whose figures: the operator sees all, a funder its own orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureScope {
    All,
    Funder(FunderId),
}

/// From booklets bought to cheques paid. Steps are counted independently: a booklet of the
/// funder's stock may be used without having been handed out (that is an anomaly to look at,
/// not a count to hide).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Funnel {
    pub bought: i64,
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

/// The funnel of the booklets entrusted to one distributing structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructureFunnel {
    pub distributor_id: i64,
    pub name: String,
    pub allocated: i64,
    pub handed_out: i64,
    pub booked: i64,
    pub first_used: i64,
}

/// Most structures listed (the largest first).
pub const MAX_STRUCTURES: i64 = 500;

/// One month of activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthFigures {
    pub handed_out: i64,
    pub cheques_used: i64,
    pub used_cents: i64,
}

/// Placeholders numbered for PostgreSQL, anonymous for SQLite, in binding order.
struct Marks {
    engine: Engine,
    n: usize,
}

impl Marks {
    fn next(&mut self) -> String {
        self.n += 1;
        match self.engine {
            Engine::Sqlite => "?".into(),
            Engine::Postgres => format!("${}", self.n),
        }
    }
}

impl Store {
    /// The funnel of `scope`, in three statements (booklets, bookings, cheques).
    pub async fn funnel(&self, scope: FigureScope) -> Result<Funnel, StoreError> {
        let (cond, funder) = match scope {
            FigureScope::All => ("", None),
            FigureScope::Funder(f) => (" AND o.funder_id = $1", Some(f.0)),
        };
        let bind = |sql: String| {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql));
            match funder {
                Some(f) => q.bind(f),
                None => q,
            }
        };
        let mut conn = self.pool().acquire().await?;
        let b = bind(format!(
            "SELECT COUNT(*) AS bought, \
             CAST(COALESCE(SUM(CASE WHEN b.distributor_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS allocated, \
             CAST(COALESCE(SUM(CASE WHEN b.handed_out_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS handed_out \
             FROM booklets b JOIN orders o ON o.id = b.order_id WHERE 1 = 1{cond}"
        ))
        .fetch_one(&mut *conn)
        .await?;
        let k = bind(format!(
            "SELECT COUNT(DISTINCT k.booklet_id) AS booked FROM bookings k \
             JOIN booklets b ON b.id = k.booklet_id JOIN orders o ON o.id = b.order_id \
             WHERE k.status <> 'cancelled'{cond}"
        ))
        .fetch_one(&mut *conn)
        .await?;
        let c = bind(format!(
            "SELECT COUNT(DISTINCT c.booklet_id) AS first_used, COUNT(*) AS used, \
             CAST(COALESCE(SUM(c.face_value_cents), 0) AS BIGINT) AS used_cents, \
             CAST(COALESCE(SUM(CASE WHEN c.state = 'paid' THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid, \
             CAST(COALESCE(SUM(CASE WHEN c.state = 'paid' THEN c.face_value_cents ELSE 0 END), 0) AS BIGINT) AS paid_cents \
             FROM cheques c JOIN orders o ON o.id = c.order_id \
             WHERE c.state IN ('redeemed', 'paid'){cond}"
        ))
        .fetch_one(&mut *conn)
        .await?;
        Ok(Funnel {
            bought: get_i64(&b, "bought")?,
            allocated: get_i64(&b, "allocated")?,
            handed_out: get_i64(&b, "handed_out")?,
            booked: get_i64(&k, "booked")?,
            first_used: get_i64(&c, "first_used")?,
            cheques_used: get_i64(&c, "used")?,
            used_cents: get_i64(&c, "used_cents")?,
            cheques_paid: get_i64(&c, "paid")?,
            paid_cents: get_i64(&c, "paid_cents")?,
        })
    }

    /// The funnel per distributing structure (booklets entrusted, handed out, with a workshop
    /// booked, with a cheque used), the structures with the most booklets first. Each booklet
    /// looks up its cheques and bookings through their booklet-led indexes.
    pub async fn funnel_by_structure(
        &self,
        scope: FigureScope,
    ) -> Result<Vec<StructureFunnel>, StoreError> {
        let (cond, funder) = match scope {
            FigureScope::All => ("", None),
            FigureScope::Funder(f) => (" AND o.funder_id = $1", Some(f.0)),
        };
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT d.id, d.name, COUNT(*) AS allocated, \
             CAST(SUM(CASE WHEN b.handed_out_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS handed_out, \
             CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM bookings k WHERE k.booklet_id = b.id AND k.status <> 'cancelled') \
                 THEN 1 ELSE 0 END) AS BIGINT) AS booked, \
             CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM cheques c WHERE c.booklet_id = b.id AND c.state IN ('redeemed', 'paid')) \
                 THEN 1 ELSE 0 END) AS BIGINT) AS first_used \
             FROM booklets b JOIN distributors d ON d.id = b.distributor_id JOIN orders o ON o.id = b.order_id \
             WHERE 1 = 1{cond} GROUP BY d.id, d.name ORDER BY allocated DESC, d.name LIMIT {MAX_STRUCTURES}"
        )));
        let q = match funder {
            Some(f) => q.bind(f),
            None => q,
        };
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(StructureFunnel {
                    distributor_id: get_i64(r, "id")?,
                    name: crate::rows::get_string(r, "name")?,
                    allocated: get_i64(r, "allocated")?,
                    handed_out: get_i64(r, "handed_out")?,
                    booked: get_i64(r, "booked")?,
                    first_used: get_i64(r, "first_used")?,
                })
            })
            .collect()
    }

    /// Handouts and cheques used (redemptions in force) per period: `bounds` are the periods'
    /// edges in time order (n + 1 edges for n periods). One pass over each table.
    pub async fn monthly_figures(
        &self,
        scope: FigureScope,
        bounds: &[Timestamp],
    ) -> Result<Vec<MonthFigures>, StoreError> {
        let periods = bounds.len().saturating_sub(1);
        if periods == 0 {
            return Ok(vec![]);
        }
        let mut out = vec![MonthFigures::default(); periods];
        let engine = self.engine();
        // One column per period (and per euro sum): `SUM(CASE WHEN at in [a, b) …)`.
        let columns = |what: &str, at: &str, name: &str, m: &mut Marks| -> String {
            (0..periods)
                .map(|i| {
                    let (a, b) = (m.next(), m.next());
                    format!("CAST(COALESCE(SUM(CASE WHEN {at} >= {a} AND {at} < {b} THEN {what} ELSE 0 END), 0) AS BIGINT) AS {name}{i}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut conn = self.pool().acquire().await?;
        // Handouts, then redemptions counted and summed in the same pass.
        for table in ["handouts", "redemptions"] {
            let mut m = Marks { engine, n: 0 };
            let sql = if table == "handouts" {
                format!(
                    "SELECT {} FROM handouts h JOIN orders o ON o.id = h.order_id WHERE h.handed_out_at >= {}",
                    columns("1", "h.handed_out_at", "n", &mut m),
                    m.next()
                )
            } else {
                format!(
                    "SELECT {}, {} FROM redemptions r JOIN cheques c ON c.id = r.cheque_id JOIN orders o ON o.id = c.order_id \
                     WHERE r.rolled_back_at IS NULL AND r.redeemed_at >= {}",
                    columns("1", "r.redeemed_at", "n", &mut m),
                    columns("r.amount_cents", "r.redeemed_at", "e", &mut m),
                    m.next()
                )
            };
            let sql = match scope {
                FigureScope::All => sql,
                FigureScope::Funder(_) => format!("{sql} AND o.funder_id = {}", m.next()),
            };
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            let sets = if table == "handouts" { 1 } else { 2 };
            for _ in 0..sets {
                for w in bounds.windows(2) {
                    q = q.bind(w[0].unix_ms()).bind(w[1].unix_ms());
                }
            }
            q = q.bind(bounds[0].unix_ms());
            if let FigureScope::Funder(f) = scope {
                q = q.bind(f.0);
            }
            let row = q.fetch_one(&mut *conn).await?;
            for (i, month) in out.iter_mut().enumerate() {
                let n = get_i64(&row, &format!("n{i}"))?;
                if table == "handouts" {
                    month.handed_out = n;
                } else {
                    month.cheques_used = n;
                    month.used_cents = get_i64(&row, &format!("e{i}"))?;
                }
            }
        }
        Ok(out)
    }
}
