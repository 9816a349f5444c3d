//! The operator's anomalies: a page and a CSV, each line saying why it is flagged. The window
//! (`?jours=`: 30, 90 by default, 180 or 366) bounds the redemptions read.
//!
//! They read raw redemptions (about 2 s at a million on SQLite, BENCHMARKS.md), so each window
//! is computed by one request at a time and kept five minutes: a reload, the CSV after the
//! page, or two operators cost one computation.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_core::paris;
use passnum_store::{Anomaly, AnomalyKind};
use serde::Deserialize;
use std::sync::Arc;

use crate::AppState;
use crate::ui::session::{Csrf, OperatorStaff};
use crate::ui::{Layout, PageError, render};

const DAY_MS: i64 = 86_400_000;
/// The windows offered, in days.
const WINDOWS: [i64; 4] = [30, 90, 180, 366];
/// How long a computed list is served.
const FRESH_MS: i64 = 5 * 60_000;

/// A window's list and when it was computed.
type Computed = (passnum_core::Timestamp, Arc<Vec<Anomaly>>);

/// The last list computed for each window (four at most).
#[derive(Default)]
pub struct AnomaliesCache(tokio::sync::Mutex<std::collections::HashMap<i64, Computed>>);

#[derive(Deserialize, Default)]
pub struct AnomaliesQuery {
    #[serde(default)]
    jours: Option<String>,
}

fn days(q: &AnomaliesQuery) -> Result<i64, PageError> {
    match q.jours.as_deref().map(str::trim) {
        None | Some("") => Ok(90),
        Some(d) => d.parse::<i64>().ok().filter(|d| WINDOWS.contains(d)).ok_or(
            PageError::NotFound {
                heading: "Cette période n'est pas proposée",
                text: "Choisissez une période de 30, 90, 180 ou 366 jours sur la page Anomalies.",
            },
        ),
    }
}

fn kind_title(k: AnomalyKind) -> &'static str {
    match k {
        AnomalyKind::NotHandedOut => "Chèques utilisés d'un carnet jamais remis",
        AnomalyKind::SameDay => "Plusieurs chèques d'un carnet le même jour dans le même lieu",
        AnomalyKind::OutsideWorkshop => "Scans loin de l'heure de leur atelier",
        AnomalyKind::AtNight => "Scans la nuit",
        AnomalyKind::Rollbacks => "Lieux qui annulent souvent",
    }
}

pub struct Line {
    pub venue: String,
    pub booklet: String,
    pub at: String,
    pub why: String,
}

pub struct Group {
    pub code: &'static str,
    pub title: &'static str,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "operateur_anomalies.html")]
struct AnomaliesPage {
    layout: Layout,
    days: i64,
    choices: Vec<(i64, bool)>,
    groups: Vec<Group>,
    total: usize,
}

fn line(a: &Anomaly) -> Line {
    Line {
        venue: a
            .venue
            .as_ref()
            .map_or_else(String::new, |(_, n)| n.clone()),
        booklet: a
            .booklet
            .map_or_else(String::new, |(o, n)| format!("commande {o}, carnet {n}")),
        at: a.at.map_or_else(String::new, paris::format_moment),
        why: a.why.clone(),
    }
}

async fn read(st: &AppState, days: i64) -> Result<Arc<Vec<Anomaly>>, PageError> {
    let now = st.clock.now();
    let mut cache = st.anomalies.0.lock().await;
    if let Some((at, list)) = cache.get(&days)
        && now.unix_ms() - at.unix_ms() < FRESH_MS
    {
        return Ok(list.clone());
    }
    let list = Arc::new(
        st.store
            .anomalies(now.plus_ms(-days * DAY_MS))
            .await
            .map_err(|e| PageError::unavailable(e, "anomalies"))?,
    );
    cache.insert(days, (now, list.clone()));
    Ok(list)
}

pub async fn page(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<AnomaliesQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let days = days(&q)?;
    let list = read(&st, days).await?;
    let groups = AnomalyKind::ALL
        .into_iter()
        .map(|k| Group {
            code: k.code(),
            title: kind_title(k),
            lines: list.iter().filter(|a| a.kind == k).map(line).collect(),
        })
        .collect();
    let p = AnomaliesPage {
        layout: Layout::new("Anomalies", Some(&staff), &csrf, "/operateur/anomalies"),
        days,
        choices: WINDOWS.into_iter().map(|d| (d, d == days)).collect(),
        groups,
        total: list.len(),
    };
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub async fn csv(
    State(st): State<AppState>,
    OperatorStaff(_): OperatorStaff,
    Query(q): Query<AnomaliesQuery>,
) -> Result<Response, PageError> {
    let days = days(&q)?;
    let list = read(&st, days).await?;
    let cell = passnum_app::activity::csv_cell;
    let mut out = String::from("\u{feff}type;lieu_id;lieu;commande;carnet;date;nombre;motif\n");
    for a in list.iter() {
        out.push_str(&format!(
            "{};{};{};{};{};{};{};{}\n",
            a.kind.code(),
            a.venue
                .as_ref()
                .map_or_else(String::new, |(id, _)| id.to_string()),
            cell(
                &a.venue
                    .as_ref()
                    .map_or_else(String::new, |(_, n)| n.clone())
            ),
            a.booklet.map_or_else(String::new, |(o, _)| o.to_string()),
            a.booklet.map_or_else(String::new, |(_, n)| n.to_string()),
            a.at.map_or_else(String::new, paris::format_moment),
            a.count,
            cell(&a.why)
        ));
    }
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"anomalies.csv\""),
    );
    Ok(resp)
}
