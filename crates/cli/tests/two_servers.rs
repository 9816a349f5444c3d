//! Two separate `passnum serve` processes share one PostgreSQL database: a cheque fired at
//! both in parallel is redeemed exactly once, and an idempotency key holds across servers.

mod common;

use std::process::{Command, Stdio};

use common::{Server, free_port};
use std::time::{Duration, Instant};

use passnum_store::Actor;
use passnum_store::testing::{TestDb, TestEngine};
use serde_json::json;

async fn start(url: &str, key: &std::path::Path) -> (Server, String) {
    let port = free_port();
    // The server's own words, shown if it does not start.
    let log_path = key.with_file_name(format!("server-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_passnum"))
        .arg("--signing-key")
        .arg(key)
        // Servers sharing a database share the household key file too.
        .arg("--household-key")
        .arg(key.with_file_name("household.key"))
        .args([
            "--database-url",
            url,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start passnum");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server on {port} did not start:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Server(child), base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_on_one_postgresql_redeem_a_cheque_once() {
    let db = TestDb::new(TestEngine::Postgres).await;
    let s = &db.store;
    let now = common::now();
    let (order, venue) = common::programme(s, 3).await;
    let token = s
        .create_token(Actor::Venue(venue.id), "test", now)
        .await
        .unwrap();
    let codes: Vec<String> = s
        .list_cheques(order.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();

    // Both servers share one signing key file, as two servers behind one address would.
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("signing.key");
    let ((_a, base_a), (_b, base_b)) = tokio::join!(start(&db.url, &key), start(&db.url, &key));
    let client = reqwest::Client::new();

    // 64 truly parallel attempts on one cheque, half through each process.
    let mut tasks = vec![];
    for i in 0..64 {
        let base = if i % 2 == 0 {
            base_a.clone()
        } else {
            base_b.clone()
        };
        let (client, token, code) = (client.clone(), token.clone(), codes[0].clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/redemptions"))
                .bearer_auth(token)
                .json(&json!({"code": code, "service_code": "2.1.07"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );

    // A request sent to one server and retried on the other gets the first answer.
    for (i, code) in codes.iter().enumerate().skip(1).take(10) {
        let send = |base: String| {
            let (client, token) = (client.clone(), token.clone());
            let code = code.clone();
            async move {
                let r = client
                    .post(format!("{base}/api/v1/redemptions"))
                    .bearer_auth(token)
                    .header("Idempotency-Key", format!("scan-{i}"))
                    .json(&json!({"code": code, "service_code": "2.1.07"}))
                    .send()
                    .await
                    .unwrap();
                (
                    r.status().as_u16(),
                    r.headers().contains_key("idempotent-replayed"),
                    r.text().await.unwrap(),
                )
            }
        };
        let (first, retry) = tokio::join!(send(base_a.clone()), send(base_b.clone()));
        assert_eq!(first.0, 201);
        assert_eq!(retry.0, 201);
        assert_eq!(first.2, retry.2, "both servers give the same answer");
        assert!(first.1 ^ retry.1, "exactly one of the two is a replay");
    }
    let counts = s.order_counts(order.id).await.unwrap();
    assert_eq!(counts.redeemed, 11);
    assert!(s.trial_balance().await.unwrap().is_balanced());
    assert!(s.verify_ledger().await.unwrap().is_empty());
}
