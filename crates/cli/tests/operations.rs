//! What the operations team relies on, against a real `passnum serve` process on both engines:
//! readiness says what it checked, `/metrics` is on the admin address only and counts what
//! happened, and JSON logs tie each request's lines to its id without a single personal datum
//! or secret (the test types them, then greps the whole log for them).

mod common;

use std::process::{Command, Stdio};

use common::{Server, free_port};
use std::time::{Duration, Instant};

use passnum_store::{Actor, both_engines};
use serde_json::{Value, json};

const PASSWORD: &str = "Un-mot-de-passe-secret-42";
const EMAIL: &str = "camille.durand@lieu.example";
const IBAN: &str = "FR7630001007941234567890185";

/// A funder, an order valid today, a venue with a token and a staff account.
async fn programme(s: &passnum_store::Store) -> (String, Vec<String>, i64) {
    let now = common::now();
    let (order, venue) = common::programme(s, 1).await;
    let token = s
        .create_token(Actor::Venue(venue.id), "accueil", now)
        .await
        .unwrap();
    let hash = passnum_app::passwords::hash_password(PASSWORD.into())
        .await
        .unwrap();
    s.create_staff(EMAIL, "Camille Durand", &hash, Actor::Venue(venue.id), now)
        .await
        .unwrap();
    let codes = s
        .list_cheques(order.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    (token, codes, venue.id.0)
}

async fn wait_up(base: &str, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(reqwest::get(format!("{base}/livez")).await, Ok(r) if r.status() == 200) {
        assert!(
            Instant::now() < deadline,
            "the server did not start:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_engines! {
    async fn probes_metrics_and_json_logs_without_personal_data(db) {
        let (token, codes, venue) = programme(&db.store).await;
        let dir = tempfile::tempdir().unwrap();
        let (port, admin) = (free_port(), free_port());
        let log_path = dir.path().join("server.log");
        let child = Command::new(env!("CARGO_BIN_EXE_passnum"))
            .arg("--signing-key").arg(dir.path().join("signing.key"))
            .arg("--household-key").arg(dir.path().join("household.key"))
            .args(["--database-url", &db.url, "--log-format", "json", "serve"])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--admin-listen", &format!("127.0.0.1:{admin}")])
            // Everything every crate logs, the strictest setting an operator could choose.
            .env("RUST_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let server = Server(child);
        let (base, admin) = (format!("http://127.0.0.1:{port}"), format!("http://127.0.0.1:{admin}"));
        wait_up(&base, &log_path).await;

        // Readiness names each check.
        let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/health+json");
        let ready: Value = r.json().await.unwrap();
        assert_eq!(ready["status"], "pass", "{ready}");
        for check in ["database:connectivity", "database:migrations", "keys:signing", "keys:household"] {
            assert_eq!(ready["checks"][check][0]["status"], "pass", "{check}: {ready}");
        }

        // A person signs in (a wrong password first), a venue scans a cheque twice, records
        // its bank details.
        let browser = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let html = browser.get(format!("{base}/connexion")).send().await.unwrap().text().await.unwrap();
        let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        for password in ["pas-le-bon-mot-de-passe", PASSWORD] {
            let form = [("email", EMAIL), ("password", password), ("csrf", csrf.as_str()), ("next", "")];
            browser.post(format!("{base}/connexion")).form(&form).send().await.unwrap();
        }
        let client = reqwest::Client::new();
        let mut request_ids = vec![];
        for expected in [201, 409] {
            let r = client.post(format!("{base}/api/v1/redemptions")).bearer_auth(&token)
                .json(&json!({"code": codes[0], "service_code": "2.1.07"})).send().await.unwrap();
            assert_eq!(r.status(), expected);
            request_ids.push(r.headers()["x-request-id"].to_str().unwrap().to_string());
        }
        let r = client.post(format!("{base}/api/v1/venues/{venue}/bank-accounts")).bearer_auth(&token)
            .json(&json!({"iban": IBAN, "bic": "BDFEFRPP", "holder": "Camille Durand"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let r = client.get(format!("{base}/lieux?q={EMAIL}")).send().await.unwrap();
        assert_eq!(r.status(), 200);

        // A method a client invents is counted as OTHER: labels stay a bounded set.
        for m in ["BREW", "BREW2"] {
            let r = client.request(reqwest::Method::from_bytes(m.as_bytes()).unwrap(), format!("{base}/livez")).send().await.unwrap();
            assert_eq!(r.status(), 405);
        }
        // Metrics: only on the admin address, with what just happened.
        assert_eq!(reqwest::get(format!("{base}/metrics")).await.unwrap().status(), 404);
        let r = reqwest::get(format!("{admin}/metrics")).await.unwrap();
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
        let text = r.text().await.unwrap();
        for line in [
            "passnum_redemptions_total{outcome=\"accepted\"} 1",
            "passnum_redemptions_total{outcome=\"cheque_already_redeemed\"} 1",
            "passnum_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/redemptions\",status=\"201\"} 1",
            "passnum_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/redemptions\",status=\"409\"} 1",
            "passnum_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/venues/{id}/bank-accounts\",status=\"201\"} 1",
            "passnum_redemption_batch_size_count 2",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert!(text.contains("passnum_database_connections{pool=\"write\",state=\"open\"}"), "{text}");
        assert!(text.contains("passnum_http_request_duration_seconds_count{method=\"OTHER\",route=\"/livez\",status=\"405\"} 2") && !text.contains("BREW"), "{text}");
        assert!(text.contains("passnum_database_write_wait_seconds_count"), "{text}");

        // SIGTERM: a clean stop, every log line written.
        std::process::Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
        let mut server = server;
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no stop after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(&log_path).unwrap();
        let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
        assert!(lines.len() > 20, "{log}");
        // The strictest level is on: the database driver's statements are in the log too.
        assert!(lines.iter().any(|l| l["target"].as_str().is_some_and(|t| t.starts_with("sqlx"))), "{log}");
        // Each scan's own lines carry its id, the same as the answer's X-Request-Id.
        for id in &request_ids {
            let mine: Vec<&Value> = lines.iter().filter(|l| l["span"]["id"] == id.as_str()).collect();
            assert!(mine.iter().any(|l| l["fields"]["route"] == "/api/v1/redemptions"), "{id}: {log}");
        }
        let compact = codes[0].replace('-', "");
        let secrets = [
            ("e-mail", EMAIL.to_string()), ("e-mail (encoded)", EMAIL.replace('@', "%40")),
            ("password", PASSWORD.to_string()), ("wrong password", "pas-le-bon-mot-de-passe".to_string()),
            ("token", token.clone()), ("cheque code", codes[0].clone()), ("cheque code", compact),
            ("IBAN", IBAN.to_string()), ("IBAN end", IBAN[IBAN.len() - 10..].to_string()),
            ("holder", "Camille Durand".to_string()), ("CSRF token", csrf.clone()),
        ];
        for (what, secret) in secrets {
            assert!(!log.contains(&secret), "the {what} is in the log:\n{}", log.lines().filter(|l| l.contains(&secret)).collect::<Vec<_>>().join("\n"));
        }
    }
}
