//! Issuing an order and redeeming its cheques: through the store (group commit) and over HTTP.

use super::*;

pub(super) async fn bench_storage(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let fx = fixture(store, args.cheques, tag).await?;
    let (codes, venues) = (Arc::new(fx.codes), Arc::new(vec![fx.venue.id]));
    let start = Instant::now();
    let lat = redeem_all(
        store,
        codes,
        venues,
        args.concurrency,
        None,
        Arc::new(vec![]),
    )
    .await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| storage | {:?} | {} | {} | {:.0} redemptions/s | median {:.2} ms, p99 {:.2} ms |",
        store.engine(),
        lat.len(),
        args.concurrency,
        lat.len() as f64 / secs,
        median(lat.clone()).as_secs_f64() * 1e3,
        p99(lat).as_secs_f64() * 1e3
    );
    Ok(())
}

pub(super) async fn bench_http(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let fx = Arc::new(fixture(store, args.cheques, tag).await?);
    let token = store
        .create_token(Actor::Venue(fx.venue.id), "bench", now())
        .await?;
    let app = Application::build(
        AppState::new(store.clone(), Arc::new(SystemClock)),
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let url = format!("http://{}/api/v1/redemptions", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let start = Instant::now();
    let lat = http_round(&url, &token, fx, args.http_concurrency).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| http (idempotency keys) | {:?} | {} | {} | {:.0} redemptions/s | median {:.2} ms, p99 {:.2} ms |",
        store.engine(),
        lat.len(),
        args.http_concurrency,
        lat.len() as f64 / secs,
        median(lat.clone()).as_secs_f64() * 1e3,
        p99(lat).as_secs_f64() * 1e3
    );
    Ok(())
}

/// What metrics, request ids and their log lines cost: HTTP redemptions with them on and off,
/// in alternating rounds on one server (fresh cheques each round), medians compared.
pub(super) async fn bench_metrics(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let state = AppState::new(store.clone(), Arc::new(SystemClock));
    let metrics = state.metrics.clone();
    let app = Application::build(state, "127.0.0.1:0".parse()?).await?;
    let url = format!("http://{}/api/v1/redemptions", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let (mut on, mut off) = (vec![], vec![]);
    for round in 0..8u64 {
        let fx = Arc::new(fixture(store, args.cheques, tag + round).await?);
        let token = store
            .create_token(Actor::Venue(fx.venue.id), "bench", now())
            .await?;
        let enabled = round % 2 == 0;
        metrics.set_enabled(enabled);
        let start = Instant::now();
        let n = http_round(&url, &token, fx, args.http_concurrency)
            .await?
            .len();
        let rate = n as f64 / start.elapsed().as_secs_f64();
        if enabled {
            on.push(rate)
        } else {
            off.push(rate)
        }
    }
    metrics.set_enabled(true);
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    let (on, off) = (med(on), med(off));
    println!(
        "| http with metrics / without | {:?} | {} × 4 rounds each | {} | {:.0} / {:.0} redemptions/s | ratio {:.3} (cost {:.1} %) |",
        store.engine(),
        args.cheques,
        args.http_concurrency,
        on,
        off,
        on / off,
        (1.0 - on / off) * 100.0
    );
    Ok(())
}

/// Redeems every cheque of `fx` over HTTP with `concurrency` clients; each request's latency.
async fn http_round(
    url: &str,
    token: &str,
    fx: Arc<Fixture>,
    concurrency: usize,
) -> anyhow::Result<Vec<Duration>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (client, fx, next, url, token) = (
            client.clone(),
            fx.clone(),
            next.clone(),
            url.to_string(),
            token.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = fx.codes.get(i) else { break };
                let body = format!(r#"{{"code":"{}","service_code":"2.1.07"}}"#, code.grouped());
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("bench-{i}"))
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 201, "{:?}", r.text().await);
                let _ = r.bytes().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await?);
    }
    Ok(lat)
}

pub(super) async fn bench_issue(store: &Store, args: &BenchArgs, tag: u64) -> anyhow::Result<()> {
    let funder = store
        .create_funder(&format!("Banc d'émission {tag}"), "autre", now())
        .await?;
    let order = order_of(
        args.issue.div_euclid(10).max(1),
        passnum_core::paris::local_date(now()),
    )?;
    let start = Instant::now();
    store.create_order(funder.id, &order, now()).await?;
    println!(
        "| issue order | {:?} | {} cheques | 1 | {:.2} s | {:.0} cheques/s |",
        store.engine(),
        order.cheque_count(),
        start.elapsed().as_secs_f64(),
        order.cheque_count() as f64 / start.elapsed().as_secs_f64()
    );
    Ok(())
}
