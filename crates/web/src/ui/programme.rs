//! `/programme`: the programme's published figures for everyone, without an account — the
//! same cells as the open-data export, with the same statistical secrecy: month by month for
//! the whole programme, and per département over the last twelve months.
//!
//! Built at most once every few minutes and by one request at a time, like the open-data
//! file: a crowd of readers costs one computation.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_app::open_figures::{self, OpenFigures, PublishedCells};
use passnum_core::Timestamp;
use tokio::sync::Mutex;

use super::charts::{Bar, columns};
use super::session::Csrf;
use super::{Layout, PageError, render};
use crate::AppState;

const FRESH_MS: i64 = 5 * 60_000;

/// The two protected sets of figures: twelve months, and the twelve months as one period.
pub struct Published {
    months: OpenFigures,
    period: OpenFigures,
    labels: Vec<String>,
}

#[derive(Default)]
pub struct ProgrammeCache(Mutex<Option<(Timestamp, Arc<Published>)>>);

async fn published(st: &AppState) -> Result<Arc<Published>, PageError> {
    let now = st.clock.now();
    let mut cached = st.programme.0.lock().await;
    if let Some((at, p)) = &*cached
        && now.unix_ms() - at.unix_ms() < FRESH_MS
    {
        return Ok(p.clone());
    }
    let months = super::figures::last_months(now);
    let spans: Vec<_> = months.iter().map(|(_, s)| *s).collect();
    let counts = st
        .store
        .open_data_counts(&spans, now)
        .await
        .map_err(|e| PageError::unavailable(e, "programme"))?;
    let slugs: Vec<String> = months.iter().map(|(m, _)| m.slug()).collect();
    // Protecting the cells is CPU work (seconds at national scale): off the async workers.
    let built = tokio::task::spawn_blocking(move || {
        let period = open_figures::build(
            &open_figures::as_one_period(&counts),
            vec!["période".into()],
        )?;
        Ok::<_, open_figures::OpenDataError>((open_figures::build(&counts, slugs)?, period))
    })
    .await
    .map_err(|e| PageError::unavailable(e, "programme"))?;
    let (by_month, period) =
        built.map_err(|e| PageError::unavailable(e, "programme (secret statistique)"))?;
    let p = Arc::new(Published {
        months: by_month,
        period,
        labels: months.iter().map(|(m, _)| m.label()).collect(),
    });
    *cached = Some((now, p.clone()));
    Ok(p)
}

pub struct Line {
    pub label: String,
    pub cells: [String; 5],
}

#[derive(Template)]
#[template(path = "programme.html")]
struct ProgrammePage {
    layout: Layout,
    chart: String,
    months: Vec<Line>,
    departements: Vec<Line>,
}

/// A published cell as a reader reads it: "secret", a count with narrow spaces, euros.
fn shown(cells: &PublishedCells) -> [String; 5] {
    let count =
        |n: Option<i64>| n.map_or_else(|| "secret".into(), super::figures::table::thousands);
    let euros = |c: Option<i64>| {
        c.map_or_else(
            || "secret".into(),
            |c| passnum_core::Money::from_cents(c).to_string(),
        )
    };
    [
        count(cells.handed_out),
        count(cells.cheques),
        euros(cells.used_cents),
        euros(cells.paid_cents),
        super::figures::table::thousands(cells.workshops),
    ]
}

pub async fn page(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let p = published(&st).await?;
    let rows = p.months.programme_rows();
    let bars: Vec<Bar> = rows
        .iter()
        .zip(&p.labels)
        .map(|((slug, cells), _)| {
            let n = cells.cheques;
            Bar {
                label: slug[5..].to_string(),
                value: n.unwrap_or(0),
                shown: n.map_or_else(|| "secret".into(), super::figures::table::thousands),
                note: if slug.ends_with("-01") {
                    slug[..4].to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let page = ProgrammePage {
        layout: Layout::new("Le Pass Numérique en chiffres", None, &csrf, "/programme"),
        chart: columns(
            "programme-mois",
            "Chèques utilisés par mois",
            "Chèques utilisés chacun des douze derniers mois dans tout le programme ; le tableau qui suit donne les chiffres.",
            &bars,
        ),
        months: rows
            .iter()
            .zip(&p.labels)
            .rev()
            .map(|((_, cells), label)| Line {
                label: label.clone(),
                cells: shown(cells),
            })
            .collect(),
        departements: p
            .period
            .departement_rows(0)
            .into_iter()
            .map(|(code, name, cells)| Line {
                label: format!("{name} ({code})"),
                cells: shown(&cells),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page, &csrf))
}
