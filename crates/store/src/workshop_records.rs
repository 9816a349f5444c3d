//! Activity records (comptes rendus) of workshops: written or corrected by their venue once the
//! workshop has started, read back one at a time or a month at a time for the export.

use std::collections::HashMap;

use passnum_core::workshop::record::{
    ActivityRecord, AgeBand, Autonomy, Equipment, Participant, RecordRefusal, Theme,
    check_record_time, join_codes, split_codes,
};
use passnum_core::{Timestamp, VenueId};
use sqlx::any::AnyRow;

use crate::rows::{get_i64, get_opt_i64, get_opt_string, get_string, placeholders, value_rows};
use crate::workshops::{WORKSHOP_COLUMNS, Workshop, with_services, workshop_row};
use crate::{Store, StoreError};

/// A record as stored, with when and how it was last written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub record: ActivityRecord,
    pub recorded_at: Timestamp,
    /// "page" or "api".
    pub via: String,
    /// Corrections since it was first filled.
    pub revision: i64,
}

/// A workshop with what its record is bounded by and the record itself, if filled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkshopActivity {
    pub workshop: Workshop,
    /// Cheques scanned for it (not cancelled).
    pub scanned: i64,
    pub record: Option<StoredRecord>,
}

/// Most workshops a month's export holds (20 slots a day, every day, is 620).
pub const MAX_MONTH_WORKSHOPS: i64 = 2000;

fn refusal(r: RecordRefusal) -> StoreError {
    match r {
        RecordRefusal::BelowScans => StoreError::Conflict {
            code: r.code(),
            message: r.to_string(),
        },
        _ => StoreError::Invalid {
            code: r.code(),
            message: r.to_string(),
        },
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::corrupt(format!("compte rendu : {what}"))
}

fn record_row(r: &AnyRow, participants: Vec<Participant>) -> Result<StoredRecord, StoreError> {
    Ok(StoredRecord {
        record: ActivityRecord {
            attendance: get_i64(r, "attendance")?,
            duration_min: get_i64(r, "record_duration")?,
            themes: split_codes(&get_string(r, "themes")?, Theme::parse)
                .ok_or_else(|| corrupt("thématique"))?,
            equipment: split_codes(&get_string(r, "equipment")?, Equipment::parse)
                .ok_or_else(|| corrupt("matériel"))?,
            participants,
        },
        recorded_at: Timestamp::from_unix_ms(get_i64(r, "recorded_at")?),
        via: get_string(r, "via")?,
        revision: get_i64(r, "record_revision")?,
    })
}

fn participant_row(r: &AnyRow) -> Result<Participant, StoreError> {
    Ok(Participant {
        age: get_opt_string(r, "age_band")?
            .map(|s| AgeBand::parse(&s).ok_or_else(|| corrupt("tranche d'âge")))
            .transpose()?,
        autonomy: get_opt_string(r, "autonomy")?
            .map(|s| Autonomy::parse(&s).ok_or_else(|| corrupt("autonomie")))
            .transpose()?,
        oriented: get_opt_i64(r, "oriented")?.map(|v| v != 0),
    })
}

/// Joins the scans, the record and its participants to a list of workshops read from `rows`.
async fn with_activity(
    conn: &mut sqlx::AnyConnection,
    engine: crate::Engine,
    rows: Vec<AnyRow>,
) -> Result<Vec<WorkshopActivity>, StoreError> {
    let workshops = rows
        .iter()
        .map(workshop_row)
        .collect::<Result<Vec<_>, _>>()?;
    let workshops = with_services(conn, engine, workshops).await?;
    if workshops.is_empty() {
        return Ok(vec![]);
    }
    let ids = placeholders(engine, 0, workshops.len());
    let bind_all = |sql: String| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for w in &workshops {
            q = q.bind(w.id);
        }
        q
    };
    let mut scanned: HashMap<i64, i64> = HashMap::new();
    for r in bind_all(format!(
        "SELECT workshop_id, COUNT(*) AS n FROM redemptions WHERE workshop_id IN ({ids}) AND rolled_back_at IS NULL GROUP BY workshop_id"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        scanned.insert(get_i64(&r, "workshop_id")?, get_i64(&r, "n")?);
    }
    let mut participants: HashMap<i64, Vec<Participant>> = HashMap::new();
    for r in bind_all(format!(
        "SELECT workshop_id, age_band, autonomy, oriented FROM workshop_record_participants WHERE workshop_id IN ({ids}) ORDER BY workshop_id, position"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        participants
            .entry(get_i64(&r, "workshop_id")?)
            .or_default()
            .push(participant_row(&r)?);
    }
    workshops
        .into_iter()
        .zip(&rows)
        .map(|(w, r)| {
            let record = match get_opt_i64(r, "attendance")? {
                Some(_) => Some(record_row(
                    r,
                    participants.remove(&w.id).unwrap_or_default(),
                )?),
                None => None,
            };
            Ok(WorkshopActivity {
                scanned: scanned.get(&w.id).copied().unwrap_or(0),
                record,
                workshop: w,
            })
        })
        .collect()
}

const RECORD_COLUMNS: &str = "r.attendance, r.duration_min AS record_duration, r.themes, r.equipment, \
     r.recorded_at, r.via, r.revision AS record_revision";

impl Store {
    /// One workshop of `venue` with its scans and record; NotFound for another venue's.
    pub async fn workshop_activity(
        &self,
        venue: VenueId,
        id: i64,
    ) -> Result<WorkshopActivity, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WORKSHOP_COLUMNS}, {RECORD_COLUMNS} FROM workshops w \
             LEFT JOIN workshop_records r ON r.workshop_id = w.id WHERE w.id = $1 AND w.venue_id = $2"
        )))
        .bind(id)
        .bind(venue.0)
        .fetch_all(&mut *conn)
        .await?;
        with_activity(&mut conn, self.engine(), rows)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    /// The workshops of `venue` that started in [from, to) and were not cancelled, in time
    /// order, each with its record if filled: a month's activity.
    pub async fn venue_activity(
        &self,
        venue: VenueId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<WorkshopActivity>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WORKSHOP_COLUMNS}, {RECORD_COLUMNS} FROM workshops w \
             LEFT JOIN workshop_records r ON r.workshop_id = w.id \
             WHERE w.venue_id = $1 AND w.starts_at >= $2 AND w.starts_at < $3 AND w.cancelled_at IS NULL \
             ORDER BY w.starts_at, w.id LIMIT {MAX_MONTH_WORKSHOPS}"
        )))
        .bind(venue.0)
        .bind(from.unix_ms())
        .bind(to.unix_ms())
        .fetch_all(&mut *conn)
        .await?;
        with_activity(&mut conn, self.engine(), rows).await
    }

    /// Writes the record of a workshop of `venue` that took place, or corrects it (its
    /// participants are replaced). `by_staff` is None for an API token. Refused while fewer participants are declared than cheques
    /// were scanned, checked again here in case a scan arrived after the form was read.
    pub async fn save_workshop_record(
        &self,
        venue: VenueId,
        id: i64,
        record: &ActivityRecord,
        by_staff: Option<i64>,
        now: Timestamp,
    ) -> Result<StoredRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT starts_at, cancelled_at, capacity FROM workshops WHERE id = $1 AND venue_id = $2",
        )
        .bind(id)
        .bind(venue.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        check_record_time(
            get_opt_i64(&row, "cancelled_at")?.is_some(),
            Timestamp::from_unix_ms(get_i64(&row, "starts_at")?),
            now,
        )
        .map_err(refusal)?;
        let scanned = get_i64(
            &sqlx::query(
                "SELECT COUNT(*) AS n FROM redemptions WHERE workshop_id = $1 AND rolled_back_at IS NULL",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?,
            "n",
        )?;
        if record.attendance < scanned || record.attendance > get_i64(&row, "capacity")? {
            return Err(refusal(RecordRefusal::BelowScans));
        }
        // A staff member writes on the pages; an API token has none behind it.
        let via = if by_staff.is_some() { "page" } else { "api" };
        // The revision as the upsert left it (0 when first written).
        let revision: i64 = sqlx::query_scalar(
            "INSERT INTO workshop_records (workshop_id, attendance, duration_min, themes, equipment, recorded_at, by_staff, via) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (workshop_id) DO UPDATE SET attendance = excluded.attendance, duration_min = excluded.duration_min, \
             themes = excluded.themes, equipment = excluded.equipment, recorded_at = excluded.recorded_at, \
             by_staff = excluded.by_staff, via = excluded.via, revision = workshop_records.revision + 1 \
             RETURNING revision",
        )
        .bind(id)
        .bind(record.attendance)
        .bind(record.duration_min)
        .bind(join_codes(&record.themes, Theme::code))
        .bind(join_codes(&record.equipment, Equipment::code))
        .bind(now.unix_ms())
        .bind(by_staff)
        .bind(via)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM workshop_record_participants WHERE workshop_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !record.participants.is_empty() {
            let sql = format!(
                "INSERT INTO workshop_record_participants (workshop_id, position, age_band, autonomy, oriented) VALUES {}",
                value_rows(self.engine(), record.participants.len(), 5)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, p) in record.participants.iter().enumerate() {
                q = q
                    .bind(id)
                    .bind(i as i64 + 1)
                    .bind(p.age.map(AgeBand::code))
                    .bind(p.autonomy.map(Autonomy::code))
                    .bind(p.oriented.map(i64::from));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(StoredRecord {
            record: record.clone(),
            recorded_at: now,
            via: via.into(),
            revision,
        })
    }
}
