//! `GET /open-data/lieux-de-mediation-numerique.csv`: the qualified venues in the national
//! venue standard, for the State's cartography and anyone else, without an account.
//!
//! Built at most once every few minutes and by one request at a time: the file is public and
//! the same for everyone, so a crowd of readers costs one export, not one each.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_core::Timestamp;
use tokio::sync::Mutex;

use crate::AppState;
use crate::error::ApiError;

/// How long a built file is served before the next request builds it again.
const FRESH_MS: i64 = 5 * 60_000;

#[derive(Default)]
pub struct OpenDataCache(Mutex<Option<(Timestamp, Bytes)>>);

pub async fn venues_csv(State(st): State<AppState>) -> Response {
    let now = st.clock.now();
    let mut cached = st.open_data.0.lock().await;
    let body = match &*cached {
        Some((at, bytes)) if now.unix_ms() - at.unix_ms() < FRESH_MS => bytes.clone(),
        _ => {
            let mut out = Vec::new();
            match passnum_app::open_data::export_venues(&st.store, &mut out, "passnum").await {
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "export des lieux");
                    return ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "Le fichier des lieux n'a pas pu être construit : réessayez dans un instant.",
                    )
                    .into_response();
                }
            }
            let bytes = Bytes::from(out);
            *cached = Some((now, bytes.clone()));
            bytes
        }
    };
    drop(cached);
    let name = passnum_app::open_data::file_name(passnum_core::paris::local_date(now), None, None);
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Public data, the same for everyone: caches may keep it as long as passnum does.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}
