//! The workshop side of a redemption batch: read the batch's workshops (locked on PostgreSQL,
//! so that two servers decide one after the other), admit each scan with core's rule "one
//! cheque per booklet per workshop, walk-ins up to capacity", then write the seats and the
//! bookings attended. The database's own unique index backs the rule.

use std::collections::{HashMap, HashSet};

use passnum_core::Timestamp;
use passnum_core::workshop::{WorkshopScanRefusal, WorkshopView, check_workshop_scan};

use crate::redeem::RedeemRequest;
use crate::rows::{get_i64, placeholders};
use crate::workshops::{WORKSHOP_COLUMNS, with_services, workshop_row};
use crate::{Engine, StoreError};

/// What a batch knows of its workshops, updated as it admits scans.
pub(crate) struct BatchWorkshops {
    engine: Engine,
    /// The programme asks every scan to name a workshop.
    required: bool,
    views: HashMap<i64, WorkshopView>,
    /// (workshop, booklet) with a redemption in force.
    scanned: HashSet<(i64, i64)>,
    /// (workshop, booklet) with a place booked and not yet used.
    booked: HashSet<(i64, i64)>,
    /// Seats taken by people scanned without a booking, per workshop.
    walk_ins: HashMap<i64, i64>,
    /// (workshop, booklet, cheque) of the bookings this batch uses.
    attended: Vec<(i64, i64, i64)>,
}

fn pairs(rows: &[sqlx::any::AnyRow]) -> Result<HashSet<(i64, i64)>, StoreError> {
    rows.iter()
        .map(|r| Ok((get_i64(r, "workshop_id")?, get_i64(r, "booklet_id")?)))
        .collect()
}

/// `booklets`: the booklets of the batch's cheques scanned for a workshop; only their pairs
/// are read, through the (workshop, booklet) indexes, so a batch costs the same however many
/// people a workshop has already seen.
pub(crate) async fn read(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    reqs: &[RedeemRequest],
    booklets: &[i64],
) -> Result<BatchWorkshops, StoreError> {
    let required: i64 =
        sqlx::query_scalar("SELECT workshop_required FROM programme_settings WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
    let mut batch = BatchWorkshops {
        engine,
        required: required == 1,
        views: HashMap::new(),
        scanned: HashSet::new(),
        booked: HashSet::new(),
        walk_ins: HashMap::new(),
        attended: Vec::new(),
    };
    let mut ids: Vec<i64> = reqs.iter().filter_map(|r| r.workshop_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || booklets.is_empty() {
        return Ok(batch);
    }
    let marks = placeholders(engine, 0, ids.len());
    let lock = if engine == Engine::Postgres {
        " FOR UPDATE OF w"
    } else {
        ""
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {WORKSHOP_COLUMNS} FROM workshops w WHERE w.id IN ({marks}) ORDER BY w.id{lock}"
    )));
    for id in &ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(&mut *tx).await?;
    let list = rows
        .iter()
        .map(workshop_row)
        .collect::<Result<Vec<_>, _>>()?;
    for w in with_services(&mut *tx, engine, list).await? {
        batch.views.insert(w.id, w.view());
    }
    let mut booklets = booklets.to_vec();
    booklets.sort_unstable();
    booklets.dedup();
    let pair_marks = format!(
        "workshop_id IN ({}) AND booklet_id IN ({})",
        placeholders(engine, 0, ids.len()),
        placeholders(engine, ids.len(), booklets.len())
    );
    // Each condition repeats its partial index's own (`workshop_id IS NOT NULL`, `status <>
    // 'cancelled'`), so that SQLite's planner knows the index applies.
    for (sql, set) in [
        (
            "SELECT workshop_id, booklet_id FROM redemptions WHERE workshop_id IS NOT NULL AND rolled_back_at IS NULL AND",
            &mut batch.scanned,
        ),
        (
            "SELECT workshop_id, booklet_id FROM bookings WHERE status <> 'cancelled' AND status = 'booked' AND",
            &mut batch.booked,
        ),
    ] {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("{sql} {pair_marks}")));
        for id in &ids {
            q = q.bind(*id);
        }
        for b in &booklets {
            q = q.bind(*b);
        }
        *set = pairs(&q.fetch_all(&mut *tx).await?)?;
    }
    Ok(batch)
}

impl BatchWorkshops {
    /// Admits a scan whose cheque is good: its workshop's rules, then its seat.
    pub(crate) fn admit(
        &mut self,
        req: &RedeemRequest,
        booklet: i64,
        cheque: i64,
    ) -> Result<(), WorkshopScanRefusal> {
        let Some(w) = req.workshop_id else {
            return if self.required {
                Err(WorkshopScanRefusal::Required)
            } else {
                Ok(())
            };
        };
        let booked = self.booked.contains(&(w, booklet));
        check_workshop_scan(
            self.views.get(&w),
            req.venue_id,
            &req.service_code,
            self.scanned.contains(&(w, booklet)),
            booked,
            req.now,
        )?;
        self.scanned.insert((w, booklet));
        if booked {
            self.booked.remove(&(w, booklet));
            self.attended.push((w, booklet, cheque));
        } else {
            if let Some(v) = self.views.get_mut(&w) {
                v.seats_taken += 1;
            }
            *self.walk_ins.entry(w).or_default() += 1;
        }
        Ok(())
    }

    /// Writes the seats taken by walk-ins and the bookings used (cheque id → redemption id).
    pub(crate) async fn write(
        &self,
        tx: &mut sqlx::AnyConnection,
        redemptions: &HashMap<i64, i64>,
    ) -> Result<(), StoreError> {
        if !self.walk_ins.is_empty() {
            // One statement for the batch, however many workshops it touched.
            let sql = format!(
                "UPDATE workshops SET seats_taken = seats_taken + v.column2 FROM (VALUES {}) AS v \
                 WHERE workshops.id = v.column1",
                crate::rows::value_rows(self.engine, self.walk_ins.len(), 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (w, n) in &self.walk_ins {
                q = q.bind(*w).bind(*n);
            }
            q.execute(&mut *tx).await?;
        }
        for (w, booklet, cheque) in &self.attended {
            let id = redemptions
                .get(cheque)
                .ok_or_else(|| StoreError::corrupt("réservation sans encaissement"))?;
            sqlx::query(
                "UPDATE bookings SET status = 'attended', redemption_id = $1, contact = NULL, consent_at = NULL \
                 WHERE workshop_id = $2 AND booklet_id = $3 AND status = 'booked'",
            )
            .bind(*id)
            .bind(*w)
            .bind(*booklet)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// A redemption for a workshop is cancelled: its booking is a booking again, or the seat a
/// walk-in took is free again.
pub(crate) async fn release(
    tx: &mut sqlx::AnyConnection,
    workshop: i64,
    redemption: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE bookings SET status = 'booked', redemption_id = NULL, updated_at = $1 \
         WHERE redemption_id = $2 AND status = 'attended'",
    )
    .bind(now.unix_ms())
    .bind(redemption)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        sqlx::query(
            "UPDATE workshops SET seats_taken = seats_taken - 1 WHERE id = $1 AND seats_taken > 0",
        )
        .bind(workshop)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
