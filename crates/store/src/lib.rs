//! passnum persistence: one API over SQLite (the embedded default) and PostgreSQL.
//!
//! All SQL is written once, in the subset both engines understand (`$1` placeholders,
//! `RETURNING`, partial unique indexes, `ON CONFLICT`), and runs through sqlx's `Any` driver.
//! The schema differs only where the engines do (identity columns, triggers): see
//! `migrations/sqlite` and `migrations/postgres`.
//!
//! Writes on SQLite go through a pool of one connection that starts `BEGIN IMMEDIATE`
//! transactions, so there is never a lock upgrade to fail; reads use their own pool (WAL lets
//! them run beside the writer). On PostgreSQL both pools are the same, and row locks
//! (`FOR UPDATE`) plus unique constraints keep several passnum servers consistent.

mod allocation;
mod anomalies;
mod applications;
mod audit;
pub mod backup;
mod bench_fixtures;
mod bookings;
mod candidate_files;
mod candidates;
mod catalogues;
mod closing;
mod corrections;
mod directory;
mod distribution;
mod error;
mod figures;
mod funders;
mod funding_report;
mod handouts;
mod health;
mod holder_runs;
mod housekeeping;
mod idempotency;
mod inventory;
mod ledger;
mod migrate;
mod observers;
mod oidc;
mod order_publics;
mod order_workflow;
mod orders;
mod outbox;
mod payments;
mod pool;
mod redeem;
mod replica;
mod retry;
mod rows;
mod services;
mod settings;
mod sign_in;
mod signing_keys;
mod staff;
mod telemetry;
mod territories;
mod territory_amend;
#[cfg(feature = "test-support")]
pub mod testing;
mod tokens;
mod usage;
mod venues;
mod workshop_records;
mod workshop_scans;
mod workshops;

use std::sync::Arc;

use sqlx::AnyPool;
use sqlx::any::install_default_drivers;

pub use allocation::TerritoryPlan;
pub use anomalies::{Anomaly, AnomalyKind};
pub use applications::{DocumentInfo, EndingQualification, NewApplication, QualificationStepDone};
pub use audit::{AuditEntry, AuditVerdict, NewAuditEntry};
pub use bookings::{BookedBy, Booking, BookletKey, CancelledBy, HandoutProgress};
pub use candidate_files::CandidateDetail;
pub use candidates::{
    CandidateRow, KnownKind, KnownPlace, PASSNUM_SOURCE, PlannedCandidate,
    Written as CandidatesWritten,
};
pub use catalogues::{CatalogueChange, PublishedVenueRow};
pub use closing::{CreditNote, StepDone};
pub use corrections::{Correction, FunderRefund};
pub use directory::DirectorySearch;
pub use distribution::{DISTRIBUTOR_KINDS, Distributor, DistributorId, DistributorStock};
pub use error::StoreError;
pub use figures::{
    Cohort, CommuneCount, FigureScope, Funnel, MonthFigures, MonthSpan, OpenDataCounts,
    ResidenceLine, ServiceLine, StructureFunnel, TerritoryLine, UsageDepth, VenueMonthPaid,
    VenueMonthUse, VenueUsage,
};
pub use funders::{FUNDER_KINDS, Funder, PartyNames, funder_kind_label};
pub use funding_report::{FundingAmounts, SourceLine};
pub use handouts::{DistributionStats, HandoutRecord, StockBooklet, VenueCard};
pub use health::{PoolState, SchemaState};
pub use housekeeping::{Purged, Retention};
pub use idempotency::IdempotencyKey;
pub use inventory::{AllocationMove, Holder, HolderInventory};
pub use ledger::{AccountBalance, HistoryFinding, LedgerMismatch, LedgerScope, TransferRecord};
pub use observers::{OBSERVER_KINDS, Observer};
pub use oidc::{LinkRefusal, PendingLogin};
pub use order_publics::PublicLabels;
pub use orders::{BookletSummary, ChequeListItem, ChequeStatus, Order, OrderCounts};
pub use outbox::{GIVE_UP_AFTER_MS, KEEP_DONE_MS, MailLine, OutboxCounts, OutgoingMail};
pub use payments::{
    BankAccount, FunderAccount, PaymentRun, RawStatementLine, RunPreview, RunStatus, StatementLine,
    VenueLine, WaitingLine,
};
pub(crate) use pool::begin_write;
use pool::{
    SQLITE_READER_CACHE_KIB, SQLITE_WRITER_CACHE_KIB, SQLITE_WRITER_MMAP_BYTES, postgres_pool,
    sqlite_pool,
};
pub use pool::{engine_of, normalize_url, sqlite_file};
pub use redeem::{
    Answer, Outcome, RedeemRequest, Redemption, RedemptionScope, Refusal, RollbackRequest,
};
pub use replica::{ReplicaOptions, ReplicaView, parse_lsn, read_after};
pub use services::{ChangeAuthor, ServiceChange};
pub use settings::ProgrammeFees;
pub use sign_in::PastAttempt;
pub use signing_keys::PublicKeyRecord;
pub use staff::{StaffMember, normalize_email};
pub use telemetry::Telemetry;
pub use territories::{DocumentKind, Territory, TerritoryDocument};
pub use tokens::{Actor, Role, TokenInfo, hash_token as tokens_hash, random_token};
pub use venues::{NewVenue, StatusChange, Venue};
pub use workshop_records::{MAX_MONTH_WORKSHOPS, StoredRecord, WorkshopActivity};
pub use workshops::{Workshop, WorkshopSearch};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// What a `SELECT` ends with to lock the rows it reads until the transaction ends:
    /// `FOR UPDATE` on PostgreSQL; nothing on SQLite, whose write transactions already hold
    /// the only write lock.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Engine::Postgres => " FOR UPDATE",
            Engine::Sqlite => "",
        }
    }

    /// The same in share mode (`FOR SHARE`): others may read and share, not update or delete.
    pub(crate) fn for_share(self) -> &'static str {
        match self {
            Engine::Postgres => " FOR SHARE",
            Engine::Sqlite => "",
        }
    }
}

/// Tuning that is not part of the data: how the store behaves under load.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Redemptions committed together at most (group commit). Each is acknowledged only after
    /// its transaction is durable.
    pub max_redeem_batch: usize,
    /// Parallel redemption writers (PostgreSQL; one on SQLite, one writer at a time anyway).
    /// One by default: on PostgreSQL, batches of one programme take turns on its shared rows
    /// (the funder's and venue's accounts, the month's usage line) whatever the number of
    /// writers, so more writers only make smaller batches that wait on each other
    /// (BENCHMARKS.md, twenty-first session: 1 writer 35 % faster than 4 over HTTP).
    pub redeem_workers: usize,
    pub max_connections: u32,
    /// How long a venue may cancel its own redemption.
    pub rollback_window_ms: i64,
    /// A PostgreSQL streaming replica for the reads that may lag (dashboards, exports, public
    /// pages, listings).
    pub replica: Option<ReplicaOptions>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_redeem_batch: 512,
            redeem_workers: 1,
            max_connections: 16,
            rollback_window_ms: passnum_core::cheque::DEFAULT_ROLLBACK_WINDOW_MS,
            replica: None,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    read: AnyPool,
    write: AnyPool,
    options: StoreOptions,
    redeemer: redeem::Redeemer,
    replica: Option<replica::Replica>,
    caches: rows::Caches,
    telemetry: telemetry::TelemetrySlot,
}

impl Store {
    /// Connects, applies pending migrations, loads the référentiel if the table is empty,
    /// and starts the redemption writers.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        install_default_drivers();
        let url = normalize_url(url);
        let engine = engine_of(&url)?;
        let (read, write, workers) = match engine {
            Engine::Sqlite if options.replica.is_some() => {
                return Err(StoreError::Config(
                    "--read-database-url ne s'emploie qu'avec une base PostgreSQL : SQLite lit déjà à côté de l'écriture".into(),
                ));
            }
            Engine::Sqlite => {
                pool::create_private_sqlite_file(&url)?;
                let write =
                    sqlite_pool(&url, 1, SQLITE_WRITER_CACHE_KIB, SQLITE_WRITER_MMAP_BYTES).await?;
                // Create the file and switch it to WAL before readers open it.
                migrate::run(&write, engine).await?;
                let read = sqlite_pool(
                    &url,
                    options.max_connections.max(2),
                    SQLITE_READER_CACHE_KIB,
                    0,
                )
                .await?;
                (read, write, 1)
            }
            Engine::Postgres => {
                let pool = postgres_pool(&url, options.max_connections).await?;
                migrate::run(&pool, engine).await?;
                pool::warn_if_autovacuum_off(&pool).await;
                (pool.clone(), pool, options.redeem_workers.max(1))
            }
        };
        let replica = match &options.replica {
            Some(r) => {
                Some(replica::Replica::start(r, write.clone(), options.max_connections).await?)
            }
            None => None,
        };
        let caches = rows::Caches::default();
        let telemetry = telemetry::TelemetrySlot::default();
        let redeemer = redeem::Redeemer::start(
            engine,
            write.clone(),
            caches.clone(),
            telemetry.clone(),
            workers,
            options.max_redeem_batch,
        );
        let store = Self {
            inner: Arc::new(Inner {
                engine,
                read,
                write,
                options,
                redeemer,
                replica,
                caches,
                telemetry,
            }),
        };
        store.ensure_services_loaded().await?;
        Ok(store)
    }

    pub fn engine(&self) -> Engine {
        self.inner.engine
    }

    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    fn write_pool(&self) -> &AnyPool {
        &self.inner.write
    }

    /// The read pool, for tests and checks that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.inner.read
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite so the write lock is taken up front.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let started = std::time::Instant::now();
        let tx = begin_write(&self.inner.write, self.inner.engine).await?;
        let waited = started.elapsed();
        self.inner.telemetry.with(|t| t.write_wait(waited));
        Ok(tx)
    }

    /// Sets who is told of committed events (the server's metrics). Only the first call takes
    /// effect; it says whether this one did.
    pub fn set_telemetry(&self, telemetry: Arc<dyn Telemetry>) -> bool {
        self.inner.telemetry.set(telemetry)
    }

    pub(crate) fn telemetry(&self) -> &telemetry::TelemetrySlot {
        &self.inner.telemetry
    }

    /// Refreshes the query planner's statistics of every table (`ANALYZE`), as PostgreSQL's
    /// autovacuum does on its own; the benchmarks use it to check plans stay good.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE").execute(&self.inner.write).await?;
        Ok(())
    }

    /// A database at rest between two bursts of writes, for benchmarks that compare one before
    /// and after it grew. On PostgreSQL, what autovacuum leaves (`VACUUM (ANALYZE)`: statistics
    /// fresh, visibility map set) and what the checkpointer does (`CHECKPOINT`: the burst's
    /// dirty pages written; needs a superuser or `pg_checkpoint`). On SQLite, the write-ahead log
    /// copied back into the file (`wal_checkpoint(TRUNCATE)`); no statistics, which passnum never
    /// takes there (its planner then goes through the indexes; docs/operations.md, "Planner
    /// statistics").
    pub async fn settle(&self) -> Result<(), StoreError> {
        let statements: &[&'static str] = match self.engine() {
            Engine::Postgres => &["VACUUM (ANALYZE)", "CHECKPOINT"],
            Engine::Sqlite => &["PRAGMA wal_checkpoint(TRUNCATE)"],
        };
        for statement in statements {
            sqlx::query(*statement).execute(&self.inner.write).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(r) = &self.inner.replica {
            r.close().await;
        }
        self.inner.read.close().await;
        self.inner.write.close().await;
    }
}
