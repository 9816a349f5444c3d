//! Reads that may lag, sent to a PostgreSQL streaming replica (`--read-database-url`).
//!
//! Only reads named for it go there: dashboards, exports, public pages and listings, through
//! [`Store::may_lag`]. Every decision that protects money (redemption, payment runs, budgets,
//! bookings) reads and writes the primary, in its own transaction, whatever this module says.
//!
//! The replica is used only while it is known to be fresh. A monitor samples the primary's WAL
//! position and the replica's replay position a few times a second: the replica holds every
//! commit made before the newest primary sample its replay position has reached, so "fresh as
//! of" that sample's instant. A read goes to the replica when that instant is within the
//! allowed lag, when the replica has replayed the migrations this server started with, and
//! when it has reached the position the request asks for (read-your-writes: after a change,
//! the web layer remembers the primary's position in a cookie and runs the next requests
//! under [`read_after`]). Otherwise, or when the replica does not answer, the read goes to
//! the primary. A replica that is not a standby of this primary is never used.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor, Row};

use crate::{Store, StoreError};

/// Where reads that may lag go, and how stale they may be.
#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    pub url: String,
    pub max_lag: Duration,
}

tokio::task_local! {
    /// The primary position (WAL LSN) the current request must see.
    static READ_AFTER: u64;
}

/// Runs `f` so that its reads that may lag see at least the primary's `position` (from
/// [`Store::primary_position`] after a change); `None` asks for nothing more than the lag bound.
pub async fn read_after<F: std::future::Future>(position: Option<u64>, f: F) -> F::Output {
    match position {
        Some(p) => READ_AFTER.scope(p, f).await,
        None => f.await,
    }
}

/// `16/B374D848` → one number, as PostgreSQL orders them.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.trim().split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some((high << 32) | low)
}

/// What metrics and operators see of the replica.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaView {
    /// How far behind the primary its reads may be (`--read-max-lag-seconds`).
    pub max_lag: Duration,
    /// Reads that may lag go to the replica now.
    pub usable: bool,
    /// How old the replica's data may be, if it was ever seen fresh.
    pub staleness: Option<Duration>,
    /// The primary position the replica has replayed (0 before it was first seen).
    pub replayed: u64,
}

pub(crate) struct Replica {
    pool: AnyPool,
    max_lag: Duration,
    state: Arc<State>,
}

struct State {
    started: Instant,
    /// Milliseconds after `started` the replica is known fresh as of, plus one (0: never).
    fresh_as_of: AtomicU64,
    replay: AtomicU64,
    /// The primary's position once migrations were applied: the replica must have it.
    floor: AtomicU64,
    /// A standby of this very primary (checked by the monitor; false until then).
    genuine: AtomicBool,
}

/// Replica samples taken per allowed lag: a read is at most one tick staler than measured.
const TICKS_PER_LAG: u32 = 8;
const MAX_TICK: Duration = Duration::from_millis(500);
/// Longest a read waits for a replica connection before it goes to the primary.
const ACQUIRE_LIMIT: Duration = Duration::from_secs(2);
const MAX_SAMPLES: usize = 512;

impl Replica {
    /// Opens the replica's pool lazily (a replica down at start only sends reads to the
    /// primary) and starts the monitor.
    pub(crate) async fn start(
        options: &ReplicaOptions,
        primary: AnyPool,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        if !(options.url.starts_with("postgres://") || options.url.starts_with("postgresql://")) {
            return Err(StoreError::Config(
                "--read-database-url doit désigner une réplique PostgreSQL (postgres://…)".into(),
            ));
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_LIMIT)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // A standby refuses SERIALIZABLE transactions ("cannot use serializable
                    // mode in a hot standby"), and the primary's database may default to it:
                    // one snapshot per transaction is what reports need.
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "SET default_transaction_isolation = 'repeatable read'; {}",
                        crate::pool::PG_SESSION
                    )))
                    .await?;
                    Ok(())
                })
            })
            .connect_lazy(&options.url)?;
        let floor = primary_lsn(&primary).await?;
        let state = Arc::new(State {
            started: Instant::now(),
            fresh_as_of: AtomicU64::new(0),
            replay: AtomicU64::new(0),
            floor: AtomicU64::new(floor),
            genuine: AtomicBool::new(false),
        });
        let tick = (options.max_lag / TICKS_PER_LAG).clamp(Duration::from_millis(20), MAX_TICK);
        tokio::spawn(monitor(Arc::downgrade(&state), primary, pool.clone(), tick));
        Ok(Self {
            pool,
            max_lag: options.max_lag,
            state,
        })
    }

    /// Whether a read may go to the replica now, for a request that must see `after`.
    fn fresh_enough(&self, after: Option<u64>) -> bool {
        let s = &self.state;
        let fresh_as_of = s.fresh_as_of.load(Ordering::Acquire);
        if fresh_as_of == 0 || !s.genuine.load(Ordering::Acquire) {
            return false;
        }
        let replay = s.replay.load(Ordering::Acquire);
        let age = s.started.elapsed().saturating_sub(ms(fresh_as_of - 1));
        age <= self.max_lag
            && replay >= s.floor.load(Ordering::Acquire)
            && after.is_none_or(|a| replay >= a)
    }

    fn view(&self) -> ReplicaView {
        let s = &self.state;
        let fresh_as_of = s.fresh_as_of.load(Ordering::Acquire);
        ReplicaView {
            max_lag: self.max_lag,
            usable: self.fresh_enough(None),
            staleness: (fresh_as_of > 0)
                .then(|| s.started.elapsed().saturating_sub(ms(fresh_as_of - 1))),
            replayed: s.replay.load(Ordering::Acquire),
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn primary_lsn(primary: &AnyPool) -> Result<u64, StoreError> {
    let text: String = sqlx::query_scalar("SELECT CAST(pg_current_wal_lsn() AS TEXT)")
        .fetch_one(primary)
        .await?;
    parse_lsn(&text).ok_or_else(|| StoreError::Config(format!("position WAL illisible : {text}")))
}

async fn system_identifier(pool: &AnyPool) -> Result<String, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT CAST(system_identifier AS TEXT) FROM pg_control_system()")
            .fetch_one(pool)
            .await?,
    )
}

/// (in recovery, replayed position) of the replica.
async fn replica_position(replica: &AnyPool) -> Result<(bool, Option<u64>), StoreError> {
    let row = sqlx::query(
        "SELECT pg_is_in_recovery() AS standby, CAST(pg_last_wal_replay_lsn() AS TEXT) AS replay",
    )
    .fetch_one(replica)
    .await?;
    let standby: bool = row.try_get("standby")?;
    let replay: Option<String> = row.try_get("replay")?;
    Ok((standby, replay.as_deref().and_then(parse_lsn)))
}

/// Samples both positions every `tick` until the store is dropped or closed.
async fn monitor(state: Weak<State>, primary: AnyPool, replica: AnyPool, tick: Duration) {
    let mut samples: VecDeque<(u64, u64)> = VecDeque::new();
    let mut checked = false;
    let mut healthy = true;
    loop {
        let Some(s) = state.upgrade() else { return };
        if primary.is_closed() || replica.is_closed() {
            return;
        }
        if !checked {
            checked = check_identity(&s, &primary, &replica).await;
        }
        // The primary first: whatever the replica has replayed now, it had then.
        if let Ok(p) = primary_lsn(&primary).await {
            let at = u64::try_from(s.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            samples.push_back((at, p));
            if samples.len() > MAX_SAMPLES {
                samples.pop_front();
            }
            match replica_position(&replica).await {
                Ok((true, Some(replay))) => {
                    s.replay.store(replay, Ordering::Release);
                    if let Some(i) = samples.iter().rposition(|&(_, l)| l <= replay) {
                        s.fresh_as_of.store(samples[i].0 + 1, Ordering::Release);
                        samples.drain(..i);
                    }
                    if !healthy {
                        tracing::info!("réplique en lecture de nouveau joignable");
                        healthy = true;
                    }
                }
                Ok(_) => {
                    if healthy {
                        tracing::error!(
                            "--read-database-url ne désigne pas une réplique en cours de réplication : les lectures vont au primaire"
                        );
                        healthy = false;
                    }
                }
                Err(e) => {
                    if healthy {
                        tracing::warn!(error = %e, "réplique en lecture injoignable : les lectures vont au primaire");
                        healthy = false;
                    }
                }
            }
        }
        drop(s);
        tokio::time::sleep(tick).await;
    }
}

/// The replica must be a copy of this primary: the same system identifier. Returns whether
/// the check could be made.
async fn check_identity(s: &State, primary: &AnyPool, replica: &AnyPool) -> bool {
    let (Ok(p), Ok(r)) = (
        system_identifier(primary).await,
        system_identifier(replica).await,
    ) else {
        return false;
    };
    if p == r {
        s.genuine.store(true, Ordering::Release);
    } else {
        tracing::error!(primary = %p, replica = %r, "--read-database-url désigne une autre grappe PostgreSQL que le primaire : elle ne sera pas utilisée");
    }
    true
}

impl Store {
    /// A connection for a read that may be up to `--read-max-lag` behind: the replica's when it
    /// is fresh enough for this request, else the primary's (see the module's comment).
    pub(crate) async fn may_lag(&self) -> Result<PoolConnection<Any>, StoreError> {
        if let Some(replica) = &self.inner.replica {
            let after = READ_AFTER.try_with(|p| *p).ok();
            if replica.fresh_enough(after) {
                match replica.pool.acquire().await {
                    Ok(conn) => {
                        self.telemetry().with(|t| t.lagging_read("replica"));
                        return Ok(conn);
                    }
                    Err(e) => {
                        // Not fresh again until the monitor sees it answer.
                        replica.state.fresh_as_of.store(0, Ordering::Release);
                        tracing::warn!(error = %e, "réplique en lecture injoignable : lecture sur le primaire");
                    }
                }
            }
            self.telemetry().with(|t| t.lagging_read("primary"));
        }
        Ok(self.pool().acquire().await?)
    }

    /// The primary's current WAL position, when reads may go to a replica: what a request made
    /// after a change must see (see [`read_after`]). `None` without a replica.
    pub async fn primary_position(&self) -> Result<Option<u64>, StoreError> {
        if self.inner.replica.is_none() {
            return Ok(None);
        }
        Ok(Some(primary_lsn(self.write_pool()).await?))
    }

    /// The replica's state, if one is configured.
    pub fn replica_view(&self) -> Option<ReplicaView> {
        self.inner.replica.as_ref().map(Replica::view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_compare_as_postgresql_orders_them() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("garbage"), None);
        assert_eq!(parse_lsn("1/1FFFFFFFF"), None);
    }
}
