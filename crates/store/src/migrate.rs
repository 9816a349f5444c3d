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
];

/// Arbitrary constant shared by all passnum servers: "passnum" in ASCII.
const PG_LOCK_KEY: i64 = 0x0070_6173_736e_756d;

pub async fn run(pool: &AnyPool, engine: Engine) -> Result<usize, StoreError> {
    let mut conn = pool.acquire().await?;
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, engine).await;
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, engine: Engine) -> Result<usize, StoreError> {
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
    let files = match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    let mut applied = 0;
    for (version, sql) in files {
        if done.contains(version) {
            continue;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        tx.execute(sqlx::raw_sql(*sql)).await?;
        let now = passnum_core::Timestamp::from_offset_datetime(time::OffsetDateTime::now_utc());
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "migration appliquée");
        applied += 1;
    }
    Ok(applied)
}
