//! Co-funding carried through: what each source of an order (State, FEDER, the funder's own
//! funds…) paid in, what was used at venues and paid to them, and what was returned at the end
//! of validity — per order, and per Paris year over a funder's orders. Amounts come from the
//! ledger's transfers (and, for what was paid to venues, from the payment runs' rollup, which
//! `figures_check` ties to the runs); each is split among the sources with
//! [`passnum_core::funding::split_cents`], so every column sums to the ledger to the cent.

use std::collections::BTreeMap;

use passnum_core::funding::split_cents;
use passnum_core::{FunderId, OrderId, Timestamp};

use crate::rows::{get_i64, get_string};
use crate::{Store, StoreError};

/// Amounts of one order (or one source), in cents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FundingAmounts {
    /// Prepaid by the funder for the booklets.
    pub paid_in: i64,
    /// Cheques used at venues (redemptions net of their cancellations).
    pub used: i64,
    /// Of those, paid to venues by confirmed payment runs.
    pub paid_to_venues: i64,
    /// Credited back to the funder at the end of validity (credit note).
    pub returned: i64,
}

impl FundingAmounts {
    /// Still held for the order: paid in, minus used, minus returned.
    pub fn held(&self) -> i64 {
        self.paid_in - self.used - self.returned
    }
    fn split(&self, basis_points: &[i64]) -> Vec<FundingAmounts> {
        let (a, b, c, d) = (
            split_cents(self.paid_in, basis_points),
            split_cents(self.used, basis_points),
            split_cents(self.paid_to_venues, basis_points),
            split_cents(self.returned, basis_points),
        );
        (0..basis_points.len())
            .map(|i| FundingAmounts {
                paid_in: a[i],
                used: b[i],
                paid_to_venues: c[i],
                returned: d[i],
            })
            .collect()
    }
    fn add(&mut self, o: &FundingAmounts) {
        self.paid_in += o.paid_in;
        self.used += o.used;
        self.paid_to_venues += o.paid_to_venues;
        self.returned += o.returned;
    }
}

/// One source's share of an order or of a year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLine {
    pub source: String,
    /// Basis points of the order (none in a yearly report, which adds several orders).
    pub basis_points: Option<i64>,
    pub amounts: FundingAmounts,
}

/// The sources an order names, or the funder alone when it names none.
async fn sources(
    conn: &mut sqlx::AnyConnection,
    order: i64,
    funder_name: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let lines: Vec<(String, i64)> = sqlx::query(
        "SELECT source, basis_points FROM order_funding WHERE order_id = $1 ORDER BY position",
    )
    .bind(order)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((get_string(r, "source")?, get_i64(r, "basis_points")?)))
    .collect::<Result<_, StoreError>>()?;
    Ok(if lines.is_empty() {
        vec![(format!("{funder_name} (fonds propres)"), 10_000)]
    } else {
        lines
    })
}

/// The ledger's amounts per order in `[from, to)` (all time without bounds), from the
/// transfers; what was paid to venues from the runs' rollup (all time only).
async fn ledger_amounts(
    conn: &mut sqlx::AnyConnection,
    funder: FunderId,
    order: Option<OrderId>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<BTreeMap<i64, FundingAmounts>, StoreError> {
    // One order's report reads that order's transfers only, not every order of its funder.
    let one = if order.is_some() {
        " AND o.id = $4"
    } else {
        ""
    };
    let mut out: BTreeMap<i64, FundingAmounts> = BTreeMap::new();
    let q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.order_id, t.kind, CAST(SUM(t.amount_cents) AS BIGINT) AS cents FROM transfers t \
         JOIN orders o ON o.id = t.order_id WHERE o.funder_id = $1 AND t.created_at >= $2 AND t.created_at < $3 \
         AND t.kind IN ('prepayment', 'redemption', 'redemption_reversal', 'credit_note'){one} \
         GROUP BY t.order_id, t.kind"
    )))
    .bind(funder.0)
    .bind(from.map_or(i64::MIN, Timestamp::unix_ms))
    .bind(to.map_or(i64::MAX, Timestamp::unix_ms));
    let q = match order {
        Some(o) => q.bind(o.0),
        None => q,
    };
    for r in q.fetch_all(&mut *conn).await? {
        let e = out.entry(get_i64(&r, "order_id")?).or_default();
        let cents = get_i64(&r, "cents")?;
        match get_string(&r, "kind")?.as_str() {
            "prepayment" => e.paid_in += cents,
            "redemption" => e.used += cents,
            "redemption_reversal" => e.used -= cents,
            _ => e.returned += cents,
        }
    }
    if from.is_none() && to.is_none() {
        let one = if order.is_some() {
            " AND o.id = $2"
        } else {
            ""
        };
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT u.order_id, CAST(SUM(u.cents) AS BIGINT) AS cents FROM usage_paid u \
             JOIN orders o ON o.id = u.order_id WHERE o.funder_id = $1{one} GROUP BY u.order_id"
        )))
        .bind(funder.0);
        let q = match order {
            Some(o) => q.bind(o.0),
            None => q,
        };
        for r in q.fetch_all(&mut *conn).await? {
            out.entry(get_i64(&r, "order_id")?)
                .or_default()
                .paid_to_venues = get_i64(&r, "cents")?;
        }
    }
    Ok(out)
}

impl Store {
    /// What `passnum ledger check` asks of the funding reports: for each funder, what they
    /// count as still held over its orders (paid in − used − returned) is the balance of its
    /// ledger account, to the cent; each order's sources add up to 100 % and split every
    /// column exactly. Funders are few: one grouped read per funder.
    pub async fn funding_check(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = vec![];
        let mut conn = self.pool().acquire().await?;
        let funders: Vec<(i64, String)> = sqlx::query("SELECT id, name FROM funders ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((get_i64(r, "id")?, get_string(r, "name")?)))
            .collect::<Result<_, StoreError>>()?;
        for (id, name) in funders {
            let per_order = ledger_amounts(&mut conn, FunderId(id), None, None, None).await?;
            let held: i64 = per_order.values().map(FundingAmounts::held).sum();
            let balance: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(credits_cents - debits_cents), 0) AS BIGINT) FROM accounts \
                 WHERE kind = 'funder_held' AND owner_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
            if held != balance {
                problems.push(format!(
                    "commanditaire n° {id} ({name}) : les rapports de financement comptent {held} centimes détenus, son compte en a {balance}"
                ));
            }
            for (order, amounts) in &per_order {
                let bps: Vec<i64> = sources(&mut conn, *order, &name)
                    .await?
                    .into_iter()
                    .map(|(_, b)| b)
                    .collect();
                let mut sum = FundingAmounts::default();
                amounts.split(&bps).iter().for_each(|p| sum.add(p));
                if bps.iter().sum::<i64>() != 10_000 || sum != *amounts {
                    problems.push(format!(
                        "commande n° {order} : ses sources de financement ne se partagent pas exactement ses montants"
                    ));
                }
            }
        }
        Ok(problems)
    }

    /// One order's amounts and each source's share of them.
    pub async fn order_funding_report(
        &self,
        order: OrderId,
    ) -> Result<(FundingAmounts, Vec<SourceLine>), StoreError> {
        let o = self.get_order(order).await?;
        let funder = self.get_funder(o.funder_id).await?;
        let mut conn = self.may_lag().await?;
        let total = ledger_amounts(&mut conn, o.funder_id, Some(order), None, None)
            .await?
            .remove(&order.0)
            .unwrap_or_default();
        let sources = sources(&mut conn, order.0, &funder.name).await?;
        let bps: Vec<i64> = sources.iter().map(|(_, b)| *b).collect();
        let lines = sources
            .into_iter()
            .zip(total.split(&bps))
            .map(|((source, b), amounts)| SourceLine {
                source,
                basis_points: Some(b),
                amounts,
            })
            .collect();
        Ok((total, lines))
    }

    /// A funder's sources over the Paris year `[from, to)`: each order's amounts of the year
    /// split by its own shares, then added up per source (by name).
    pub async fn yearly_funding_report(
        &self,
        funder: FunderId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(FundingAmounts, Vec<SourceLine>), StoreError> {
        let f = self.get_funder(funder).await?;
        let mut conn = self.may_lag().await?;
        let per_order = ledger_amounts(&mut conn, funder, None, Some(from), Some(to)).await?;
        let mut total = FundingAmounts::default();
        let mut by_source: Vec<(String, FundingAmounts)> = vec![];
        for (order, amounts) in &per_order {
            total.add(amounts);
            let sources = sources(&mut conn, *order, &f.name).await?;
            let bps: Vec<i64> = sources.iter().map(|(_, b)| *b).collect();
            for ((name, _), part) in sources.into_iter().zip(amounts.split(&bps)) {
                match by_source.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, a)) => a.add(&part),
                    None => by_source.push((name, part)),
                }
            }
        }
        Ok((
            total,
            by_source
                .into_iter()
                .map(|(source, amounts)| SourceLine {
                    source,
                    basis_points: None,
                    amounts,
                })
                .collect(),
        ))
    }
}
