//! PostgreSQL at `SERIALIZABLE` (set on the database, as an operator or a distributed
//! PostgreSQL-compatible engine would): servers that start together all start (migrations take
//! turns through a lock row with a lease; the référentiel's load is retried), and redemptions
//! racing from two servers all get an answer, each cheque accepted once, none failing.

mod common;

use std::time::{Duration, Instant};

use common::*;
use passnum_store::testing::TestDb;
use passnum_store::{Outcome, Store, StoreOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_together_all_start() {
    for _round in 0..8 {
        let db = TestDb::serializable_postgres().await;
        let mut starting = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let url = db.url.clone();
            starting.spawn(async move { Store::connect(&url, StoreOptions::default()).await });
        }
        let mut stores = vec![];
        while let Some(started) = starting.join_next().await {
            stores.push(
                started
                    .unwrap()
                    .unwrap_or_else(|e| panic!("a server did not start: {e}")),
            );
        }
        let services: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM services")
            .fetch_one(stores[0].pool())
            .await
            .unwrap();
        assert_eq!(services as usize, stores[0].referentiel_codes().len());
        let lock: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_lock")
            .fetch_one(stores[0].pool())
            .await
            .unwrap();
        assert_eq!(lock, 0, "the lease is given back");
        for s in stores {
            s.close().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lease_left_by_a_dead_server_is_taken_over_when_it_ends() {
    let db = TestDb::serializable_postgres().await;
    Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap()
        .close()
        .await;
    let s = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let now_ms = || (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    // A server died holding the lock; its lease ends in 1.5 s.
    let ends = now_ms() + 1_500;
    sqlx::query("INSERT INTO schema_lock (id, holder, expires_at) VALUES (1, 'mort', $1)")
        .bind(ends)
        .execute(s.pool())
        .await
        .unwrap();
    let started = Instant::now();
    Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap()
        .close()
        .await;
    assert!(
        now_ms() >= ends,
        "the new server waited for the lease to end"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "and then took it"
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_lock")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(
        left, 0,
        "the dead server's row is gone with the new server's lease"
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_redemptions_from_two_servers_all_get_an_answer() {
    let db = TestDb::serializable_postgres().await;
    let a = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let b = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let w = world(&a, 4).await;
    let mut racing = tokio::task::JoinSet::new();
    // 40 cheques, each scanned once by each server, at once.
    for (i, code) in w.codes.iter().take(40).enumerate() {
        for s in [&a, &b] {
            let (s, req) = (
                s.clone(),
                redeem_req(
                    if i % 2 == 0 { &w.lyon } else { &w.villeurbanne },
                    *code,
                    t0(),
                ),
            );
            racing.spawn(async move { s.redeem(req).await });
        }
    }
    let (mut accepted, mut refused) = (0, 0);
    while let Some(answer) = racing.join_next().await {
        match answer
            .unwrap()
            .unwrap_or_else(|e| panic!("a redemption failed: {e}"))
            .outcome
        {
            Outcome::Accepted(_) => accepted += 1,
            Outcome::Refused(r) => {
                assert!(
                    r.code.starts_with("cheque_already") || r.code.contains("redeemed"),
                    "{}",
                    r.code
                );
                refused += 1
            }
        }
    }
    assert_eq!((accepted, refused), (40, 40));
    assert!(a.verify_ledger().await.unwrap().is_empty());
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_bookings_from_two_servers_fill_the_places_and_the_line() {
    use passnum_core::workshop::WorkshopFormat;
    use passnum_store::{BookedBy, BookletKey};
    use time::macros::{date, time};
    let db = TestDb::serializable_postgres().await;
    let a = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let b = Store::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    let w = world(&a, 20).await;
    let before = t0().plus_ms(-86_400_000);
    let plan = one_workshop(
        WorkshopFormat::Collective,
        "Premiers pas",
        date!(2026 - 06 - 15),
        time!(14:00),
        5,
    );
    let ws = a
        .create_workshops(w.lyon.id, &plan, before)
        .await
        .unwrap()
        .remove(0);
    let mut racing = tokio::task::JoinSet::new();
    for n in 1..=20 {
        let s = if n % 2 == 0 { a.clone() } else { b.clone() };
        let key = BookletKey {
            order_id: w.order.id,
            number: n,
            code: Some(a.booking_code(w.order.id, n).await.unwrap()),
        };
        racing.spawn(async move { s.book(ws.id, &key, BookedBy::Person, None, before).await });
    }
    let (mut statuses, mut busy) = (vec![], 0);
    while let Some(r) = racing.join_next().await {
        match r.unwrap() {
            Ok(booking) => statuses.push(booking.status),
            // The retry budget spent (twenty people on one workshop in the same instant): a
            // stable answer, nothing written.
            Err(passnum_store::StoreError::Contention) => busy += 1,
            Err(e) => panic!("a booking failed: {e}"),
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| *s == "booked").count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| *s == "waiting").count() + busy,
        15
    );
    let (taken, rows): (i64, i64) = (
        sqlx::query_scalar("SELECT seats_taken FROM workshops WHERE id = $1")
            .bind(ws.id)
            .fetch_one(a.pool())
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT COUNT(*) FROM bookings")
            .fetch_one(a.pool())
            .await
            .unwrap(),
    );
    assert_eq!((taken, rows), (5, 20 - busy as i64), "nothing half-written");
    a.close().await;
    b.close().await;
}
