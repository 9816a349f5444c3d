#![allow(dead_code)]
//! Spawns the real server on port 0 over a fresh database, with a clock the test controls.

use std::sync::Arc;

use passnum_core::order::OrderRequest;
use passnum_core::{ChequeCode, InseeCode, NewOrder, Siret, Timestamp, VenueStatus};
use passnum_store::testing::{TestDb, TestEngine};
use passnum_store::{Actor, Funder, NewVenue, Order, Store, Venue};
use passnum_web::{AppState, Application, FixedClock};
use reqwest::{Client, Response};
use serde_json::Value;
use time::macros::{date, datetime};

pub fn t0() -> Timestamp {
    Timestamp::from_offset_datetime(datetime!(2026-06-15 10:00 UTC))
}

pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub clock: Arc<FixedClock>,
    pub client: Client,
    pub operator: String,
    /// Dropping it (or [`TestApp::stop`]) stops the server as SIGTERM would.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(engine: TestEngine) -> Self {
        Self::spawn_with(engine, |s| s).await
    }

    /// As [`TestApp::spawn`], with the deployment settings changed by `settings`. The server
    /// believes `X-Forwarded-For` from 127.0.0.1, so a test can speak as several clients.
    pub async fn spawn_with(
        engine: TestEngine,
        settings: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        Self::spawn_on(TestDb::new(engine).await, settings).await
    }

    /// As [`TestApp::spawn_with`], on a database the test made.
    pub async fn spawn_on(db: TestDb, settings: impl FnOnce(AppState) -> AppState) -> Self {
        let clock = Arc::new(FixedClock::new(t0()));
        // The server signs the booklets it prints, like `passnum serve`.
        let key = passnum_core::signature::generate_key(&mut rand::rng());
        db.store
            .register_signing_key(&key.verifying_key(), t0())
            .await
            .unwrap();
        let state = AppState::new(db.store.clone(), clock.clone())
            .with_signer(key)
            .with_public_url("http://pass.example.test")
            .with_trusted_proxies(&["127.0.0.1".to_string()])
            .unwrap();
        let app = Application::build(settings(state), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let operator = db
            .store
            .create_token(Actor::Operator, "test", t0())
            .await
            .unwrap();
        Self {
            db,
            base,
            clock,
            client: Client::new(),
            operator,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Asks the server to stop, as SIGTERM does, and waits until it has.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn token(&self, actor: Actor) -> String {
        self.store()
            .create_token(actor, "test", t0())
            .await
            .unwrap()
    }
}

pub struct Programme {
    pub funder: Funder,
    pub funder_token: String,
    pub order: Order,
    pub venue: Venue,
    pub venue_token: String,
    pub codes: Vec<ChequeCode>,
}

pub async fn venue(store: &Store, siret: &str, name: &str, commune: &str) -> Venue {
    store
        .create_venue(
            &NewVenue {
                siret: Siret::parse(siret).unwrap().into(),
                name: name.into(),
                commune: InseeCode::parse(commune).unwrap(),
                status: VenueStatus::Qualified,
                qualified_until: None,
                address: String::new(),
                contact: String::new(),
                services: store.referentiel_codes(),
            },
            t0(),
        )
        .await
        .unwrap()
}

/// An order of `booklets` booklets of ten 10 € cheques for 2026, over `departements`.
pub fn order_2026(booklets: i64, departements: &[&str]) -> NewOrder {
    NewOrder::parse(&OrderRequest {
        booklet_count: booklets,
        cheques_per_booklet: 10,
        face_value_cents: 1000,
        valid_from: date!(2026 - 01 - 01),
        valid_until: date!(2026 - 12 - 31),
        tolerance_days: 30,
        perimeter_communes: vec![],
        perimeter_departements: departements.iter().map(|d| d.to_string()).collect(),
        perimeter_epcis: vec![],
        perimeter_regions: vec![],
    })
    .unwrap()
}

/// A funder with a 2-booklet order and a qualified venue in its perimeter, each with a token.
pub async fn programme(app: &TestApp, name: &str, siret: &str) -> Programme {
    let s = app.store();
    let funder = s.create_funder(name, "metropole", t0()).await.unwrap();
    let order = s
        .create_order(funder.id, &order_2026(2, &["69"]), t0())
        .await
        .unwrap();
    let venue = venue(s, siret, &format!("Lieu {name}"), "69123").await;
    let codes = s
        .list_cheques(order.id, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|c| ChequeCode::parse(&c.code).unwrap())
        .collect();
    Programme {
        funder_token: app.token(Actor::Funder(funder.id)).await,
        venue_token: app.token(Actor::Venue(venue.id)).await,
        funder,
        order,
        venue,
        codes,
    }
}

/// The value of a form field in a page (the CSRF token, for one).
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub async fn json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

/// Asserts the standard error shape and returns its code.
pub fn error_code(v: &Value) -> &str {
    let code = v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {v}"));
    let message = v["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty());
    code
}

/// Runs an async test body against a server on each engine.
#[macro_export]
macro_rules! api_test {
    (async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::common::TestApp) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() { run($crate::common::TestApp::spawn(passnum_store::testing::TestEngine::Sqlite).await).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() { run($crate::common::TestApp::spawn(passnum_store::testing::TestEngine::Postgres).await).await }
        }
    };
}

/// A browser-like client: cookies kept, redirects not followed (tests read them).
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in through the page as a person does; the answer tells whether it worked.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> (Client, Response) {
    let client = browser();
    let html = client
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field(&html, "csrf");
    let r = client
        .post(app.url("/connexion"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", &csrf),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    (client, r)
}

/// A browser signed in as a new staff member of `actor`, named `name`.
pub async fn signed_in_as(app: &TestApp, email: &str, name: &str, actor: Actor) -> Client {
    const PASSWORD: &str = "une phrase de passe assez longue";
    let hash = passnum_app::passwords::hash_password(PASSWORD.into())
        .await
        .unwrap();
    app.store()
        .create_staff(email, name, &hash, actor, t0())
        .await
        .unwrap();
    let (client, r) = sign_in(app, email, PASSWORD).await;
    assert_eq!(r.status(), 303, "signed in");
    client
}

/// A browser signed in as a new staff member of `actor`.
pub async fn signed_in(app: &TestApp, email: &str, actor: Actor) -> Client {
    signed_in_as(app, email, "Membre", actor).await
}
