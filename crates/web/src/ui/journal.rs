//! The audit trail as pages: the operator reads every line, a funder the lines of its own
//! staff and tokens. Newest first, 50 a page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_core::paris;
use serde::Deserialize;

use super::session::{Csrf, FunderStaff, OperatorStaff};
use super::{Layout, PageError, render};
use crate::AppState;

const PER_PAGE: i64 = 50;

pub(super) struct Line {
    when: String,
    who: String,
    action: String,
    target: String,
    status: i64,
    client: String,
}

#[derive(Template)]
#[template(path = "journal.html")]
pub(super) struct JournalPage {
    layout: Layout,
    lines: Vec<Line>,
    /// The operator sees everyone's lines and the addresses; a funder its own.
    everyone: bool,
    page: i64,
    more: bool,
    base: &'static str,
}

#[derive(Deserialize, Default)]
pub struct JournalQuery {
    page: Option<i64>,
}

async fn lines(
    st: &AppState,
    of: Option<(&str, i64)>,
    page: i64,
) -> Result<(Vec<Line>, bool), PageError> {
    let unavailable = |e| PageError::unavailable(e, "journal");
    let mut found = st
        .store
        .audit_entries(of, PER_PAGE + 1, (page - 1) * PER_PAGE)
        .await
        .map_err(unavailable)?;
    let more = found.len() as i64 > PER_PAGE;
    found.truncate(PER_PAGE as usize);
    // A page names at most 50 people: one read each.
    let mut names = std::collections::HashMap::new();
    for e in &found {
        if let Some(id) = e
            .actor
            .strip_prefix("staff:")
            .and_then(|i| i.parse::<i64>().ok())
            && !names.contains_key(&e.actor)
        {
            let name = st.store.get_staff(id).await.map_or_else(
                |_| format!("compte n° {id}"),
                |m| format!("{} ({})", m.display_name, m.email),
            );
            names.insert(e.actor.clone(), name);
        }
    }
    Ok((
        found
            .into_iter()
            .map(|e| Line {
                when: paris::format_moment(e.at),
                who: names.get(&e.actor).cloned().unwrap_or_else(|| {
                    format!("jeton d'API {}", e.actor.trim_start_matches("token:"))
                }),
                action: e.action,
                target: e.target,
                status: e.status,
                client: e.client,
            })
            .collect(),
        more,
    ))
}

pub async fn operator_journal(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<JournalQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (lines, more) = lines(&st, None, page).await?;
    let layout = Layout::new(
        "Journal des actions",
        Some(&staff),
        &csrf,
        "/operateur/journal",
    );
    let view = JournalPage {
        layout,
        lines,
        everyone: true,
        page,
        more,
        base: "/operateur/journal?",
    };
    Ok(render(StatusCode::OK, &view, &csrf))
}

pub async fn funder_journal(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderStaff(staff, funder): FunderStaff,
    Query(q): Query<JournalQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (lines, more) = lines(&st, Some(("funder", funder.0)), page).await?;
    let layout = Layout::new(
        "Journal des actions",
        Some(&staff),
        &csrf,
        "/commanditaire/journal",
    );
    let view = JournalPage {
        layout,
        lines,
        everyone: false,
        page,
        more,
        base: "/commanditaire/journal?",
    };
    Ok(render(StatusCode::OK, &view, &csrf))
}
