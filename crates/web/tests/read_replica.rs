//! Reads that may lag, on a real PostgreSQL streaming replica (`scripts/pg-replica.sh`, made
//! with `pg_basebackup -R`): served by the replica while it is fresh, by the primary when it
//! lags past the bound, is down, is not a standby, or when a browser must see its own change;
//! decisions never read it. One test, because it pauses the replica's replay, which every
//! database of the cluster shares.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use passnum_store::testing::{TestDb, replica_url};
use passnum_store::{Actor, ReplicaOptions, Store, StoreOptions, read_after};
use serde_json::json;
use sqlx::{Connection, Executor, Row};

#[derive(Default)]
struct Served {
    replica: AtomicU64,
    primary: AtomicU64,
}

impl passnum_store::Telemetry for Served {
    fn lagging_read(&self, served_by: &'static str) {
        match served_by {
            "replica" => self.replica.fetch_add(1, Ordering::Relaxed),
            _ => self.primary.fetch_add(1, Ordering::Relaxed),
        };
    }
}

impl Served {
    fn counts(&self) -> (u64, u64) {
        (
            self.replica.load(Ordering::Relaxed),
            self.primary.load(Ordering::Relaxed),
        )
    }
}

/// Pauses or resumes the replica's replay of the primary's WAL, and waits until it has.
async fn replay(paused: bool) {
    let url = std::env::var("PASSNUM_TEST_PG_REPLICA_URL")
        .expect("PASSNUM_TEST_PG_REPLICA_URL: see ./scripts/test.sh");
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let call = if paused {
        "pg_wal_replay_pause()"
    } else {
        "pg_wal_replay_resume()"
    };
    conn.execute(sqlx::AssertSqlSafe(format!("SELECT CAST({call} AS TEXT)")))
        .await
        .unwrap();
    for _ in 0..200 {
        let state: String = sqlx::query("SELECT pg_get_wal_replay_pause_state() AS s")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get("s");
        if (state == "paused") == paused {
            conn.close().await.ok();
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("replay never became paused={paused}");
}

async fn until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

async fn funder_names(store: &Store) -> Vec<String> {
    store
        .list_funders(100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect()
}

/// The operator's list of funders, as `client` sees it.
async fn funders_page(app: &TestApp, client: &reqwest::Client) -> String {
    let r = client
        .get(app.url("/operateur/commanditaires"))
        .send()
        .await
        .unwrap();
    r.text().await.unwrap()
}

async fn store_with_replica(url: &str, replica: String, max_lag: Duration) -> Store {
    let options = StoreOptions {
        replica: Some(ReplicaOptions {
            url: replica,
            max_lag,
        }),
        ..StoreOptions::default()
    };
    Store::connect(url, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_replica_on_postgres() {
    replay(false).await;
    // A server allowed to read 60 s behind, and a second store on the same database allowed 1 s.
    let app = TestApp::spawn_on(
        TestDb::postgres_with_replica(Duration::from_secs(60)).await,
        |s| s,
    )
    .await;
    let lenient = app.store().clone();
    let strict = store_with_replica(
        &app.db.url,
        replica_url(&app.db.url).await,
        Duration::from_secs(1),
    )
    .await;
    let served = Arc::new(Served::default());
    assert!(strict.set_telemetry(served.clone()));
    until("both stores see the replica fresh", || async {
        lenient.replica_view().unwrap().usable && strict.replica_view().unwrap().usable
    })
    .await;

    // 1. A fresh replica serves the listings.
    strict
        .create_funder("Commune d'Avant", "commune", t0())
        .await
        .unwrap();
    until("the replica has the first funder", || async {
        funder_names(&strict)
            .await
            .contains(&"Commune d'Avant".to_string())
    })
    .await;
    assert!(
        served.counts().0 > 0,
        "read on the replica: {:?}",
        served.counts()
    );

    // A browser signed in now, once the replica has its sign-in.
    let other_operator = signed_in(&app, "autre@operateur.test", Actor::Operator).await;
    let operator = signed_in(&app, "op@operateur.test", Actor::Operator).await;
    let p = programme(&app, "Métropole de Lyon", "21690123100011").await;
    let caught_up = strict.primary_position().await.unwrap().unwrap();
    until(
        "the replica replays the sign-ins and the programme",
        || async {
            let view = strict.replica_view().unwrap();
            view.usable && view.replayed >= caught_up
        },
    )
    .await;

    // 2. Replay paused: the replica falls behind the primary.
    replay(true).await;
    strict
        .create_funder("Commune Pendant", "commune", t0())
        .await
        .unwrap();
    // Allowed 60 s, the lenient store still reads the replica: the new funder is not there yet.
    assert!(lenient.replica_view().unwrap().usable);
    assert!(
        !funder_names(&lenient)
            .await
            .contains(&"Commune Pendant".to_string())
    );
    // A request that must see the change reads the primary.
    let position = strict.primary_position().await.unwrap();
    let seen = read_after(position, funder_names(&lenient)).await;
    assert!(seen.contains(&"Commune Pendant".to_string()), "{seen:?}");
    // Allowed 1 s, the strict store stops reading the replica and reads the primary.
    until("the strict store gives up the lagging replica", || async {
        !strict.replica_view().unwrap().usable
    })
    .await;
    let before = served.counts();
    assert!(
        funder_names(&strict)
            .await
            .contains(&"Commune Pendant".to_string())
    );
    assert_eq!(
        served.counts(),
        (before.0, before.1 + 1),
        "read on the primary"
    );
    assert!(strict.replica_view().unwrap().staleness.unwrap() > Duration::from_secs(1));

    // 3. Decisions read the primary, whatever the replica says: a cheque redeemed while the
    // replica lags cannot be redeemed again, though a listing that may lag does not show it.
    let redeem = json!({"code": p.codes[0].grouped(), "service_code": "2.1.07"});
    let (st, v) = json(
        app.post(&p.venue_token, "/api/v1/redemptions", &redeem)
            .await,
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = json(
        app.post(&p.venue_token, "/api/v1/redemptions", &redeem)
            .await,
    )
    .await;
    assert_eq!((st, error_code(&v)), (409, "cheque_already_redeemed"));
    let (_, status) = json(
        app.get(&p.venue_token, &format!("/api/v1/cheques/{}", p.codes[0]))
            .await,
    )
    .await;
    assert_eq!(status["state"], "redeemed");
    let (_, listed) = json(app.get(&p.venue_token, "/api/v1/redemptions").await).await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        0,
        "an API listing may lag: {listed}"
    );

    // 4. A browser sees its own change at once; another browser may see the replica's state.
    let page = funders_page(&app, &operator).await;
    let r = operator
        .post(app.url("/operateur/commanditaires"))
        .form(&[
            ("csrf", field(&page, "csrf").as_str()),
            ("name", "Commune de Bron"),
            ("kind", "commune"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("passnum_vu=")),
        "the answer to a change names the primary's position"
    );
    let mine = funders_page(&app, &operator).await;
    assert!(
        mine.contains("Commune de Bron"),
        "the browser that made the change sees it"
    );
    let theirs = funders_page(&app, &other_operator).await;
    assert!(theirs.contains("Métropole de Lyon"), "{theirs}");
    assert!(
        !theirs.contains("Commune de Bron"),
        "another browser reads the lagging replica"
    );

    // 5. Replay resumed: the replica catches up and serves again.
    replay(false).await;
    until("the strict store uses the replica again", || async {
        strict.replica_view().unwrap().usable
    })
    .await;
    let before = served.counts();
    let names = funder_names(&strict).await;
    assert!(
        names.contains(&"Commune Pendant".to_string())
            && names.contains(&"Commune de Bron".to_string())
    );
    assert_eq!(
        served.counts(),
        (before.0 + 1, before.1),
        "read on the replica"
    );
    until("the API listing shows the redemption", || async {
        let (_, listed) = json(app.get(&p.venue_token, "/api/v1/redemptions").await).await;
        listed.as_array().unwrap().len() == 1
    })
    .await;
    strict.close().await;

    // 6. A replica that is down, or that is not a standby of this primary, is never used.
    for (what, replica) in [
        (
            "down",
            "postgres://postgres@127.0.0.1:1/postgres".to_string(),
        ),
        ("the primary itself", app.db.url.clone()),
    ] {
        let store = store_with_replica(&app.db.url, replica, Duration::from_secs(1)).await;
        let served = Arc::new(Served::default());
        store.set_telemetry(served.clone());
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!store.replica_view().unwrap().usable, "{what}");
        assert!(
            funder_names(&store)
                .await
                .contains(&"Commune de Bron".to_string()),
            "{what}"
        );
        assert_eq!(served.counts(), (0, 1), "{what}: read on the primary");
        store.close().await;
    }
}

#[tokio::test]
async fn a_replica_is_refused_beside_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let options = StoreOptions {
        replica: Some(ReplicaOptions {
            url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            max_lag: Duration::from_secs(5),
        }),
        ..StoreOptions::default()
    };
    let err = Store::connect(&url, options).await.err().expect("refused");
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
}
