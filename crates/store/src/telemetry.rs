//! What the store tells whoever watches it (the server's metrics): events counted where they
//! are committed, whatever asked for them (API, pages, command line), and the time writes wait
//! for the database's write connection.
//!
//! The store knows nothing of metric formats; `passnum-web` implements [`Telemetry`]. Calls are
//! made after the commit and must be cheap (an atomic add, a short lock).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Every method does nothing unless implemented.
pub trait Telemetry: Send + Sync {
    /// A batch of `size` redemptions committed in one transaction (group commit).
    fn redemption_batch(&self, _size: usize) {}
    /// One redemption answered: `"accepted"` or the refusal's stable code.
    fn redemption(&self, _outcome: &str) {}
    fn handout(&self) {}
    fn booking(&self) {}
    /// A payment run confirmed: its cheques and what it pays the venues, in cents.
    fn payment_run(&self, _cheques: i64, _net_cents: i64) {}
    /// How long a write waited for the write connection and its transaction to begin.
    fn write_wait(&self, _waited: Duration) {}
    /// A write transaction run again after a serialization failure or deadlock.
    fn write_retry(&self, _operation: &'static str) {}
    /// A read that may lag served by `"replica"` or, the replica being stale, down or asked
    /// past, by `"primary"`.
    fn lagging_read(&self, _served_by: &'static str) {}
}

/// The store's telemetry, set once (by the server that exposes metrics).
#[derive(Clone, Default)]
pub(crate) struct TelemetrySlot(Arc<OnceLock<Arc<dyn Telemetry>>>);

impl TelemetrySlot {
    pub(crate) fn set(&self, observer: Arc<dyn Telemetry>) -> bool {
        self.0.set(observer).is_ok()
    }

    /// Calls `f` with the telemetry, if there is one.
    pub(crate) fn with(&self, f: impl FnOnce(&dyn Telemetry)) {
        if let Some(o) = self.0.get() {
            f(o.as_ref());
        }
    }
}
