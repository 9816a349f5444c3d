//! The operator's anomalies: a page and a CSV, each line saying why it is flagged. The window
//! (`?jours=`, 90 by default, 7 to 366) bounds the redemptions read.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_core::paris;
use passnum_store::{Anomaly, AnomalyKind};
use serde::Deserialize;

use crate::AppState;
use crate::ui::session::{Csrf, OperatorStaff};
use crate::ui::{Layout, PageError, render};

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize, Default)]
pub struct AnomaliesQuery {
    #[serde(default)]
    jours: Option<String>,
}

fn days(q: &AnomaliesQuery) -> Result<i64, PageError> {
    match q.jours.as_deref().map(str::trim) {
        None | Some("") => Ok(90),
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (7..=366).contains(d))
            .ok_or(PageError::NotFound {
                heading: "Cette période n'est pas proposée",
                text: "Choisissez une période de 7 à 366 jours sur la page Anomalies.",
            }),
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

async fn read(st: &AppState, days: i64) -> Result<Vec<Anomaly>, PageError> {
    let since = st.clock.now().plus_ms(-days * DAY_MS);
    st.store
        .anomalies(since)
        .await
        .map_err(|e| PageError::unavailable(e, "anomalies"))
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
    let kinds = [
        AnomalyKind::NotHandedOut,
        AnomalyKind::SameDay,
        AnomalyKind::OutsideWorkshop,
        AnomalyKind::AtNight,
        AnomalyKind::Rollbacks,
    ];
    let groups = kinds
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
        choices: [30, 90, 180, 366]
            .into_iter()
            .map(|d| (d, d == days))
            .collect(),
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
    for a in &list {
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
