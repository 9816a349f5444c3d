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
    (
        29,
        include_str!("../migrations/sqlite/0029_lean_payment_runs.sql"),
    ),
    (
        31,
        include_str!("../migrations/sqlite/0031_paid_from_run_items.sql"),
    ),
    (
        32,
        include_str!("../migrations/sqlite/0032_perimeter_territories.sql"),
    ),
    (
        33,
        include_str!("../migrations/sqlite/0033_member_territories.sql"),
    ),
    (
        34,
        include_str!("../migrations/sqlite/0034_order_publics.sql"),
    ),
    (
        35,
        include_str!("../migrations/sqlite/0035_holder_runs.sql"),
    ),
    (
        36,
        include_str!("../migrations/sqlite/0036_order_funnel.sql"),
    ),
    (
        37,
        include_str!("../migrations/sqlite/0037_payment_marks.sql"),
    ),
    (
        38,
        include_str!("../migrations/sqlite/0038_order_months.sql"),
    ),
    (
        39,
        include_str!("../migrations/sqlite/0039_payment_run_totals.sql"),
    ),
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
    (
        29,
        include_str!("../migrations/postgres/0029_lean_payment_runs.sql"),
    ),
    // PostgreSQL only: SQLite keeps the key this drops (numbers stay aligned across engines).
    (
        30,
        include_str!("../migrations/postgres/0030_lean_allocation.sql"),
    ),
    (
        31,
        include_str!("../migrations/postgres/0031_paid_from_run_items.sql"),
    ),
    (
        32,
        include_str!("../migrations/postgres/0032_perimeter_territories.sql"),
    ),
    (
        33,
        include_str!("../migrations/postgres/0033_member_territories.sql"),
    ),
    (
        34,
        include_str!("../migrations/postgres/0034_order_publics.sql"),
    ),
    (
        35,
        include_str!("../migrations/postgres/0035_holder_runs.sql"),
    ),
    (
        36,
        include_str!("../migrations/postgres/0036_order_funnel.sql"),
    ),
    (
        37,
        include_str!("../migrations/postgres/0037_payment_marks.sql"),
    ),
    (
        38,
        include_str!("../migrations/postgres/0038_order_months.sql"),
    ),
    (
        39,
        include_str!("../migrations/postgres/0039_payment_run_totals.sql"),
    ),
];

/// The migration that creates `usage_months`, filled by a Rust step in the same transaction.
const USAGE_ROLLUP_VERSION: i64 = 20;

/// How long a server may hold the migration lock without renewing it (it renews before each
/// migration): a server that died holding it delays the others by at most this long.
const LEASE_MS: i64 = 10 * 60_000;
/// How long a server waits for another's migrations before giving up with a sentence.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

pub async fn run(pool: &AnyPool, engine: Engine) -> Result<usize, StoreError> {
    run_up_to(pool, engine, i64::MAX).await
}

/// Applies migrations up to `max_version` (tests of upgrades from an older schema).
///
/// On PostgreSQL, servers that start together take turns through a lock *row* with a lease
/// (`schema_lock`), not a session advisory lock: distributed PostgreSQL-compatible engines do
/// not implement advisory locks, and a lease also frees itself when its holder dies. SQLite
/// needs none (one writer at a time).
pub async fn run_up_to(
    pool: &AnyPool,
    engine: Engine,
    max_version: i64,
) -> Result<usize, StoreError> {
    let mut conn = pool.acquire().await?;
    if engine == Engine::Sqlite {
        return apply(&mut conn, engine, max_version, None).await;
    }
    let holder = crate::tokens::random_token(26);
    take_lease(&mut conn, &holder).await?;
    let result = apply(&mut conn, engine, max_version, Some(&holder)).await;
    let released = sqlx::query("DELETE FROM schema_lock WHERE holder = $1")
        .bind(&holder)
        .execute(&mut *conn)
        .await;
    let applied = result?;
    released?;
    Ok(applied)
}

fn now_ms() -> i64 {
    passnum_core::Timestamp::from_offset_datetime(time::OffsetDateTime::now_utc()).unix_ms()
}

/// Waits for the lock row, then holds it for [`LEASE_MS`].
async fn take_lease(conn: &mut sqlx::AnyConnection, holder: &str) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match try_lease(conn, holder).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            // Two servers creating the lock table at once, or a serialization failure: the
            // next round sees the other's work.
            Err(e) if e.is_retryable() || e.is_unique_violation() => {}
            Err(e) => return Err(e),
        }
        if started.elapsed() > LOCK_WAIT {
            return Err(StoreError::Config(
                "un autre serveur passnum applique les migrations depuis plus de 30 minutes : \
                 vérifiez-le, ou videz la table schema_lock s'il s'est arrêté"
                    .into(),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn try_lease(conn: &mut sqlx::AnyConnection, holder: &str) -> Result<bool, StoreError> {
    let created = conn
        .execute(
            "CREATE TABLE IF NOT EXISTS schema_lock (id INTEGER PRIMARY KEY CHECK (id = 1), \
             holder TEXT NOT NULL, expires_at BIGINT NOT NULL)",
        )
        .await;
    if let Err(sqlx::Error::Database(e)) = &created
        && matches!(e.code().as_deref(), Some("23505" | "42710" | "42P07"))
    {
        // Another server created it at the same instant ("IF NOT EXISTS" does not cover a
        // creation in flight): the next round finds it.
        return Ok(false);
    }
    created?;
    let now = now_ms();
    let got: Option<String> = sqlx::query_scalar(
        "INSERT INTO schema_lock (id, holder, expires_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE schema_lock.expires_at < $3 RETURNING holder",
    )
    .bind(holder)
    .bind(now + LEASE_MS)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(got.as_deref() == Some(holder))
}

/// Extends the lease before a migration; refuses to go on if another server took it.
async fn renew_lease(conn: &mut sqlx::AnyConnection, holder: &str) -> Result<(), StoreError> {
    let renewed = sqlx::query("UPDATE schema_lock SET expires_at = $1 WHERE holder = $2")
        .bind(now_ms() + LEASE_MS)
        .bind(holder)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if renewed == 1 {
        Ok(())
    } else {
        Err(StoreError::Config(
            "le verrou des migrations a été repris par un autre serveur : relancez".into(),
        ))
    }
}

async fn apply(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    max_version: i64,
    lease: Option<&str>,
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
    let result = apply_pending(conn, engine, files, &done, lease, &mut applied).await;
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
    lease: Option<&str>,
    applied: &mut usize,
) -> Result<(), StoreError> {
    for (version, sql) in files {
        if done.contains(version) {
            continue;
        }
        if let Some(holder) = lease {
            renew_lease(conn, holder).await?;
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
