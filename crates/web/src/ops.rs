//! What the operations team's tools call: liveness and readiness probes (on the public address
//! as well, for a load balancer), metrics on the admin address only, and the request id that
//! ties a request's log lines together.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tracing::Instrument;

use crate::AppState;

const HEALTH_JSON: &str = "application/health+json";

/// The process is up and serving: nothing else is checked (a restart would not help).
pub async fn livez() -> Response {
    health(StatusCode::OK, json!({ "status": "pass" }))
}

/// Ready to take traffic: the database answers, its schema is the one this build expects, and
/// the keys are loaded. 503 with the failing checks otherwise. Each check says pass or fail
/// and nothing that helps an attacker (no address, no error text).
pub async fn readyz(State(st): State<AppState>) -> Response {
    let database = st.store.ping(Duration::from_secs(2)).await.is_ok();
    let schema = st.store.schema_state().await.ok();
    let migrations_ok = schema.is_some_and(|s| s.at_head());
    let signing = st.signer.is_some();
    let check = |ok: bool| if ok { "pass" } else { "fail" };
    let ready = database && migrations_ok && signing;
    let body = json!({
        "status": check(ready),
        "checks": {
            "database:connectivity": [{ "status": check(database) }],
            "database:migrations": [{
                "status": check(migrations_ok),
                "observedValue": schema.map(|s| s.applied),
                "observedUnit": "version",
                "output": schema.filter(|s| !s.at_head()).map(|s| format!("attendu : {}", s.head)),
            }],
            "keys:signing": [{ "status": check(signing) }],
            // Always loaded before the server starts (from its file, or made on first use).
            "keys:household": [{ "status": "pass" }],
        }
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    health(status, strip_nulls(body))
}

fn strip_nulls(mut v: Value) -> Value {
    if let Some(checks) = v.get_mut("checks").and_then(Value::as_object_mut) {
        for list in checks.values_mut() {
            for c in list.as_array_mut().into_iter().flatten() {
                if let Some(o) = c.as_object_mut() {
                    o.retain(|_, v| !v.is_null());
                }
            }
        }
    }
    v
}

fn health(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HEALTH_JSON));
    r
}

async fn metrics(State(st): State<AppState>) -> Response {
    let mut r = st.metrics.encode(&st.store).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// The admin address: metrics and the probes, for the operator's network only.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// Gives each request an id (sent back as `X-Request-Id`, carried by every log line of the
/// request), counts it by route template and status, and logs a line at `debug` (a server
/// error at `warn`). Neither the query string nor any header is logged: they may hold a
/// search for a person, a cheque code or a token.
pub async fn observe_request(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(aucune route)", MatchedPath::as_str)
        .to_string();
    // A write by a signed-in person or a token goes to the audit trail once answered.
    let audit = crate::audit::Pending::start(&st, &mut req, &route);
    let metrics = &st.metrics;
    if !metrics.enabled() {
        let res = next.run(req).await;
        if let Some(a) = audit {
            a.finish(&st, crate::audit::Answered::of(&res)).await;
        }
        return res;
    }
    let started = Instant::now();
    let id = request_id();
    let method = req.method().clone();
    // A label per method a client may invent would grow without bound: the standard ones only.
    let method_label = match method.as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "OTHER",
    };
    let span = tracing::info_span!("requête", id = %id);
    let mut res = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = res.status().as_u16();
    metrics.request(method_label, &route, status, took);
    span.in_scope(|| {
        let ms = took.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(method = %method, route = %route, status, ms, "requête en erreur");
        } else {
            tracing::debug!(method = %method, route = %route, status, ms, "requête");
        }
    });
    if let Some(a) = audit {
        a.finish(&st, crate::audit::Answered::of(&res))
            .instrument(span)
            .await;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// 16 hex digits, random: unique enough to find a request in a day of logs, and never taken
/// from the client (it would let anyone forge log lines that look like another request's).
fn request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}
