//! Three separate `passnum serve` processes share one PostgreSQL database (issue 18): requests
//! spread over the three, a cheque is redeemed once, an idempotency key holds across servers,
//! one payment run is prepared and confirmed once, and a workshop's places are not overbooked.
//!
//! Its name holds "postgresql", so the serializable pass of `./scripts/test.sh` runs it again
//! with every transaction at `SERIALIZABLE`: there a request may also answer 503
//! `database_busy` (retry budget spent), never 500 and never half-written.

mod common;

use std::process::{Command, Stdio};

use common::{Server, free_port};
use std::time::{Duration, Instant};

use passnum_core::{BankDetails, ChequeCode, Timestamp};
use passnum_store::testing::{TestDb, TestEngine};
use passnum_store::{Actor, Outcome, RedeemRequest, Store};
use serde_json::{Value, json};

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

/// POSTs `body` with `token` to each of `bases` in turn, `n` requests at once; returns the
/// statuses and bodies in sending order.
async fn fire(
    bases: &[String],
    token: &str,
    n: usize,
    path_body: impl Fn(usize) -> (String, Value),
) -> Vec<(u16, Value)> {
    let client = reqwest::Client::new();
    let mut tasks = vec![];
    for i in 0..n {
        let (path, body) = path_body(i);
        let url = format!("{}{path}", bases[i % bases.len()]);
        let (client, token) = (client.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut out = vec![];
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

/// Every answer is one of `allowed`, or 503 `database_busy` (SERIALIZABLE only); returns how
/// many were busy.
fn busy_else(answers: &[(u16, Value)], allowed: &[u16]) -> usize {
    for (status, body) in answers {
        assert!(
            allowed.contains(status)
                || (*status == 503 && body["error"]["code"] == "database_busy"),
            "{status} {body}"
        );
    }
    count(answers, 503)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_server_processes_on_one_postgresql() {
    let db = TestDb::new(TestEngine::Postgres).await;
    let s = &db.store;
    let now = common::now();
    let (order, venue) = common::programme(s, 40).await;
    let venue_token = s
        .create_token(Actor::Venue(venue.id), "test", now)
        .await
        .unwrap();
    let operator = s.create_token(Actor::Operator, "test", now).await.unwrap();
    let codes: Vec<String> = s
        .list_cheques(order.id, 0, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();

    // The three share one signing key file, as servers behind one address would.
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("signing.key");
    let ((_a, a), (_b, b), (_c, c)) = tokio::join!(
        start(&db.url, &key),
        start(&db.url, &key),
        start(&db.url, &key)
    );
    let bases = [a, b, c];

    redemption_raced(&bases, &venue_token, &codes[0]).await;
    idempotency_across_servers(&bases, &venue_token, &codes[1..11]).await;
    payment_run_once(s, &bases, &operator, &venue, &codes[11..31]).await;
    bookings_within_places(s, &bases, &venue_token, &order, &venue).await;

    assert!(s.trial_balance().await.unwrap().is_balanced());
    assert!(s.verify_ledger().await.unwrap().is_empty());
}

/// 96 truly parallel attempts on one cheque, a third through each process: one accepted.
async fn redemption_raced(bases: &[String], token: &str, code: &str) {
    let answers = fire(bases, token, 96, |_| {
        (
            "/api/v1/redemptions".into(),
            json!({"code": code, "service_code": "2.1.07"}),
        )
    })
    .await;
    let busy = busy_else(&answers, &[201, 409]);
    assert_eq!(count(&answers, 201), 1, "{answers:?}");
    assert_eq!(count(&answers, 409) + busy, 95);
}

/// The same request (same key) sent to the three servers at once: the same answer three times,
/// the cheque redeemed once.
async fn idempotency_across_servers(bases: &[String], token: &str, codes: &[String]) {
    let client = reqwest::Client::new();
    for (i, code) in codes.iter().enumerate() {
        let send = |base: &String| {
            let (client, token) = (client.clone(), token.to_string());
            let url = format!("{base}/api/v1/redemptions");
            let code = code.clone();
            async move {
                let r = client
                    .post(url)
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
        let (x, y, z) = tokio::join!(send(&bases[0]), send(&bases[1]), send(&bases[2]));
        let answers = [x, y, z];
        assert!(answers.iter().all(|a| a.0 == 201), "{answers:?}");
        assert!(
            answers.iter().all(|a| a.2 == answers[0].2),
            "the same answer: {answers:?}"
        );
        assert_eq!(
            answers.iter().filter(|a| !a.1).count(),
            1,
            "one original: {answers:?}"
        );
    }
}

/// Twenty cheques used yesterday; the operator asks the three servers at once to prepare a run,
/// then to confirm it: one run, confirmed once, each cheque paid once.
async fn payment_run_once(
    s: &Store,
    bases: &[String],
    token: &str,
    venue: &passnum_store::Venue,
    codes: &[String],
) {
    let yesterday = Timestamp::from_unix_ms(common::now().unix_ms() - 86_400_000);
    for code in codes {
        let answer = s
            .redeem(RedeemRequest {
                venue_id: venue.id,
                code: ChequeCode::parse(code).unwrap(),
                service_code: "2.1.07".into(),
                workshop_id: None,
                now: yesterday,
                idempotency: None,
            })
            .await
            .unwrap();
        assert!(matches!(answer.outcome, Outcome::Accepted(_)));
    }
    let details =
        BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Ville de Lyon").unwrap();
    let account = s
        .set_bank_account(venue.id, &details, yesterday)
        .await
        .unwrap();
    s.confirm_bank_account(venue.id, account.id, yesterday)
        .await
        .unwrap();
    let cutoff = passnum_core::paris::local_date(yesterday).to_string();

    let prepared = fire(bases, token, 9, |_| {
        ("/api/v1/payment-runs".into(), json!({"cutoff": cutoff}))
    })
    .await;
    let busy = busy_else(&prepared, &[201, 409]);
    assert_eq!(count(&prepared, 201), 1, "{prepared:?}");
    assert_eq!(count(&prepared, 409) + busy, 8);
    let run = &prepared.iter().find(|(s, _)| *s == 201).unwrap().1;
    assert_eq!(run["cheques"], 20, "{run}");
    let id = run["id"].as_i64().unwrap();

    let confirmed = fire(bases, token, 9, |_| {
        (format!("/api/v1/payment-runs/{id}/confirm"), json!({}))
    })
    .await;
    let busy = busy_else(&confirmed, &[200, 409]);
    assert_eq!(count(&confirmed, 200), 1, "{confirmed:?}");
    assert_eq!(count(&confirmed, 409) + busy, 8);
    // Paid: the cheques of items in a confirmed run (`CHEQUE_STATE`), distinct, and every item.
    let paid: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(DISTINCT i.cheque_id) FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
         WHERE p.status = 'confirmed' AND i.cancelled = 0), (SELECT COUNT(*) FROM payment_run_items)",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert_eq!(paid, (20, 20), "each cheque paid once");
}

/// 30 booklets booked at once for a workshop of 6 places, through the three servers: 6 booked,
/// the others in line.
async fn bookings_within_places(
    s: &Store,
    bases: &[String],
    token: &str,
    order: &passnum_store::Order,
    venue: &passnum_store::Venue,
) {
    use passnum_core::workshop::{Level, Place, WorkshopFormat, WorkshopPlan};
    let now = common::now();
    let tomorrow = passnum_core::paris::local_date(now) + time::Duration::days(1);
    let plan = WorkshopPlan {
        format: WorkshopFormat::Collective,
        title: "Premiers pas".into(),
        services: vec!["2.1.07".into()],
        level: Level::Beginner,
        time: time::macros::time!(14:00),
        dates: vec![tomorrow],
        duration_min: 60,
        place: Place::AtVenue,
        capacity: 6,
        mediator: String::new(),
        accessibility: String::new(),
    };
    let ws = s
        .create_workshops(venue.id, &plan, now)
        .await
        .unwrap()
        .remove(0);
    let mut booking_codes = vec![];
    for n in 5..35 {
        booking_codes.push(s.booking_code(order.id, n).await.unwrap());
    }
    let answers = fire(bases, token, 30, |i| {
        (
            format!("/api/v1/workshops/{}/bookings", ws.id),
            json!({"booklet": format!("{}-{}", order.id.0, i + 5), "code": booking_codes[i]}),
        )
    })
    .await;
    let busy = busy_else(&answers, &[201]);
    let status = |want: &str| answers.iter().filter(|(_, b)| b["status"] == want).count();
    assert_eq!(status("booked"), 6, "{answers:?}");
    assert_eq!(status("waiting") + busy, 24);
    let (taken, rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT seats_taken FROM workshops WHERE id = $1), (SELECT COUNT(*) FROM bookings)",
    )
    .bind(ws.id)
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert_eq!((taken, rows), (6, 30 - busy as i64), "nothing half-written");
}
