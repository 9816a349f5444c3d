//! Each venue's payment mark (migration 37): every redemption of the venue below it is settled
//! for good (rolled back, or paid by a confirmed run), so that preparing a run reads only the
//! venue's redemptions from the mark on (`eligible`), whatever the size of the books.
//!
//! The marks are moved by the daily job (`passnum jobs run`), not by the confirmation of a run:
//! a mark is an optimisation, never a money decision (a mark lower than it could be only makes
//! the next preparation read more), and moving the marks over a run of a million redemptions
//! took 0.9–1.1 s of the confirmation the officer waits for (issue 18, BENCHMARKS.md,
//! twenty-first session).

use crate::rows::get_i64;
use crate::{Store, StoreError};
use passnum_core::Timestamp;

/// Venues read per statement (then their marks written in one short transaction).
const SLICE: i64 = 200;

/// For up to `$3` venues with an id above `$2`, in id order: each one's mark (`old`) and where
/// it may move (`below`), over the redemptions that are settled and were made before `$1`, the
/// end of the rollback window.
///
/// Why the window: redemptions take their id when inserted and commit later, so one still
/// being written can hold an id below a settled one. A redemption made before the window's end
/// took its id at least that long ago (24 h by default), and so did any id below it: a write
/// open that long does not happen (a batch lasts milliseconds). The mark therefore moves to
/// just above the last of the settled, old enough redemptions that follow it, never up to the
/// first one that stops it (in force and unpaid, or too recent): an id between those two may
/// belong to a redemption being written. Each venue is read along `redemptions_venue
/// (venue_id, id)` from its mark; each redemption read costs an index probe by its cheque
/// (`CASE` fixes the order of the tests, so that the probe is made only when needed). A
/// set-based anti-join would be cheaper than the probes, but its plan follows the run items'
/// statistics, stale just after a large run: it went quadratic.
const NEXT: &str = concat!(
    "SELECT y.venue_id, y.old, COALESCE((SELECT r.id + 1 FROM redemptions r WHERE r.venue_id = y.venue_id \
       AND r.id >= y.old AND (y.stop IS NULL OR r.id < y.stop) ORDER BY r.id DESC LIMIT 1), y.old) AS below \
     FROM (SELECT v.id AS venue_id, COALESCE(m.below_id, 0) AS old, \
       (SELECT r.id FROM redemptions r WHERE r.venue_id = v.id AND r.id >= COALESCE(m.below_id, 0) \
        AND CASE WHEN r.redeemed_at > $1 THEN 1 WHEN r.rolled_back_at IS NOT NULL THEN 0 \
          WHEN ",
    paid!("r.cheque_id", " AND i.redemption_id = r.id"),
    " THEN 0 ELSE 1 END = 1 ORDER BY r.id LIMIT 1) AS stop \
       FROM venues v LEFT JOIN venue_payment_marks m ON m.venue_id = v.id \
       WHERE v.id > $2 ORDER BY v.id LIMIT $3) y"
);

/// What `passnum ledger check` proves of the marks (with the cheques' history).
pub(crate) const CHECKS: &[(&str, &str)] = &[(
    "encaissement actif sous la marque de paiement de son lieu sans avoir été payé",
    concat!(
        "SELECT COUNT(*) FROM venue_payment_marks m JOIN redemptions r ON r.venue_id = m.venue_id \
         AND r.id < m.below_id WHERE r.rolled_back_at IS NULL AND NOT ",
        paid!("r.cheque_id", " AND i.redemption_id = r.id")
    ),
)];

impl Store {
    /// Moves each venue's payment mark up over its settled redemptions made before the end of
    /// the rollback window at `now` (the daily job). Each slice of venues is read first, then
    /// its marks written in a short transaction: on SQLite the probes do not hold the write
    /// lock. A mark only goes up; if two jobs run at once, or the books changed since the
    /// read, what is written is still a valid mark, since a settled redemption stays settled.
    /// Returns how many venues' marks moved.
    pub async fn move_payment_marks(&self, now: Timestamp) -> Result<u64, StoreError> {
        let window_end = now.plus_ms(-self.options().rollback_window_ms).unix_ms();
        let (mut after, mut moved) = (0_i64, 0_u64);
        loop {
            let rows = sqlx::query(NEXT)
                .bind(window_end)
                .bind(after)
                .bind(SLICE)
                .fetch_all(self.pool())
                .await?;
            let Some(last) = rows.last() else {
                return Ok(moved);
            };
            after = get_i64(last, "venue_id")?;
            let mut up = Vec::new();
            for r in &rows {
                let (venue, old, below) = (
                    get_i64(r, "venue_id")?,
                    get_i64(r, "old")?,
                    get_i64(r, "below")?,
                );
                if below > old {
                    up.push((venue, below));
                }
            }
            if !up.is_empty() {
                crate::retry::retrying(self.telemetry(), "payment_marks", || self.write_marks(&up))
                    .await?;
                moved += up.len() as u64;
            }
        }
    }

    async fn write_marks(&self, marks: &[(i64, i64)]) -> Result<(), StoreError> {
        let values = (0..marks.len())
            .map(|k| format!("(${}, ${})", 2 * k + 1, 2 * k + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO venue_payment_marks (venue_id, below_id) VALUES {values} \
             ON CONFLICT (venue_id) DO UPDATE SET below_id = excluded.below_id \
             WHERE venue_payment_marks.below_id < excluded.below_id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (venue, below) in marks {
            query = query.bind(*venue).bind(*below);
        }
        let mut tx = self.begin_write().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
