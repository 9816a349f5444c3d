//! Fresh databases for tests, on both engines.
//!
//! Every storage test runs twice: on a new SQLite file and on a new PostgreSQL database
//! (`PASSNUM_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`, is the
//! server's admin connection). There is no fallback: without PostgreSQL the tests fail.

use rand::Rng;
use sqlx::{Connection, Executor};

use crate::{Store, StoreOptions};

pub fn pg_admin_url() -> String {
    std::env::var("PASSNUM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `PASSNUM_TEST_PG_SERIALIZABLE=1`: every PostgreSQL test database runs its transactions at
/// `SERIALIZABLE`, as an operator may set it (`./scripts/test.sh` runs the PostgreSQL tests a
/// second time so; issue 18).
fn serializable_suite() -> bool {
    std::env::var("PASSNUM_TEST_PG_SERIALIZABLE").is_ok_and(|v| v == "1")
}

/// Sets the database's default isolation, as an operator would, through the admin connection.
async fn set_serializable(admin: &mut sqlx::AnyConnection, name: &str) {
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} SET default_transaction_isolation = 'serializable'"
        )))
        .await
        .expect("serializable database");
}

/// A database that disappears with the value.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestEngine {
    Sqlite,
    Postgres,
}

impl TestDb {
    /// A store with four redemption writers (the default is one): the tests' parallel scans
    /// then run in batches that overlap, so that the writers' lanes and the lock order
    /// between batches are exercised; `passnum serve` (one writer) is tested through the
    /// command line's tests.
    pub async fn new(engine: TestEngine) -> Self {
        let options = StoreOptions {
            redeem_workers: 4,
            ..StoreOptions::default()
        };
        Self::with_options(engine, options).await
    }

    pub async fn with_options(engine: TestEngine, options: StoreOptions) -> Self {
        let (url, pg_name, dir) = fresh_database(engine).await;
        Self::open(url, pg_name, dir, options).await
    }

    /// The store on a database [`fresh_database`] made.
    async fn open(
        url: String,
        pg_name: Option<String>,
        dir: Option<tempfile::TempDir>,
        options: StoreOptions,
    ) -> Self {
        let store = Store::connect(&url, options)
            .await
            .unwrap_or_else(|e| panic!("store on {url}: {e}"));
        Self {
            store,
            url,
            pg_name,
            _dir: dir,
        }
    }

    /// An empty PostgreSQL database whose transactions are all `SERIALIZABLE` (set on the
    /// database, as an operator would), with its URL; the caller opens the stores (several
    /// servers starting together, for instance). Dropped with the value.
    pub async fn serializable_postgres() -> EmptySerializable {
        let (url, name, _) = fresh_database(TestEngine::Postgres).await;
        let name = name.expect("a PostgreSQL database");
        let mut conn = sqlx::AnyConnection::connect(&pg_admin_url())
            .await
            .expect("admin connection");
        set_serializable(&mut conn, &name).await;
        conn.close().await.ok();
        EmptySerializable {
            url,
            pg_name: Some(name),
        }
    }

    /// A fresh PostgreSQL database whose reads that may lag go to the streaming replica of
    /// `PASSNUM_TEST_PG_REPLICA_URL` (started by `./scripts/test.sh` with
    /// `scripts/pg-replica.sh`), allowed `max_lag` behind. Returns once the replica has the
    /// database; the store may still wait for it to catch up before it uses it.
    pub async fn postgres_with_replica(max_lag: std::time::Duration) -> Self {
        let (url, pg_name, dir) = fresh_database(TestEngine::Postgres).await;
        let replica = replica_url(&url).await;
        let options = StoreOptions {
            replica: Some(crate::ReplicaOptions {
                url: replica,
                max_lag,
            }),
            ..StoreOptions::default()
        };
        Self::open(url, pg_name, dir, options).await
    }

    /// A fresh database with the schema of an older version (migrations up to `version`), to
    /// test upgrades: fill it through `pool`, then [`OldDb::upgrade`].
    pub async fn at_version(engine: TestEngine, version: i64) -> OldDb {
        let (url, pg_name, dir) = fresh_database(engine).await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&crate::normalize_url(&url))
            .await
            .expect("old database");
        let engine = crate::engine_of(&url).expect("engine");
        if engine == crate::Engine::Sqlite {
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&pool)
                .await
                .expect("foreign keys");
        }
        crate::migrate::run_up_to(&pool, engine, version)
            .await
            .expect("old migrations");
        OldDb {
            url,
            pool,
            pg_name,
            dir,
        }
    }
}

/// An empty place to restore into: a SQLite file not yet created, or a PostgreSQL database
/// without any table (dropped with it).
pub struct EmptyDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl EmptyDb {
    pub async fn new(engine: TestEngine) -> Self {
        let (url, pg_name, dir) = fresh_database(engine).await;
        Self {
            url,
            pg_name,
            _dir: dir,
        }
    }
}

impl Drop for EmptyDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg(name);
        }
    }
}

/// A database left at an older schema version (see [`TestDb::at_version`]).
pub struct OldDb {
    pub url: String,
    pub pool: sqlx::AnyPool,
    pg_name: Option<String>,
    dir: Option<tempfile::TempDir>,
}

impl OldDb {
    /// Opens the store as a new passnum would: the remaining migrations run.
    pub async fn upgrade(mut self) -> TestDb {
        self.pool.close().await;
        let store = Store::connect(&self.url, StoreOptions::default())
            .await
            .unwrap_or_else(|e| panic!("upgrade of {}: {e}", self.url));
        TestDb {
            store,
            url: self.url.clone(),
            pg_name: self.pg_name.take(),
            _dir: self.dir.take(),
        }
    }
}

/// The replica's URL for the primary database at `primary_url`, once the replica has it.
pub async fn replica_url(primary_url: &str) -> String {
    let admin = std::env::var("PASSNUM_TEST_PG_REPLICA_URL").unwrap_or_else(|_| {
        panic!("PASSNUM_TEST_PG_REPLICA_URL is required: a streaming replica of PASSNUM_TEST_PG_URL, as ./scripts/test.sh starts with scripts/pg-replica.sh")
    });
    let name = primary_url.rsplit_once('/').expect("database name").1;
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("bad PASSNUM_TEST_PG_REPLICA_URL {admin}"),
    };
    for _ in 0..200 {
        if let Ok(conn) = sqlx::AnyConnection::connect(&url).await {
            conn.close().await.ok();
            return url;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the replica never showed database {name}")
}

/// A new empty database: a SQLite file in a temporary folder, or a PostgreSQL database with a
/// random name (dropped with its `TestDb`).
async fn fresh_database(engine: TestEngine) -> (String, Option<String>, Option<tempfile::TempDir>) {
    match engine {
        TestEngine::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("passnum.db").display()
            );
            (url, None, Some(dir))
        }
        TestEngine::Postgres => {
            sqlx::any::install_default_drivers();
            let name = format!("passnum_t_{:016x}", rand::rng().random::<u64>());
            let admin = pg_admin_url();
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is required for the tests ({admin}): {e}"));
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create database");
            if serializable_suite() {
                set_serializable(&mut conn, &name).await;
            }
            conn.close().await.ok();
            let url = match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("bad PASSNUM_TEST_PG_URL {admin}"),
            };
            (url, Some(name), None)
        }
    }
}

impl Drop for OldDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg(name);
        }
    }
}

/// See [`TestDb::serializable_postgres`].
pub struct EmptySerializable {
    pub url: String,
    pg_name: Option<String>,
}

impl Drop for EmptySerializable {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg(name);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg(name);
        }
    }
}

fn drop_pg(name: String) {
    {
        // Drop runs outside async context: a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&pg_admin_url()).await {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Runs an async test body once per engine, each on its own fresh database.
#[macro_export]
macro_rules! both_engines {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: $crate::testing::TestDb) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() { run($crate::testing::TestDb::new($crate::testing::TestEngine::Sqlite).await).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() { run($crate::testing::TestDb::new($crate::testing::TestEngine::Postgres).await).await }
        }
    };
}

/// Names an order's co-funders as the order form would have (tests of the funding reports on
/// orders made by the test fixtures, which skip the form).
pub async fn set_order_funding(store: &Store, order: passnum_core::OrderId, lines: &[(&str, i64)]) {
    for (i, (source, bp)) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_funding (order_id, position, source, basis_points) VALUES ($1, $2, $3, $4)",
        )
        .bind(order.0)
        .bind(i as i64 + 1)
        .bind(*source)
        .bind(*bp)
        .execute(store.pool())
        .await
        .expect("order funding");
    }
}
