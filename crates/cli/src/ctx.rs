//! What every command shares: the global options of the command line and the one way to open
//! the store.

use std::path::PathBuf;

use anyhow::Context;
use passnum_core::Timestamp;
use passnum_store::{Store, StoreOptions};

pub struct Ctx {
    pub database_url: Option<String>,
    pub signing_key: PathBuf,
    pub household_key: PathBuf,
    pub public_url: Option<String>,
    pub trusted_proxies: Vec<String>,
}

impl Ctx {
    /// `--public-url`, or the address a server on the default port would have.
    pub fn public_url_or_default(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| "http://localhost:8080".into())
    }

    /// `--public-url`, or the address this server listens on.
    pub fn public_url_for(&self, listen: std::net::SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"))
    }

    /// The store of `--database-url`, or `passnum.db`.
    pub async fn store(&self) -> anyhow::Result<Store> {
        self.store_with("passnum.db", StoreOptions::default()).await
    }

    /// The store of `--database-url`, or `default`, with these options.
    pub async fn store_with(&self, default: &str, options: StoreOptions) -> anyhow::Result<Store> {
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| default.to_string());
        Store::connect(&url, options)
            .await
            .with_context(|| format!("ouverture de la base « {url} »"))
    }
}

pub fn now() -> Timestamp {
    Timestamp::from_offset_datetime(time::OffsetDateTime::now_utc())
}

/// Set once at start with `--log-format json`.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn use_json_logs() {
    JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A sentence for the person who started the server, on standard error; with JSON logs, a log
/// line instead, so that a collector reading standard error sees only JSON.
pub fn say(sentence: impl std::fmt::Display) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("{sentence}");
    } else {
        eprintln!("{sentence}");
    }
}
