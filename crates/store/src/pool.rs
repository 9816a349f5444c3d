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
        let is_sqlite = url_or_path.starts_with("sqlite:");
        if is_sqlite && !url_or_path.contains("mode=") {
            // As for a bare path: create the file when it is missing.
            let sep = if url_or_path.contains('?') { '&' } else { '?' };
            format!("{url_or_path}{sep}mode=rwc")
        } else {
            url_or_path.to_string()
        }
    } else {
        format!("sqlite://{url_or_path}?mode=rwc")
    }
}

/// The file a SQLite URL names, unless it is an in-memory database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    (!path.is_empty() && path != ":memory:" && !query.contains("mode=memory"))
        .then(|| std::path::PathBuf::from(path))
}

/// Creates a missing SQLite file readable by its owner only: it holds password and token
/// hashes, IBANs and household hashes. SQLite gives its `-wal` and `-shm` files the mode of
/// the main file. An existing file keeps the mode its operator chose.
pub(crate) fn create_private_sqlite_file(url: &str) -> Result<(), StoreError> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "impossible de créer la base {} : {e}",
            path.display()
        ))),
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

/// Prepared statements kept per PostgreSQL connection (sqlx keeps 100 by default). A
/// redemption batch's statements have one text per batch size (`IN ($1, …, $n)`, n rows of
/// `VALUES`): about ten statements times the sizes seen under load overflowed 100, and every
/// batch parsed and planned its statements again, one more round trip each.
const PG_STATEMENT_CACHE: u32 = 2000;

/// What every PostgreSQL session passnum opens sets, on the primary and on a replica alike:
/// times in UTC, and no JIT compilation. PostgreSQL compiles a statement whose estimated cost
/// passes `jit_above_cost`, and passnum's per-venue reads are estimated high on a large
/// database (2,000 rows a venue where there are 500): choosing a run's candidates at ten
/// million cheques spent 145 ms of its 340 ms compiling, for a statement that runs in 184 ms
/// without (BENCHMARKS.md, twenty-third session).
pub(crate) const PG_SESSION: &str = "SET TIME ZONE 'UTC'; SET jit = off;";

pub(crate) async fn postgres_pool(url: &str, max: u32) -> Result<AnyPool, StoreError> {
    let url = if url.contains("statement-cache-capacity=") {
        url.to_string()
    } else {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}statement-cache-capacity={PG_STATEMENT_CACHE}")
    };
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "SET synchronous_commit = on; {PG_SESSION}"
                )))
                .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?)
}

/// Says at start-up, in the log, when the PostgreSQL server runs without autovacuum: its
/// planner then keeps statistics taken while the tables were empty, and redemptions fell to
/// 367/s on such a server (docs/operations.md, "Planner statistics"). Only a warning: the
/// operator may run `ANALYZE` on a schedule of their own.
pub(crate) async fn warn_if_autovacuum_off(pool: &AnyPool) {
    let setting: Result<String, _> = sqlx::query_scalar("SELECT current_setting('autovacuum')")
        .fetch_one(pool)
        .await;
    if matches!(setting.as_deref(), Ok("off")) {
        tracing::warn!(
            "autovacuum est désactivé sur ce serveur PostgreSQL : les statistiques du planificateur \
             vieillissent et les requêtes ralentissent ; activez-le (docs/operations.md, « Planner statistics »)"
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_their_file_as_bare_paths_do() {
        assert_eq!(normalize_url("passnum.db"), "sqlite://passnum.db?mode=rwc");
        assert_eq!(normalize_url("sqlite://new.db"), "sqlite://new.db?mode=rwc");
        assert_eq!(
            normalize_url("sqlite:new.db?cache=shared"),
            "sqlite:new.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite://ro.db?mode=ro"),
            "sqlite://ro.db?mode=ro"
        );
        assert_eq!(normalize_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            sqlite_file("sqlite://a/b.db?mode=rwc"),
            Some("a/b.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_database_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("neuve.db");
        create_private_sqlite_file(&normalize_url(path.to_str().unwrap())).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
