//! passnum's HTTP server: the JSON API under `/api/v1`, described by a generated OpenAPI 3.1
//! document at `/api/v1/openapi.json`.
//!
//! Handlers parse input into domain types, call one store operation, and render. Every
//! error goes through [`error::ApiError`], mapped to HTTP once.

pub mod api;
pub mod audit;
pub mod auth;
pub mod deploy;
pub mod error;
pub mod extract;
pub mod fresh_reads;
pub mod metrics;
pub mod open_data;
pub mod ops;
pub mod server;
pub mod ui;

// The use cases live in `passnum-app`; handlers reach them by these short paths.
pub(crate) use passnum_app::{allocation, booklets, handing, keys, orientation};

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use passnum_store::Store;
use tokio::net::TcpListener;

pub use passnum_app::clock::{Clock, FixedClock, SystemClock};

/// Everything a handler may need, behind one `Arc`: every extractor and middleware clones the
/// state, and cloning twenty shared fields one by one cost 4 % of a redemption's CPU under load
/// (BENCHMARKS.md, fourteenth session). Fields read through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<auth::TokenCache>,
    pub keys: Arc<keys::KeyRing>,
    /// This server's cheque-signing key, when it prints booklets.
    pub signer: Option<Arc<passnum_core::signature::SigningKey>>,
    /// The public address of this instance (printed on booklets, in password links) and the
    /// proxies in front of it.
    pub deploy: Arc<deploy::Deployment>,
    /// The instance's secret for household hashes (a fresh random one unless set, which is
    /// what tests want; `passnum serve` loads it from its file).
    pub household: Arc<passnum_core::handout::HouseholdKey>,
    pub directory: Arc<orientation::DirectoryCache>,
    /// Password checks in flight, bounded (each holds 19 MiB).
    pub password_checks: passnum_app::sign_in::PasswordChecks,
    /// Public "Vérifier mon pass" checks per client.
    pub pass_checks: Arc<passnum_app::throttle::PerClientLimit>,
    /// The last open-data file built, shared by every request.
    pub open_data: Arc<open_data::OpenDataCache>,
    /// The last published figures of `/programme`, shared by every request.
    pub programme: Arc<ui::programme::ProgrammeCache>,
    /// The operator's anomalies, per window, shared by every request.
    pub anomalies: Arc<ui::figures::anomalies::AnomaliesCache>,
    /// Public applications per client.
    pub applications: Arc<passnum_app::throttle::PerClientLimit>,
    /// Public booking attempts per client (booking, listing, cancelling).
    pub bookings: Arc<passnum_app::throttle::PerClientLimit>,
    /// Requests and committed events, for `/metrics` on the admin address.
    pub metrics: Arc<metrics::Metrics>,
    /// ProConnect sign-in, when configured (`--proconnect-issuer`).
    pub proconnect: Option<Arc<passnum_app::proconnect::ProConnect>>,
    /// ProConnect sign-ins started per client (each writes a row for 10 minutes).
    pub proconnect_starts: Arc<passnum_app::throttle::PerClientLimit>,
    /// The one archive of a run's statements being built at a time (each holds every PDF in
    /// memory). Per server state, not per process: two servers in one process (the tests)
    /// must not refuse each other.
    pub statement_archives: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        let metrics = Arc::new(metrics::Metrics::default());
        // The first server state made for a store counts its events (one per process).
        store.set_telemetry(metrics.clone());
        Self(Arc::new(Shared {
            store,
            clock,
            tokens: Arc::new(auth::TokenCache::default()),
            keys: Arc::new(keys::KeyRing::default()),
            signer: None,
            deploy: Arc::new(deploy::Deployment::new("http://localhost:8080")),
            household: Arc::new(passnum_core::handout::HouseholdKey::generate()),
            directory: Arc::new(orientation::DirectoryCache::default()),
            password_checks: passnum_app::sign_in::PasswordChecks::default(),
            pass_checks: Arc::new(ui::public::pass_check_limit()),
            open_data: Arc::new(open_data::OpenDataCache::default()),
            programme: Arc::new(ui::programme::ProgrammeCache::default()),
            anomalies: Arc::new(ui::figures::anomalies::AnomaliesCache::default()),
            applications: Arc::new(ui::application::application_limit()),
            bookings: Arc::new(ui::booking::booking_limit()),
            metrics,
            proconnect: None,
            proconnect_starts: Arc::new(ui::proconnect::start_limit()),
            statement_archives: Arc::new(tokio::sync::Semaphore::new(1)),
        }))
    }

    /// The shared fields, to set while the server is being built (copied if already shared).
    pub fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// Staff may sign in with ProConnect (discovered beforehand).
    pub fn with_proconnect(mut self, pc: Arc<passnum_app::proconnect::ProConnect>) -> Self {
        self.shared_mut().proconnect = Some(pc);
        self
    }

    pub fn with_signer(mut self, key: passnum_core::signature::SigningKey) -> Self {
        self.shared_mut().signer = Some(Arc::new(key));
        self
    }

    pub fn with_household_key(mut self, key: passnum_core::handout::HouseholdKey) -> Self {
        self.shared_mut().household = Arc::new(key);
        self
    }

    /// Where browsers reach this server. With `https://`, cookies are `Secure` and
    /// `__Host-`-prefixed and HSTS is sent.
    pub fn with_public_url(mut self, url: &str) -> Self {
        Arc::make_mut(&mut self.shared_mut().deploy).public_url =
            url.trim_end_matches('/').to_string();
        self
    }

    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` gives the
    /// client's address; a French sentence for a value that is neither.
    pub fn with_trusted_proxies(mut self, proxies: &[String]) -> Result<Self, String> {
        let parsed = proxies
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| deploy::parse_proxy(p))
            .collect::<Result<Vec<_>, _>>()?;
        Arc::make_mut(&mut self.shared_mut().deploy).trusted_proxies = parsed;
        Ok(self)
    }
}

/// A bound server, not yet running. Bind to port 0 in tests and read [`Application::port`].
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(state: AppState, listen: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(server::stop_signal()).await
    }

    /// Serves until `stop` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        server::serve(self.listener, self.router, stop).await
    }
}

pub fn router(state: AppState) -> Router {
    api::router(state, ui::router())
}
