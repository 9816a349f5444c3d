//! What readiness probes and metrics read of the store: the database answers, its schema is the
//! one this build expects, and how busy the connection pools are.

use std::time::Duration;

use crate::{Store, StoreError, migrate};

/// The schema as applied, against what this build knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: i64,
    pub head: i64,
}

impl SchemaState {
    pub fn at_head(self) -> bool {
        self.applied == self.head
    }
}

/// Connections of one pool: open, and idle among them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    pub open: u32,
    pub idle: u32,
}

impl Store {
    /// A trivial query on the read pool, within `limit`.
    pub async fn ping(&self, limit: Duration) -> Result<(), StoreError> {
        tokio::time::timeout(limit, sqlx::query("SELECT 1").execute(self.pool()))
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))??;
        Ok(())
    }

    /// The newest migration applied (another server may have migrated further).
    pub async fn schema_state(&self) -> Result<SchemaState, StoreError> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT CAST(MAX(version) AS BIGINT) FROM schema_migrations")
                .fetch_one(self.pool())
                .await?;
        Ok(SchemaState {
            applied: applied.unwrap_or(0),
            head: migrate::head(self.engine()),
        })
    }

    /// (read pool, write pool); on PostgreSQL both are the same pool.
    pub fn pool_state(&self) -> (PoolState, PoolState) {
        let state = |p: &sqlx::AnyPool| PoolState {
            open: p.size(),
            idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
        };
        (state(self.pool()), state(self.write_pool()))
    }
}
