//! Metrics for the operations team, in the OpenMetrics text format that Prometheus scrapes
//! from `/metrics` on the admin address (`passnum serve --admin-listen`), never on the public
//! one.
//!
//! Requests are counted by route *template* (`/api/v1/orders/{id}`, not each id: bounded, and
//! no personal data in a label) and status, with their latency; business events are counted
//! where the store commits them ([`passnum_store::Telemetry`]); the connection pools are read
//! at each scrape.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServedByLabels {
    served_by: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    state: &'static str,
}

/// 1 ms to ~16 s.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    redemptions: Family<OutcomeLabels, Counter>,
    handouts: Counter,
    bookings: Counter,
    payment_runs: Counter,
    payment_run_cheques: Counter,
    payment_run_cents: Counter,
    batch_sizes: Histogram,
    write_waits: Histogram,
    write_retries: Family<OperationLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    lagging_reads: Family<ServedByLabels, Counter>,
    replica_usable: Gauge,
    replica_staleness_ms: Gauge,
    /// Off only to measure what counting costs (`passnum bench --only metrics`).
    enabled: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("passnum"),
            requests: Family::new_with_constructor(latency_buckets as fn() -> Histogram),
            redemptions: Family::default(),
            handouts: Counter::default(),
            bookings: Counter::default(),
            payment_runs: Counter::default(),
            payment_run_cheques: Counter::default(),
            payment_run_cents: Counter::default(),
            batch_sizes: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            write_waits: Histogram::new(exponential_buckets(0.0001, 4.0, 10)),
            write_retries: Family::default(),
            pool: Family::default(),
            lagging_reads: Family::default(),
            replica_usable: Gauge::default(),
            replica_staleness_ms: Gauge::default(),
            enabled: AtomicBool::new(true),
        };
        let r = &mut m.registry;
        r.register_with_unit(
            "http_request_duration",
            "HTTP requests by method, route template and status, with their duration",
            Unit::Seconds,
            m.requests.clone(),
        );
        r.register(
            "redemptions",
            "Redemptions answered: accepted, or the refusal's code",
            m.redemptions.clone(),
        );
        r.register("handouts", "Booklets handed out", m.handouts.clone());
        r.register("bookings", "Workshop places booked", m.bookings.clone());
        r.register(
            "payment_runs",
            "Payment runs confirmed",
            m.payment_runs.clone(),
        );
        r.register(
            "payment_run_cheques",
            "Cheques paid by confirmed payment runs",
            m.payment_run_cheques.clone(),
        );
        r.register(
            "payment_run_amount_cents",
            "What confirmed payment runs paid the venues, in cents",
            m.payment_run_cents.clone(),
        );
        r.register(
            "redemption_batch_size",
            "Redemptions committed per transaction (group commit)",
            m.batch_sizes.clone(),
        );
        r.register_with_unit(
            "database_write_wait",
            "Time a write waited for the write connection and its transaction",
            Unit::Seconds,
            m.write_waits.clone(),
        );
        r.register(
            "database_write_retries",
            "Write transactions run again after a serialization failure or deadlock, by operation",
            m.write_retries.clone(),
        );
        r.register(
            "database_connections",
            "Connections of each pool, open or idle (read at the scrape)",
            m.pool.clone(),
        );
        r.register(
            "lagging_reads",
            "Reads that may lag (dashboards, exports, public pages, listings), by who served them: replica or primary",
            m.lagging_reads.clone(),
        );
        r.register(
            "replica_usable",
            "1 when reads that may lag go to the replica (--read-database-url), 0 when they go to the primary",
            m.replica_usable.clone(),
        );
        r.register(
            "replica_staleness_milliseconds",
            "How far behind the primary the replica may be, -1 if never seen up to date (read at the scrape)",
            m.replica_staleness_ms.clone(),
        );
        m
    }
}

impl Metrics {
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        if !self.enabled() {
            return;
        }
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .observe(took.as_secs_f64());
    }

    /// The text a scrape returns; the pools are read now.
    pub fn encode(&self, store: &passnum_store::Store) -> String {
        let (read, write) = store.pool_state();
        for (pool, s) in [("read", read), ("write", write)] {
            for (state, n) in [("open", s.open), ("idle", s.idle)] {
                self.pool
                    .get_or_create(&PoolLabels { pool, state })
                    .set(i64::from(n));
            }
        }
        if let Some(view) = store.replica_view() {
            self.replica_usable.set(i64::from(view.usable));
            self.replica_staleness_ms.set(
                view.staleness
                    .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            );
        }
        let mut out = String::with_capacity(16 * 1024);
        // Writing to a String does not fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl passnum_store::Telemetry for Metrics {
    fn lagging_read(&self, served_by: &'static str) {
        if !self.enabled() {
            return;
        }
        self.lagging_reads
            .get_or_create(&ServedByLabels { served_by })
            .inc();
    }

    fn redemption_batch(&self, size: usize) {
        if !self.enabled() {
            return;
        }
        self.batch_sizes.observe(size as f64);
    }

    fn redemption(&self, outcome: &str) {
        if !self.enabled() {
            return;
        }
        self.redemptions
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    fn handout(&self) {
        if !self.enabled() {
            return;
        }
        self.handouts.inc();
    }

    fn booking(&self) {
        if !self.enabled() {
            return;
        }
        self.bookings.inc();
    }

    fn payment_run(&self, cheques: i64, net_cents: i64) {
        if !self.enabled() {
            return;
        }
        self.payment_runs.inc();
        self.payment_run_cheques.inc_by(cheques.max(0) as u64);
        self.payment_run_cents.inc_by(net_cents.max(0) as u64);
    }

    fn write_wait(&self, waited: Duration) {
        if !self.enabled() {
            return;
        }
        self.write_waits.observe(waited.as_secs_f64());
    }

    fn write_retry(&self, operation: &'static str) {
        if !self.enabled() {
            return;
        }
        self.write_retries
            .get_or_create(&OperationLabels { operation })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use passnum_store::Telemetry;

    #[test]
    fn events_and_requests_appear_in_the_scrape_text() {
        let m = Metrics::default();
        m.redemption("accepted");
        m.redemption("accepted");
        m.redemption("already_redeemed");
        m.redemption_batch(3);
        m.payment_run(2, 1920);
        m.request("GET", "/api/v1/orders/{id}", 200, Duration::from_millis(3));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        for line in [
            "passnum_redemptions_total{outcome=\"accepted\"} 2",
            "passnum_redemptions_total{outcome=\"already_redeemed\"} 1",
            "passnum_payment_run_amount_cents_total 1920",
            "passnum_redemption_batch_size_count 1",
            "passnum_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/orders/{id}\",status=\"200\"} 1",
        ] {
            assert!(out.contains(line), "{line} in\n{out}");
        }
        assert!(out.ends_with("# EOF\n"));
    }
}
