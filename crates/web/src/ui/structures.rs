//! The operator's page of distributing structures: the list (with the numbers that agents'
//! accounts refer to) and a form to register one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_store::{DISTRIBUTOR_KINDS, StaffMember, StoreError};
use serde::Deserialize;

use super::Submitted;
use super::session::{Csrf, OperatorStaff};
use super::{FieldErrors, Layout, render};
use crate::AppState;
use passnum_core::text::{MAX_NAME_CHARS, MAX_TYPED_ID_CHARS, kept};

const PER_PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "operateur_structures.html")]
struct StructuresPage {
    layout: Layout,
    /// (number, name, kind, commune, the venue it also is).
    rows: Vec<(i64, String, String, String, String)>,
    offset: i64,
    next: Option<i64>,
    previous: Option<i64>,
    name: String,
    kind: String,
    kinds: Vec<&'static str>,
    commune: String,
    venue: String,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    depuis: i64,
}

async fn build(st: &AppState, staff: &StaffMember, csrf: &Csrf, offset: i64) -> StructuresPage {
    let offset = offset.max(0);
    let list = st
        .store
        .list_distributors(PER_PAGE + 1, offset)
        .await
        .unwrap_or_default();
    let more = list.len() as i64 > PER_PAGE;
    StructuresPage {
        layout: Layout::new(
            "Structures de distribution",
            Some(staff),
            csrf,
            "/operateur/structures",
        ),
        rows: list
            .into_iter()
            .take(PER_PAGE as usize)
            .map(|d| {
                let commune = passnum_core::commune::communes()
                    .name_of(&d.commune_insee)
                    .map_or(d.commune_insee.clone(), str::to_string);
                let venue = d.venue_id.map_or(String::new(), |v| format!("lieu n° {v}"));
                (d.id.0, d.name, d.kind, commune, venue)
            })
            .collect(),
        offset,
        next: more.then_some(offset + PER_PAGE),
        previous: (offset > 0).then(|| (offset - PER_PAGE).max(0)),
        name: String::new(),
        kind: "ccas".into(),
        kinds: DISTRIBUTOR_KINDS.to_vec(),
        commune: String::new(),
        venue: String::new(),
        errors: FieldErrors::default(),
    }
}

pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<PageQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &build(&st, &staff, &csrf, q.depuis).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct StructureForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commune: String,
    /// The venue the same organisation runs, by number; empty for none.
    #[serde(default)]
    lieu: String,
}

pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<StructureForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = build(&st, &staff, &csrf, 0).await;
    page.name = kept(&f.name, MAX_NAME_CHARS);
    page.kind = kept(&f.kind, MAX_TYPED_ID_CHARS);
    page.commune = kept(&f.commune, MAX_TYPED_ID_CHARS);
    page.venue = kept(&f.lieu, MAX_TYPED_ID_CHARS);
    if !token_ok {
        page.errors.add("name", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let Some(commune) = passnum_app::workshops::find_commune(&f.commune) else {
        page.errors.add("commune", super::COMMUNE_UNKNOWN);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    let venue = match f.lieu.trim() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) if n > 0 => Some(passnum_core::VenueId(n)),
            _ => {
                page.errors.add(
                    "lieu",
                    "Indiquez le numéro du lieu (colonne « n° » de la liste des lieux), ou laissez vide.",
                );
                return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
            }
        },
    };
    match st
        .store
        .create_structure(&f.name, &f.kind, &commune, venue, st.clock.now())
        .await
    {
        Ok(_) => Redirect::to("/operateur/structures").into_response(),
        Err(StoreError::Invalid { code, message } | StoreError::Conflict { code, message }) => {
            let field = if code.contains("kind") {
                "kind"
            } else if code.contains("venue") {
                "lieu"
            } else {
                "name"
            };
            page.errors.add(field, message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}
