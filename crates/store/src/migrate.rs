//! A small migration runner: each file runs once, in order, in its own transaction.
//!
//! On PostgreSQL an advisory lock serialises servers that start together against one database.

use sqlx::{AnyPool, Executor, Row};

use crate::{Engine, StoreError};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_core.sql")),
    (2, include_str!("../migrations/sqlite/0002_staff.sql")),
    (
        3,
        include_str!("../migrations/sqlite/0003_venue_details.sql"),
    ),
    (4, include_str!("../migrations/sqlite/0004_payments.sql")),
    (
        5,
        include_str!("../migrations/sqlite/0005_validity_steps.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_order_workflow.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_programme_fees.sql"),
    ),
    (8, include_str!("../migrations/sqlite/0008_corrections.sql")),
    (
        9,
        include_str!("../migrations/sqlite/0009_distribution.sql"),
    ),
    (10, include_str!("../migrations/sqlite/0010_handouts.sql")),
    (
        11,
        include_str!("../migrations/sqlite/0011_sign_in_attempts.sql"),
    ),
    (12, include_str!("../migrations/sqlite/0012_catalogues.sql")),
    (
        13,
        include_str!("../migrations/sqlite/0013_applications.sql"),
    ),
    (
        14,
        include_str!("../migrations/sqlite/0014_venue_candidates.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_venue_publics.sql"),
    ),
    (
        16,
        include_str!("../migrations/sqlite/0016_service_changes.sql"),
    ),
    (17, include_str!("../migrations/sqlite/0017_workshops.sql")),
    (
        18,
        include_str!("../migrations/sqlite/0018_workshop_records.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_redemption_booklet_index.sql"),
    ),
    (
        20,
        include_str!("../migrations/sqlite/0020_figure_rollups.sql"),
    ),
    (21, include_str!("../migrations/sqlite/0021_observers.sql")),
    (
        22,
        include_str!("../migrations/sqlite/0022_observer_territories.sql"),
    ),
    (
        23,
        include_str!("../migrations/sqlite/0023_correction_fee.sql"),
    ),
    (
        24,
        include_str!("../migrations/sqlite/0024_funder_accounts.sql"),
    ),
    (
        25,
        include_str!("../migrations/sqlite/0025_handout_answers_retention.sql"),
    ),
    (26, include_str!("../migrations/sqlite/0026_audit_log.sql")),
    (27, include_str!("../migrations/sqlite/0027_outbox.sql")),
    (28, include_str!("../migrations/sqlite/0028_proconnect.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_core.sql")),
    (2, include_str!("../migrations/postgres/0002_staff.sql")),
    (
        3,
        include_str!("../migrations/postgres/0003_venue_details.sql"),
    ),
    (4, include_str!("../migrations/postgres/0004_payments.sql")),
    (
        5,
        include_str!("../migrations/postgres/0005_validity_steps.sql"),
    ),
    (
        6,
        include_str!("../migrations/postgres/0006_order_workflow.sql"),
    ),
    (
        7,
        include_str!("../migrations/postgres/0007_programme_fees.sql"),
    ),
    (
        8,
        include_str!("../migrations/postgres/0008_corrections.sql"),
    ),
    (
        9,
        include_str!("../migrations/postgres/0009_distribution.sql"),
    ),
    (10, include_str!("../migrations/postgres/0010_handouts.sql")),
    (
        11,
        include_str!("../migrations/postgres/0011_sign_in_attempts.sql"),
    ),
    (
        12,
        include_str!("../migrations/postgres/0012_catalogues.sql"),
    ),
    (
        13,
        include_str!("../migrations/postgres/0013_applications.sql"),
    ),
    (
        14,
        include_str!("../migrations/postgres/0014_venue_candidates.sql"),
    ),
    (
        15,
        include_str!("../migrations/postgres/0015_venue_publics.sql"),
    ),
    (
        16,
        include_str!("../migrations/postgres/0016_service_changes.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_workshops.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_workshop_records.sql"),
    ),
    (
        19,
        include_str!("../migrations/postgres/0019_redemption_booklet_index.sql"),
    ),
    (
        20,
        include_str!("../migrations/postgres/0020_figure_rollups.sql"),
    ),
    (
        21,
        include_str!("../migrations/postgres/0021_observers.sql"),
    ),
    (
        22,
        include_str!("../migrations/postgres/0022_observer_territories.sql"),
    ),
    (
        23,
        include_str!("../migrations/postgres/0023_correction_fee.sql"),
    ),
    (
        24,
        include_str!("../migrations/postgres/0024_funder_accounts.sql"),
    ),
    (
        25,
        include_str!("../migrations/postgres/0025_handout_answers_retention.sql"),
    ),
    (
        26,
        include_str!("../migrations/postgres/0026_audit_log.sql"),
    ),
    (27, include_str!("../migrations/postgres/0027_outbox.sql")),
    (
        28,
        include_str!("../migrations/postgres/0028_proconnect.sql"),
    ),
];

/// The migration that creates `usage_months`, filled by a Rust step in the same transaction.
const USAGE_ROLLUP_VERSION: i64 = 20;

/// Arbitrary constant shared by all passnum servers: "passnum" in ASCII.
const PG_LOCK_KEY: i64 = 0x0070_6173_736e_756d;

pub async fn run(pool: &AnyPool, engine: Engine) -> Result<usize, StoreError> {
    run_up_to(pool, engine, i64::MAX).await
}

/// Applies migrations up to `max_version` (tests of upgrades from an older schema).
pub async fn run_up_to(
    pool: &AnyPool,
    engine: Engine,
    max_version: i64,
) -> Result<usize, StoreError> {
    let mut conn = pool.acquire().await?;
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, engine, max_version).await;
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    max_version: i64,
) -> Result<usize, StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let done: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let all = match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    let upto = all.iter().take_while(|(v, _)| *v <= max_version).count();
    let files = &all[..upto];
    let mut applied = 0;
    let pending = files.iter().any(|(v, _)| !done.contains(v));
    if engine == Engine::Sqlite && pending {
        // SQLite rebuilds a table to change its constraints; that drops and renames tables
        // other tables refer to, which only works with enforcement off (it cannot be changed
        // inside a transaction). Every reference is checked before each commit instead.
        conn.execute("PRAGMA foreign_keys = OFF").await?;
    }
    let result = apply_pending(conn, engine, files, &done, &mut applied).await;
    if engine == Engine::Sqlite && pending {
        conn.execute("PRAGMA foreign_keys = ON").await?;
    }
    result.map(|()| applied)
}

async fn apply_pending(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    files: &[(i64, &'static str)],
    done: &[i64],
    applied: &mut usize,
) -> Result<(), StoreError> {
    for (version, sql) in files {
        if done.contains(version) {
            continue;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        tx.execute(sqlx::raw_sql(*sql)).await?;
        if *version == USAGE_ROLLUP_VERSION {
            crate::usage::backfill(&mut tx, engine).await?;
        }
        if engine == Engine::Sqlite {
            let broken = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut *tx)
                .await?;
            if !broken.is_empty() {
                return Err(StoreError::corrupt(format!(
                    "la migration {version} laisse {} référence(s) cassée(s)",
                    broken.len()
                )));
            }
        }
        let now = passnum_core::Timestamp::from_offset_datetime(time::OffsetDateTime::now_utc());
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "migration appliquée");
        *applied += 1;
    }
    Ok(())
}

/// The newest migration this build knows, per engine.
pub fn head(engine: Engine) -> i64 {
    let all = match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    all.last().map_or(0, |(v, _)| *v)
}
