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
    pub async fn new(engine: TestEngine) -> Self {
        Self::with_options(engine, StoreOptions::default()).await
    }

    pub async fn with_options(engine: TestEngine, options: StoreOptions) -> Self {
        match engine {
            TestEngine::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("passnum.db").display()
                );
                let store = Store::connect(&url, options).await.expect("SQLite store");
                Self {
                    store,
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            TestEngine::Postgres => {
                sqlx::any::install_default_drivers();
                let name = format!("passnum_t_{:016x}", rand::rng().random::<u64>());
                let admin = pg_admin_url();
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL is required for the tests ({admin}): {e}")
                    });
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("bad PASSNUM_TEST_PG_URL {admin}"),
                };
                let store = Store::connect(&url, options)
                    .await
                    .expect("PostgreSQL store");
                Self {
                    store,
                    url,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
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
