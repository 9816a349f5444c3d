//! Each venue's payment mark (migration 37): every redemption of the venue below it is settled
//! for good (rolled back, or paid by a confirmed run), so that preparing a run reads only the
//! venue's redemptions from the mark on (`eligible`), whatever the size of the books.

/// Moves up the marks of the venues of run `$1`, just confirmed (in its transaction), over the
/// redemptions that are settled and were made before `$2`, the end of the rollback window.
///
/// Why the window: redemptions take their id when inserted and commit later, so one still
/// being written can hold an id below a settled one. A redemption made before the window's end
/// took its id at least that long ago (24 h by default), and so did any id below it: a write
/// open that long does not happen (a batch lasts milliseconds). The mark therefore moves to
/// just above the last of the settled, old enough redemptions that follow it, never up to
/// the first one that stops it (in force and unpaid, or too recent): an id between those two
/// may belong to a redemption being written. Each venue is read along `redemptions_venue
/// (venue_id, id)` from its old mark, about the cheques the run paid it. Two confirmations of
/// one venue at once may write the lower of their marks: a mark too low costs a longer read,
/// never a cheque.
///
/// Cost. When the venue's redemptions from its mark to the run's last one are exactly the run's
/// items (counted along the index: the items are redemptions of the venue in that range, one
/// each, so equal counts mean the same rows), all are settled and old enough, and the search
/// for the stop starts after them. Otherwise (a rollback in the range, a cheque another run
/// paid) each redemption read costs an index probe (`CASE` fixes their order): in this run's
/// key first (run, venue, redemption: the probes of one venue follow each other), else by its
/// cheque in every confirmed run (`payment_items_cheque_once`; by the redemption id alone,
/// PostgreSQL walked the items' key over every item of each run, minutes after a run of a
/// million). A set-based anti-join would be cheaper than the probes, but its plan follows the
/// run items' statistics, stale while the run is confirmed: it went quadratic.
pub(super) const ADVANCE: &str = "INSERT INTO venue_payment_marks (venue_id, below_id) \
     SELECT y.venue_id, COALESCE((SELECT r.id + 1 FROM redemptions r WHERE r.venue_id = y.venue_id \
       AND r.id >= y.old AND (y.stop IS NULL OR r.id < y.stop) ORDER BY r.id DESC LIMIT 1), y.old) \
     FROM (SELECT x.venue_id, x.old, \
       (SELECT r.id FROM redemptions r WHERE r.venue_id = x.venue_id \
        AND r.id >= CASE WHEN x.low >= x.old AND x.n = (SELECT COUNT(*) FROM redemptions c \
          WHERE c.venue_id = x.venue_id AND c.id >= x.old AND c.id <= x.top) THEN x.top + 1 ELSE x.old END \
        AND CASE WHEN r.redeemed_at > $2 THEN 1 WHEN r.rolled_back_at IS NOT NULL THEN 0 \
          WHEN EXISTS (SELECT 1 FROM payment_run_items t WHERE t.run_id = $1 AND t.venue_id = r.venue_id \
            AND t.redemption_id = r.id AND t.cancelled = 0) THEN 0 \
          WHEN EXISTS (SELECT 1 FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
            WHERE i.cheque_id = r.cheque_id AND i.redemption_id = r.id AND i.cancelled = 0 \
            AND p.status = 'confirmed') THEN 0 ELSE 1 END = 1 \
        ORDER BY r.id LIMIT 1) AS stop \
       FROM (SELECT i.venue_id, COALESCE(MAX(m.below_id), 0) AS old, MIN(i.redemption_id) AS low, \
             MAX(i.redemption_id) AS top, COUNT(*) AS n FROM payment_run_items i \
             LEFT JOIN venue_payment_marks m ON m.venue_id = i.venue_id \
             WHERE i.run_id = $1 AND i.cancelled = 0 GROUP BY i.venue_id) x) y \
     WHERE 1 = 1 \
     ON CONFLICT (venue_id) DO UPDATE SET below_id = excluded.below_id";

/// What `passnum ledger check` proves of the marks (with the cheques' history).
pub(crate) const CHECKS: &[(&str, &str)] = &[(
    "encaissement actif sous la marque de paiement de son lieu sans avoir été payé",
    "SELECT COUNT(*) FROM venue_payment_marks m JOIN redemptions r ON r.venue_id = m.venue_id AND r.id < m.below_id \
     WHERE r.rolled_back_at IS NULL AND NOT EXISTS (SELECT 1 FROM payment_run_items i \
     JOIN payment_runs p ON p.id = i.run_id WHERE i.cheque_id = r.cheque_id AND i.redemption_id = r.id AND i.cancelled = 0 AND p.status = 'confirmed')",
)];
