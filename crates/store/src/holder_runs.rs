//! Runs of consecutive booklet ids with one holder (migration 35): how passnum finds what a
//! structure or a territory holds without an index on `booklets`' holder columns.
//!
//! Every change of a booklet's holder writes its row *and* the runs, in one transaction under
//! the order's lock: the rows stay the truth for one booklet (a handout checks them), the
//! runs answer "which booklets does this holder have". The ledger check proves both agree.

use std::collections::HashSet;

use passnum_core::OrderId;

use crate::rows::{get_i64, get_opt_i64};
use crate::{Engine, StoreError};

/// Booklets `first..=last` (ids) of one order, held by a territory, a structure or both (a
/// structure's booklets that came through a territory). Neither: the funder holds them, and
/// no run is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Run {
    pub(crate) first: i64,
    pub(crate) last: i64,
    pub(crate) territory: Option<i64>,
    pub(crate) structure: Option<i64>,
}

impl Run {
    fn same_holder(&self, other: &Run) -> bool {
        self.territory == other.territory && self.structure == other.structure
    }

    fn held(&self) -> bool {
        self.territory.is_some() || self.structure.is_some()
    }
}

/// The runs to delete (by first id) and to insert so that `existing` (sorted, disjoint) gives
/// way to `assigned` (disjoint; sorted here), with neighbours of one holder merged. `existing`
/// must hold every stored run that overlaps or touches an assigned one.
fn repartition(existing: &[Run], assigned: &[Run]) -> (Vec<i64>, Vec<Run>) {
    let mut assigned = assigned.to_vec();
    assigned.sort_by_key(|r| r.first);
    let mut pieces: Vec<Run> = assigned.iter().copied().filter(Run::held).collect();
    for e in existing {
        // The assigned runs that overlap `e`, in order: what is left of `e` lies between them.
        let from = assigned.partition_point(|a| a.last < e.first);
        let mut next = e.first;
        for a in assigned[from..].iter().take_while(|a| a.first <= e.last) {
            if a.first > next {
                pieces.push(Run {
                    first: next,
                    last: a.first - 1,
                    ..*e
                });
            }
            next = next.max(a.last + 1);
        }
        if next <= e.last {
            pieces.push(Run { first: next, ..*e });
        }
    }
    pieces.sort_by_key(|r| r.first);
    let mut merged: Vec<Run> = Vec::with_capacity(pieces.len());
    for p in pieces {
        match merged.last_mut() {
            Some(m) if m.last + 1 == p.first && m.same_holder(&p) => m.last = p.last,
            _ => merged.push(p),
        }
    }
    let kept: HashSet<Run> = existing.iter().copied().collect();
    let result: HashSet<Run> = merged.iter().copied().collect();
    let deleted = existing
        .iter()
        .filter(|e| !result.contains(e))
        .map(|e| e.first)
        .collect();
    let inserted = merged.into_iter().filter(|r| !kept.contains(r)).collect();
    (deleted, inserted)
}

/// The runs of consecutive ids among `booklets` (id, territory, structure), sorted by id, each
/// with one holder.
pub(crate) fn runs_of(booklets: &[(i64, Option<i64>, Option<i64>)]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for &(id, territory, structure) in booklets {
        match runs.last_mut() {
            Some(r) if r.last + 1 == id && r.territory == territory && r.structure == structure => {
                r.last = id
            }
            _ => runs.push(Run {
                first: id,
                last: id,
                territory,
                structure,
            }),
        }
    }
    runs
}

/// Writes each run's new holder on its booklets and in `holder_runs`, and checks that exactly
/// `wanted` booklets moved.
pub(crate) async fn write_holders(
    engine: Engine,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
    runs: &[Run],
    wanted: i64,
) -> Result<(), StoreError> {
    // The id ranges alone: these ids were read under the order's lock in this transaction.
    // (Adding "order_id = … AND distributor_id IS NULL" led both planners to the stock index
    // of the time, which they then scanned whole each time. PostgreSQL's per-row check of the
    // key to `distributors` was a third of the time: migration 30 leaves that to the checks of
    // each destination. No index covers the holder columns since migration 35, so PostgreSQL
    // rewrites each row in place; `holder_runs` is written after, one row per run.)
    let mut moved = 0i64;
    match engine {
        // On PostgreSQL a statement per run costs more than its rows: in psql, 2,000 UPDATEs
        // of 50 booklets took 1.70 s, the same rows in four `UPDATE … FROM (VALUES …)` 0.74 s
        // (scripts/bench/pg-holder-floor.sh's layout); in `passnum bench`, three alternating
        // pairs, 1.81 → 1.56 s for 1,000 structures and 1.82 → 1.42 s for stage one over 500
        // territories (medians; BENCHMARKS.md, seventeenth session). The first row's casts
        // type the VALUES columns, so the join keeps to the primary key's index.
        Engine::Postgres => {
            for chunk in runs.chunks(PER_STATEMENT) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| {
                        let p = 4 * i;
                        if i == 0 {
                            "($1::bigint, $2::bigint, $3::bigint, $4::bigint)".to_string()
                        } else {
                            format!("(${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4)
                        }
                    })
                    .collect();
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE booklets AS b SET territory_id = v.t, distributor_id = v.d \
                     FROM (VALUES {}) AS v (lo, hi, t, d) WHERE b.id BETWEEN v.lo AND v.hi",
                    rows.join(", ")
                )));
                for r in chunk {
                    q = q
                        .bind(r.first)
                        .bind(r.last)
                        .bind(r.territory)
                        .bind(r.structure);
                }
                moved += q.execute(&mut **tx).await?.rows_affected() as i64;
            }
        }
        // SQLite's statements cost little: one per run, each by the primary key.
        Engine::Sqlite => {
            for r in runs {
                moved += sqlx::query(
                    "UPDATE booklets SET territory_id = $1, distributor_id = $2 WHERE id BETWEEN $3 AND $4",
                )
                .bind(r.territory)
                .bind(r.structure)
                .bind(r.first)
                .bind(r.last)
                .execute(&mut **tx)
                .await?
                .rows_affected() as i64;
            }
        }
    }
    if moved != wanted {
        return Err(StoreError::corrupt(format!(
            "{moved} carnets répartis au lieu de {wanted}"
        )));
    }
    assign(tx, order, runs).await
}

/// Records that the booklets of `assigned` (ids of `order`, disjoint runs) now have these
/// holders; write_holders calls it after updating their rows, in the same transaction.
async fn assign(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
    assigned: &[Run],
) -> Result<(), StoreError> {
    let (Some(lo), Some(hi)) = (
        assigned.iter().map(|r| r.first).min(),
        assigned.iter().map(|r| r.last).max(),
    ) else {
        return Ok(());
    };
    // Runs that touch the span too, so that a neighbour of the same holder merges.
    let existing: Vec<Run> = sqlx::query(
        "SELECT first_id, last_id, territory_id, distributor_id FROM holder_runs \
         WHERE order_id = $1 AND first_id <= $2 AND last_id >= $3 ORDER BY first_id",
    )
    .bind(order.0)
    .bind(hi + 1)
    .bind(lo - 1)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok(Run {
            first: get_i64(r, "first_id")?,
            last: get_i64(r, "last_id")?,
            territory: get_opt_i64(r, "territory_id")?,
            structure: get_opt_i64(r, "distributor_id")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let (deleted, inserted) = repartition(&existing, assigned);
    for chunk in deleted.chunks(PER_STATEMENT) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM holder_runs WHERE first_id IN ({})",
            marks.join(", ")
        )));
        for first in chunk {
            q = q.bind(*first);
        }
        q.execute(&mut **tx).await?;
    }
    for chunk in inserted.chunks(PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = 5 * i;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5
                )
            })
            .collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO holder_runs (first_id, last_id, order_id, territory_id, distributor_id) VALUES {}",
            rows.join(", ")
        )));
        for r in chunk {
            q = q
                .bind(r.first)
                .bind(r.last)
                .bind(order.0)
                .bind(r.territory)
                .bind(r.structure);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Runs per statement: four or five bound values each, well under SQLite's and PostgreSQL's
/// limits.
const PER_STATEMENT: usize = 500;

/// Ledger checks: the runs and the booklets' holder columns agree. Each run counts its own
/// booklets by primary key (a correlated subquery): as a join on `BETWEEN`, PostgreSQL guessed
/// a third of the table behind each run and took 109 s for 300,000 booklets, against 0.2 s.
pub(crate) const CHECKS: &[(&str, &str)] = &[
    (
        "carnet dont le détenteur diffère de sa plage",
        "SELECT CAST(COALESCE(SUM((SELECT COUNT(*) FROM booklets b WHERE b.id BETWEEN r.first_id AND r.last_id \
         AND (b.order_id <> r.order_id OR COALESCE(b.territory_id, 0) <> COALESCE(r.territory_id, 0) \
         OR COALESCE(b.distributor_id, 0) <> COALESCE(r.distributor_id, 0)))), 0) AS BIGINT) FROM holder_runs r",
    ),
    (
        // Counts agree only if runs neither overlap, nor hold missing ids, nor miss a booklet.
        "carnet confié hors des plages de détenteurs",
        "WITH inside AS (SELECT CAST(COALESCE(SUM((SELECT COUNT(*) FROM booklets b \
         WHERE b.id BETWEEN r.first_id AND r.last_id)), 0) AS BIGINT) AS n FROM holder_runs r) \
         SELECT ABS((SELECT COUNT(*) FROM booklets WHERE territory_id IS NOT NULL OR distributor_id IS NOT NULL) \
         - (SELECT n FROM inside)) \
         + ABS((SELECT CAST(COALESCE(SUM(last_id - first_id + 1), 0) AS BIGINT) FROM holder_runs) \
         - (SELECT n FROM inside))",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn run(first: i64, last: i64, t: Option<i64>, s: Option<i64>) -> Run {
        Run {
            first,
            last,
            territory: t,
            structure: s,
        }
    }

    /// Applies a repartition to a set of runs, as the database would.
    fn apply(existing: &[Run], assigned: &[Run]) -> Vec<Run> {
        let (deleted, inserted) = repartition(existing, assigned);
        let mut out: Vec<Run> = existing
            .iter()
            .filter(|r| !deleted.contains(&r.first))
            .copied()
            .chain(inserted)
            .collect();
        out.sort_by_key(|r| r.first);
        out
    }

    #[test]
    fn a_first_allocation_stores_its_runs() {
        let a = [run(1, 50, Some(1), None), run(51, 100, Some(2), None)];
        assert_eq!(apply(&[], &a), a.to_vec());
    }

    #[test]
    fn a_share_splits_the_territory_run_and_keeps_the_rest() {
        let before = [run(1, 100, Some(1), None)];
        let after = apply(&before, &[run(11, 20, Some(1), Some(7))]);
        assert_eq!(
            after,
            vec![
                run(1, 10, Some(1), None),
                run(11, 20, Some(1), Some(7)),
                run(21, 100, Some(1), None)
            ]
        );
    }

    #[test]
    fn neighbours_of_one_holder_merge_and_untouched_runs_are_not_rewritten() {
        let before = [
            run(1, 10, None, Some(3)),
            run(11, 20, None, Some(4)),
            run(40, 50, None, Some(4)),
        ];
        let (deleted, inserted) = repartition(&before, &[run(11, 20, None, Some(3))]);
        assert_eq!(deleted, vec![1, 11]);
        assert_eq!(inserted, vec![run(1, 20, None, Some(3))]);
    }

    #[test]
    fn a_run_given_back_to_the_funder_is_removed() {
        let before = [run(1, 10, Some(1), None)];
        assert_eq!(
            apply(&before, &[run(3, 4, None, None)]),
            vec![run(1, 2, Some(1), None), run(5, 10, Some(1), None)]
        );
    }

    #[test]
    fn several_assignments_inside_one_run_leave_each_gap() {
        let before = [run(1, 10, Some(1), None)];
        let after = apply(
            &before,
            &[run(8, 8, Some(1), Some(2)), run(2, 3, Some(1), Some(2))],
        );
        assert_eq!(
            after,
            vec![
                run(1, 1, Some(1), None),
                run(2, 3, Some(1), Some(2)),
                run(4, 7, Some(1), None),
                run(8, 8, Some(1), Some(2)),
                run(9, 10, Some(1), None)
            ]
        );
    }

    #[test]
    fn runs_of_splits_on_gaps_and_on_holders() {
        let b = [
            (1, Some(1), None),
            (2, Some(1), None),
            (4, Some(1), None),
            (5, Some(2), None),
        ];
        assert_eq!(
            runs_of(&b),
            vec![
                run(1, 2, Some(1), None),
                run(4, 4, Some(1), None),
                run(5, 5, Some(2), None)
            ]
        );
    }
}
