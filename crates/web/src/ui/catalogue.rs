//! A venue's catalogue page: the services of the référentiel it gives, each individually,
//! collectively or both, and the history of its changes.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::catalogue::{Catalogue, ServiceFormat};
use passnum_core::{VenueId, paris};
use passnum_store::StaffMember;
use serde::Deserialize;

use super::session::{Csrf, VenueStaff};
use super::{FieldErrors, Layout, PageError, Submitted, render};
use crate::AppState;

pub struct ServiceRow {
    pub code: String,
    pub name: String,
    /// "" (not given), "individual", "collective" or "both".
    pub chosen: &'static str,
}

pub struct CategoryGroup {
    pub heading: String,
    pub services: Vec<ServiceRow>,
}

/// A value of the standard offered as a checkbox.
pub struct Tick {
    pub field: String,
    pub label: &'static str,
    pub checked: bool,
}

fn ticks(prefix: &str, values: &[&'static str], chosen: &[&str]) -> Vec<Tick> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Tick {
            field: format!("{prefix}{i}"),
            label: v,
            checked: chosen.contains(v),
        })
        .collect()
}

/// The standard's values ticked in a form (`pub_0`, `sup_3`…).
fn ticked<'a>(form: &HashMap<String, String>, prefix: &str, values: &[&'a str]) -> Vec<&'a str> {
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| form.contains_key(&format!("{prefix}{i}")))
        .map(|(_, v)| *v)
        .collect()
}

pub struct ChangeRow {
    pub at: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "lieu_catalogue.html")]
pub struct CataloguePage {
    layout: Layout,
    groups: Vec<CategoryGroup>,
    publics: Vec<Tick>,
    support: Vec<Tick>,
    contact: String,
    opening_hours: String,
    accessibility: String,
    offered: usize,
    changes: Vec<ChangeRow>,
    saved: bool,
    errors: FieldErrors,
}

/// The form's field for a service: `s_2.1.07`.
fn field(code: &str) -> String {
    format!("s_{code}")
}

/// The référentiel grouped by level and category, each service with the format chosen (the
/// catalogue page and the application form).
pub(super) async fn service_groups(
    st: &AppState,
    chosen: &HashMap<String, ServiceFormat>,
) -> Result<Vec<CategoryGroup>, PageError> {
    let services = st
        .store
        .list_services()
        .await
        .map_err(|e| PageError::unavailable(e, "référentiel"))?;
    let mut groups: Vec<CategoryGroup> = vec![];
    // A deactivated service is offered no more.
    for s in services.into_iter().filter(|s| s.active) {
        let heading = format!("{} — {}", s.level_name, s.category_name);
        if groups.last().is_none_or(|g| g.heading != heading) {
            groups.push(CategoryGroup {
                heading,
                services: vec![],
            });
        }
        let code = s.code.to_string();
        let row = ServiceRow {
            chosen: chosen.get(&code).map_or("", |f| f.as_str()),
            code,
            name: s.name,
        };
        if let Some(g) = groups.last_mut() {
            g.services.push(row);
        }
    }
    Ok(groups)
}

/// The catalogue chosen in a form (`s_<code>` = format), kept as typed, with the pairs to
/// parse.
pub(super) fn chosen_in(form: &HashMap<String, String>) -> Vec<(&str, &str)> {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("s_")?, v.as_str())))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

async fn page(
    st: &AppState,
    staff: &StaffMember,
    venue: VenueId,
    csrf: &Csrf,
    chosen: &HashMap<String, ServiceFormat>,
) -> Result<CataloguePage, PageError> {
    let unavailable = |e| PageError::unavailable(e, "catalogue");
    let groups = service_groups(st, chosen).await?;
    let changes = st
        .store
        .venue_catalogue_changes(venue, 10)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|c| ChangeRow {
            at: paris::format_moment(c.at),
            summary: c.summary,
        })
        .collect();
    let v = st.store.get_venue(venue).await.map_err(unavailable)?;
    let publics: Vec<&str> = v.publics.split('|').collect();
    let support: Vec<&str> = v.specific_support.split('|').collect();
    Ok(CataloguePage {
        layout: Layout::new("Catalogue", Some(staff), csrf, "/lieu/catalogue"),
        groups,
        contact: v.contact.clone(),
        opening_hours: v.opening_hours.clone(),
        accessibility: v.accessibility.clone(),
        publics: ticks("pub_", &passnum_core::standard::PUBLICS, &publics),
        support: ticks("sup_", &passnum_core::standard::SPECIFIC_SUPPORT, &support),
        offered: chosen.len(),
        changes,
        saved: false,
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    enregistre: Option<String>,
}

pub async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Query(q): Query<Saved>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let current: HashMap<String, ServiceFormat> = st
        .store
        .venue_catalogue(venue)
        .await
        .map_err(|e| PageError::unavailable(e, "catalogue"))?
        .into_iter()
        .collect();
    let mut p = page(&st, &staff, venue, &csrf, &current).await?;
    p.saved = q.enregistre.is_some();
    Ok(render(StatusCode::OK, &p, &csrf))
}

pub async fn save(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form, token_ok }: Submitted<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    // What was chosen, kept as typed whatever happens next.
    let entries = chosen_in(&form);
    let kept: HashMap<String, ServiceFormat> = entries
        .iter()
        .filter_map(|(c, f)| Some((c.to_string(), ServiceFormat::parse(f)?)))
        .collect();
    let mut p = page(&st, &staff, venue, &csrf, &kept).await?;
    // What was ticked and typed, kept as sent whatever happens next.
    // A field the form did not send keeps the venue's current text.
    for (key, value) in [
        ("contact", &mut p.contact),
        ("opening_hours", &mut p.opening_hours),
        ("accessibility", &mut p.accessibility),
    ] {
        if let Some(sent) = form.get(key) {
            *value = sent.chars().take(600).collect();
        }
    }
    for t in p.publics.iter_mut().chain(p.support.iter_mut()) {
        t.checked = form.contains_key(&t.field);
    }
    let first = p
        .groups
        .first()
        .and_then(|g| g.services.first())
        .map(|s| field(&s.code))
        .unwrap_or_default();
    if !token_ok {
        p.errors.add(&first, super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    let catalogue =
        match Catalogue::parse(entries.iter().copied(), |c| st.store.service_is_known(c)) {
            Ok(c) => c,
            Err(e) => {
                p.errors.add(&first, e.to_string());
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
            }
        };
    // Checked before anything is written, so that a refused text saves nothing else.
    for (field, text, max) in [
        ("opening_hours", &p.opening_hours, 500),
        ("accessibility", &p.accessibility, 500),
        ("contact", &p.contact, passnum_core::text::MAX_ADDRESS_CHARS),
    ] {
        if text.trim().chars().count() > max {
            p.errors.add(
                field,
                format!("Ce texte dépasse {max} caractères : raccourcissez-le."),
            );
        }
    }
    if !p.errors.is_empty() {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
    }
    let publics = ticked(&form, "pub_", &passnum_core::standard::PUBLICS);
    let support = ticked(&form, "sup_", &passnum_core::standard::SPECIFIC_SUPPORT);
    let saved = st
        .store
        .set_venue_catalogue(venue, &catalogue, Some(staff.id), st.clock.now())
        .await;
    let now = st.clock.now();
    let saved = match saved {
        Ok(_) => {
            st.store
                .set_venue_publics(venue, &publics, &support, now)
                .await
        }
        Err(e) => Err(e),
    };
    let saved = match saved {
        Ok(_) => {
            st.store
                .set_venue_practical_info(venue, &p.opening_hours, &p.accessibility, now)
                .await
        }
        Err(e) => Err(e),
    };
    let saved = match saved {
        Ok(_) => st.store.set_venue_contact(venue, &p.contact, now).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/lieu/catalogue?enregistre=1").into_response()),
        Err(passnum_store::StoreError::Conflict { message, .. }) => {
            p.errors.add(&first, message);
            Ok(render(StatusCode::CONFLICT, &p, &csrf))
        }
        Err(passnum_store::StoreError::Invalid { message, .. }) => {
            p.errors.add("opening_hours", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "catalogue")),
    }
}
