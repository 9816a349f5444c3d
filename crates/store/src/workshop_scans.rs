//! The workshop side of a redemption batch: read the batch's workshops (locked on PostgreSQL,
//! so that two servers decide one after the other), admit each scan with core's rule "one
//! cheque per booklet per workshop, walk-ins up to capacity", then write the seats and the
//! bookings attended. The database's own unique index backs the rule.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use passnum_core::Timestamp;
use passnum_core::workshop::{WorkshopScanRefusal, WorkshopView, check_workshop_scan};

use crate::redeem::RedeemRequest;
use crate::rows::{Caches, get_i64, get_string, placeholders};
use crate::workshops::{WORKSHOP_COLUMNS, workshop_row};
use crate::{Engine, StoreError};

/// What a batch knows of its workshops, updated as it admits scans.
pub(crate) struct BatchWorkshops {
    engine: Engine,
    /// The programme asks every scan to name a workshop.
    required: bool,
    views: HashMap<i64, WorkshopView>,
    /// Each workshop's format, for the figures.
    formats: HashMap<i64, &'static str>,
    /// (workshop, booklet) with a redemption in force.
    scanned: HashSet<(i64, i64)>,
    /// (workshop, booklet) with a place booked and not yet used.
    booked: HashSet<(i64, i64)>,
    /// Seats taken by people scanned without a booking, per workshop.
    walk_ins: HashMap<i64, i64>,
    /// (workshop, booklet, cheque) of the bookings this batch uses.
    attended: Vec<(i64, i64, i64)>,
}

/// How long a server trusts its copy of the programme's "workshop required" setting. The
/// server that changes it sees the change at once; another server sharing the database, within
/// this delay. Reading it in every batch cost a round trip per batch.
const SETTING_TTL: Duration = Duration::from_secs(2);

async fn workshop_required(
    tx: &mut sqlx::AnyConnection,
    caches: &Caches,
) -> Result<bool, StoreError> {
    if let Some((required, at)) = *caches.workshop_required.lock()
        && at.elapsed() < SETTING_TTL
    {
        return Ok(required);
    }
    let v: i64 =
        sqlx::query_scalar("SELECT workshop_required FROM programme_settings WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
    *caches.workshop_required.lock() = Some((v == 1, Instant::now()));
    Ok(v == 1)
}

/// `pairs`: (workshop, booklet) of the batch's cheques scanned for a workshop; only these are
/// looked up, one index probe each, so a batch costs the same however many people a workshop
/// has already seen. (Lists of workshops and of booklets, crossed, probed every combination:
/// ten workshops and 256 booklets made 2,560 probes a batch.) Two statements whatever the
/// batch: its workshops with their services (locked on PostgreSQL), and its pairs in
/// redemptions and bookings.
pub(crate) async fn read(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    caches: &Caches,
    reqs: &[RedeemRequest],
    pairs: &[(i64, i64)],
) -> Result<BatchWorkshops, StoreError> {
    let mut batch = BatchWorkshops {
        engine,
        required: workshop_required(tx, caches).await?,
        views: HashMap::new(),
        formats: HashMap::new(),
        scanned: HashSet::new(),
        booked: HashSet::new(),
        walk_ins: HashMap::new(),
        attended: Vec::new(),
    };
    let mut ids: Vec<i64> = reqs.iter().filter_map(|r| r.workshop_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || pairs.is_empty() {
        return Ok(batch);
    }
    let lock = if engine == Engine::Postgres {
        " FOR UPDATE OF w"
    } else {
        ""
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {WORKSHOP_COLUMNS}, s.service_code FROM workshops w \
         JOIN workshop_services s ON s.workshop_id = w.id WHERE w.id IN ({}) ORDER BY w.id{lock}",
        placeholders(engine, 0, ids.len())
    )));
    for id in &ids {
        q = q.bind(*id);
    }
    for r in q.fetch_all(&mut *tx).await? {
        let id = get_i64(&r, "id")?;
        let service = get_string(&r, "service_code")?;
        match batch.views.get_mut(&id) {
            Some(v) => v.services.push(service),
            None => {
                let w = workshop_row(&r)?;
                batch.formats.insert(id, w.format.as_str());
                let mut v = w.view();
                v.services.push(service);
                batch.views.insert(id, v);
            }
        }
    }
    let mut pairs = pairs.to_vec();
    pairs.sort_unstable();
    pairs.dedup();
    // Each half repeats its partial index's own condition (`workshop_id IS NOT NULL`, `status
    // <> 'cancelled'`), so that SQLite's planner knows the index applies, and joins the pairs
    // as a table: written `(workshop_id, booklet_id) IN (VALUES …)`, SQLite scanned the whole
    // index instead of searching it. On SQLite the `?` are bound in order, so the pairs are
    // bound once per half.
    let list = crate::rows::value_rows(engine, pairs.len(), 2);
    let sql = format!(
        "SELECT 0 AS booked, r.workshop_id, r.booklet_id FROM (VALUES {list}) AS v \
         JOIN redemptions r ON r.booklet_id = v.column2 AND r.workshop_id = v.column1 \
         WHERE r.workshop_id IS NOT NULL AND r.rolled_back_at IS NULL \
         UNION ALL SELECT 1 AS booked, b.workshop_id, b.booklet_id FROM (VALUES {list}) AS v \
         JOIN bookings b ON b.workshop_id = v.column1 AND b.booklet_id = v.column2 \
         WHERE b.status <> 'cancelled' AND b.status = 'booked'"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    let halves = if engine == Engine::Sqlite { 2 } else { 1 };
    for _ in 0..halves {
        for (w, b) in &pairs {
            q = q.bind(*w).bind(*b);
        }
    }
    for r in q.fetch_all(&mut *tx).await? {
        let pair = (get_i64(&r, "workshop_id")?, get_i64(&r, "booklet_id")?);
        if get_i64(&r, "booked")? == 1 {
            batch.booked.insert(pair);
        } else {
            batch.scanned.insert(pair);
        }
    }
    Ok(batch)
}

impl BatchWorkshops {
    /// The format code of a workshop of the batch ("none" without one).
    pub(crate) fn format_of(&self, workshop: Option<i64>) -> &'static str {
        workshop
            .and_then(|w| self.formats.get(&w).copied())
            .unwrap_or("none")
    }

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
