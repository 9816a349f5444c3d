//! Connections: which engine a URL names, the pools of each engine with their settings
//! (durability first), and how a write transaction starts.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

use crate::{Engine, StoreError};

/// `sqlite:passnum.db`, `passnum.db`, or `postgres://…`.
pub fn engine_of(url: &str) -> Result<Engine, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Engine::Postgres)
    } else if url.starts_with("sqlite:") {
        Ok(Engine::Sqlite)
    } else {
        Err(StoreError::Config(format!(
            "adresse de base de données non reconnue : « {url} » (attendu : sqlite:fichier.db ou postgres://…)"
        )))
    }
}

/// Turns a bare file name into a SQLite URL that creates the file if needed.
pub fn normalize_url(url_or_path: &str) -> String {
    if url_or_path.contains("://") || url_or_path.starts_with("sqlite:") {
        url_or_path.to_string()
    } else {
        format!("sqlite://{url_or_path}?mode=rwc")
    }
}

/// Page cache per SQLite connection, in KiB: the writer gets a large one because payment runs
/// and order issuing touch a million rows at once (the 2 MiB default made a run over a million
/// cheques several times slower); readers get a modest one each.
pub(crate) const SQLITE_WRITER_CACHE_KIB: i64 = 256 * 1024;
pub(crate) const SQLITE_READER_CACHE_KIB: i64 = 32 * 1024;
/// The writer also maps the file (256 MiB): preparing a run over a million cheques took half
/// the time with it. Readers do not, so that mapped pages are not counted once per connection.
pub(crate) const SQLITE_WRITER_MMAP_BYTES: i64 = 256 * 1024 * 1024;

pub(crate) async fn sqlite_pool(
    url: &str,
    max: u32,
    cache_kib: i64,
    mmap_bytes: i64,
) -> Result<AnyPool, StoreError> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = {mmap_bytes};"
                )))
                .await?;
                // Durability first: an acknowledged redemption survives a power cut.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

pub(crate) async fn postgres_pool(url: &str, max: u32) -> Result<AnyPool, StoreError> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET synchronous_commit = on; SET TIME ZONE 'UTC';")
                    .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

pub(crate) async fn begin_write(
    pool: &AnyPool,
    engine: Engine,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    Ok(match engine {
        Engine::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Engine::Postgres => pool.begin().await?,
    })
}
