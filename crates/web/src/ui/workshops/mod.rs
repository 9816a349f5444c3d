//! A venue's workshops: the list of what comes, the form that publishes one or a series, and a
//! workshop's own page (its bookings, booking on the phone, cancelling).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::catalogue::ServiceFormat;
use passnum_core::workshop::{Level, WorkshopForm};
use passnum_core::{Timestamp, VenueId, paris};
use passnum_store::{StaffMember, Workshop};
use serde::Deserialize;

use super::session::{Csrf, VenueStaff};
use super::{FieldErrors, Layout, PageError, Submitted, render};
use crate::AppState;

mod file;
mod record;
pub use file::*;
pub use record::*;

/// Workshops shown per page of the list.
const PAGE: i64 = 50;

pub struct WorkshopLine {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub format: &'static str,
    pub level: &'static str,
    pub place: String,
    pub seats: String,
    pub cancelled: Option<String>,
}

/// Where a workshop takes place, in words.
pub fn place_words(w: &Workshop) -> String {
    match w.place_kind.as_str() {
        "elsewhere" => format!(
            "{}, {}",
            w.place_detail,
            w.place_commune
                .as_deref()
                .map(crate::ui::directory::commune_name)
                .unwrap_or_default()
        ),
        "remote" => format!("À distance : {}", w.place_detail),
        _ => "Dans votre lieu".into(),
    }
}

pub fn line(w: Workshop) -> WorkshopLine {
    WorkshopLine {
        id: w.id,
        when: paris::format_long(w.starts_at),
        format: w.format.label(),
        level: w.level.label(),
        place: place_words(&w),
        seats: format!("{} / {}", w.seats_taken, w.capacity),
        cancelled: w.cancel_reason.clone(),
        title: w.title,
    }
}

pub struct ServiceChoice {
    pub code: String,
    pub label: String,
    pub field: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "lieu_ateliers.html")]
pub(super) struct WorkshopsPage {
    layout: Layout,
    qualified: bool,
    workshops: Vec<WorkshopLine>,
    page: i64,
    more: bool,
    published: Option<i64>,
    /// Subscription addresses: the venue's public feed, then each mediator's private one.
    venue_feed: String,
    mediator_feeds: Vec<(String, String)>,
    services: Vec<ServiceChoice>,
    levels: Vec<(&'static str, &'static str)>,
    f: WorkshopForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    publie: Option<i64>,
}

async fn workshops_page(
    st: &AppState,
    staff: &StaffMember,
    venue: VenueId,
    csrf: &Csrf,
    page: i64,
) -> Result<WorkshopsPage, PageError> {
    let unavailable = |e| PageError::unavailable(e, "ateliers");
    let v = st.store.get_venue(venue).await.map_err(unavailable)?;
    let now = st.clock.now();
    let from = paris::from_local(paris::local_date(now), time::Time::MIDNIGHT);
    let page = page.clamp(1, 1000);
    let mut list = st
        .store
        .venue_workshops(
            venue,
            from,
            Timestamp::from_unix_ms(i64::MAX / 2),
            PAGE + 1,
            (page - 1) * PAGE,
        )
        .await
        .map_err(unavailable)?;
    let more = list.len() as i64 > PAGE;
    list.truncate(PAGE as usize);
    let catalogue = st.store.venue_catalogue(venue).await.map_err(unavailable)?;
    let names: HashMap<String, String> = st
        .store
        .list_services()
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|s| (s.code.to_string(), s.name))
        .collect();
    let base = st.deploy.public_url.trim_end_matches('/');
    let mut mediator_feeds: Vec<(String, String)> = vec![];
    for name in st
        .store
        .venue_mediators(venue, from)
        .await
        .map_err(unavailable)?
    {
        let url = format!(
            "{base}{}",
            crate::ui::calendars::mediator_feed_path(st, venue, &name)
        );
        // "Samia" and "samia " share one feed: listed once.
        if !mediator_feeds.iter().any(|(_, u)| *u == url) {
            mediator_feeds.push((name.trim().to_string(), url));
        }
    }
    Ok(WorkshopsPage {
        venue_feed: format!("{base}/lieux/{}/ateliers.ics", venue.0),
        mediator_feeds,
        layout: Layout::new("Vos ateliers", Some(staff), csrf, "/lieu/ateliers"),
        qualified: v.status == passnum_core::VenueStatus::Qualified,
        workshops: list.into_iter().map(line).collect(),
        page,
        more,
        published: None,
        services: catalogue
            .into_iter()
            .map(|(code, format)| ServiceChoice {
                label: format!(
                    "{code} — {} ({})",
                    names.get(&code).map(String::as_str).unwrap_or(""),
                    match format {
                        ServiceFormat::Individual => "individuel",
                        ServiceFormat::Collective => "collectif",
                        ServiceFormat::Both => "individuel ou collectif",
                    }
                ),
                field: format!("svc_{code}"),
                checked: false,
                code,
            })
            .collect(),
        levels: Level::ALL.iter().map(|l| (l.as_str(), l.label())).collect(),
        f: WorkshopForm {
            format: "collective".into(),
            level: "beginner".into(),
            duration_min: "90".into(),
            capacity: "8".into(),
            place: "venue".into(),
            repeat: "once".into(),
            ..Default::default()
        },
        errors: FieldErrors::default(),
    })
}

pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = workshops_page(&st, &staff, venue, &csrf, q.page.unwrap_or(1)).await?;
    p.published = q.publie;
    Ok(render(StatusCode::OK, &p, &csrf))
}

/// The form as sent, kept whatever happens (each text cut to what a field may hold).
fn typed(form: &HashMap<String, String>, services: &[ServiceChoice]) -> WorkshopForm {
    let get = |k: &str, max: usize| -> String {
        form.get(k)
            .map(|v| v.chars().take(max).collect())
            .unwrap_or_default()
    };
    WorkshopForm {
        format: get("format", 20),
        title: get("title", 201),
        services: services
            .iter()
            .filter(|s| form.contains_key(&s.field))
            .map(|s| s.code.clone())
            .collect(),
        level: get("level", 20),
        date: get("date", 20),
        time: get("time", 10),
        duration_min: get("duration_min", 10),
        place: get("place", 20),
        commune: get("commune", 60),
        place_detail: get("place_detail", 301),
        capacity: get("capacity", 10),
        mediator: get("mediator", 201),
        accessibility: get("accessibility", 501),
        repeat: get("repeat", 20),
        until: get("until", 20),
        except: get("except", 400),
    }
}

pub async fn publish(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form, token_ok }: Submitted<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = workshops_page(&st, &staff, venue, &csrf, 1).await?;
    p.f = typed(&form, &p.services);
    for s in &mut p.services {
        s.checked = form.contains_key(&s.field);
    }
    if !token_ok {
        p.errors.add("format", super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    let first_service = p
        .services
        .first()
        .map(|s| s.field.clone())
        .unwrap_or_default();
    match passnum_app::workshops::publish(&st.store, venue, &p.f, st.clock.now()).await {
        Ok(passnum_app::workshops::Published::Done(list)) => {
            Ok(Redirect::to(&format!("/lieu/ateliers?publie={}", list.len())).into_response())
        }
        Ok(passnum_app::workshops::Published::Refused(errors)) => {
            for (field, sentence) in errors {
                // The services are a group of boxes: the summary points at the first.
                let field = if field == "services" {
                    first_service.as_str()
                } else {
                    field
                };
                p.errors.add(field, sentence);
            }
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(passnum_store::StoreError::Conflict { message, code }) => {
            let field = if code == "mediator_busy" {
                "mediator"
            } else {
                "format"
            };
            p.errors.add(field, message);
            Ok(render(StatusCode::CONFLICT, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "ateliers")),
    }
}
