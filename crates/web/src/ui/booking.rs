//! Booking without an account and without a name: a workshop's public page with its booking
//! form (the booklet's number and the code on its cover), and "Mes réservations" to see and
//! cancel them. Each attempt counts against the client's limit: too few to guess a code.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_core::{Timestamp, VenueId, paris};
use passnum_store::{BookedBy, BookletKey, CancelledBy, StoreError, Workshop};
use serde::Deserialize;

use super::session::{Csrf, MaybeStaff};
use super::workshops::{place_words, status_label};
use super::{FieldErrors, Layout, PageError, Submitted, render};
use crate::AppState;

/// At most 20 booking attempts a minute per client (booking, listing, cancelling): enough
/// for an agent helping a queue, far too few to find a code among 31^8.
pub fn booking_limit() -> passnum_app::throttle::PerClientLimit {
    passnum_app::throttle::PerClientLimit::new(
        20,
        60_000,
        std::num::NonZeroUsize::new(100_000).expect("non-zero"),
    )
}

pub struct PublicWorkshop {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub format: &'static str,
    pub level: &'static str,
    pub places: String,
}

pub(super) fn places(w: &Workshop) -> String {
    match w.free_places() {
        0 => "complet, liste d'attente ouverte".into(),
        1 => "1 place libre".into(),
        n => format!("{n} places libres"),
    }
}

/// The venue's next workshops people may book: not cancelled, not started, in the next 60
/// days, 20 at most.
pub async fn upcoming(st: &AppState, venue: VenueId) -> Result<Vec<PublicWorkshop>, StoreError> {
    let now = st.clock.now();
    let list = st
        .store
        .venue_workshops(venue, now, now.plus_ms(60 * 86_400_000), 40, 0)
        .await?;
    Ok(list
        .into_iter()
        .filter(|w| w.cancelled_at.is_none())
        .take(20)
        .map(|w| PublicWorkshop {
            id: w.id,
            when: paris::format_long(w.starts_at),
            format: w.format.label(),
            level: w.level.label(),
            places: places(&w),
            title: w.title,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "atelier.html")]
struct WorkshopPage {
    layout: Layout,
    id: i64,
    title: String,
    venue_id: i64,
    venue_name: String,
    when: String,
    duration: i64,
    format: &'static str,
    level: &'static str,
    place: String,
    places: String,
    accessibility: String,
    cancelled: Option<String>,
    started: bool,
    booklet: String,
    code: String,
    contact: String,
    consent: bool,
    booked: Option<String>,
    errors: FieldErrors,
}

const WORKSHOP_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Atelier introuvable",
    text: "Cet atelier n'existe pas ou n'est plus proposé. Cherchez un lieu et ses ateliers dans la liste des lieux.",
};

async fn workshop_page(
    st: &AppState,
    staff: Option<&passnum_store::StaffMember>,
    csrf: &Csrf,
    id: i64,
) -> Result<WorkshopPage, PageError> {
    let unavailable = |e| PageError::unavailable(e, "atelier");
    let w = match st.store.workshop(id).await {
        Ok(w) => w,
        Err(StoreError::NotFound) => return Err(WORKSHOP_NOT_FOUND),
        Err(e) => return Err(unavailable(e)),
    };
    let venue = st.store.get_venue(w.venue_id).await.map_err(unavailable)?;
    // A workshop is public while its venue is.
    if !venue
        .view()
        .is_ok_and(|v| v.is_qualified_at(st.clock.now()))
    {
        return Err(WORKSHOP_NOT_FOUND);
    }
    let place = match w.place_kind.as_str() {
        "venue" => crate::ui::directory::address_line(&venue.address, &venue.commune_insee),
        _ => place_words(&w),
    };
    Ok(WorkshopPage {
        layout: Layout::new(w.title.clone(), staff, csrf, "/lieux"),
        id: w.id,
        venue_id: venue.id.0,
        venue_name: venue.name,
        when: paris::format_long(w.starts_at),
        duration: w.duration_min,
        format: w.format.label(),
        level: w.level.label(),
        place,
        places: places(&w),
        accessibility: w.accessibility.clone(),
        cancelled: w.cancel_reason.clone(),
        started: st.clock.now() >= w.starts_at,
        title: w.title,
        booklet: String::new(),
        code: String::new(),
        contact: String::new(),
        consent: false,
        booked: None,
        errors: FieldErrors::default(),
    })
}

fn workshop_id(raw: &str) -> Result<i64, PageError> {
    raw.parse().map_err(|_| WORKSHOP_NOT_FOUND)
}

pub async fn workshop(
    State(st): State<AppState>,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let p = workshop_page(&st, staff.as_ref(), &csrf, workshop_id(&id)?).await?;
    Ok(render(StatusCode::OK, &p, &csrf))
}

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    booklet: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    consent: Option<String>,
}

/// The error summary's field for a store refusal of a booking.
fn refusal_field(code: &str) -> &'static str {
    match code {
        "booking_code_wrong" => "code",
        "invalid_contact" | "contact_without_consent" => "contact",
        _ => "booklet",
    }
}

pub async fn book(
    State(st): State<AppState>,
    crate::deploy::ClientIp(client): crate::deploy::ClientIp,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Path(id): Path<String>,
    Submitted { form: f, token_ok }: Submitted<BookForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let id = workshop_id(&id)?;
    let mut p = workshop_page(&st, staff.as_ref(), &csrf, id).await?;
    p.booklet = f.booklet.chars().take(20).collect();
    p.code = f.code.chars().take(20).collect();
    p.contact = f.contact.chars().take(255).collect();
    p.consent = f.consent.is_some();
    if !token_ok {
        p.errors.add("booklet", super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    if !st.bookings.allow(client, st.clock.now()) {
        p.errors.add(
            "booklet",
            "Trop d'essais depuis votre connexion. Réessayez dans une minute.",
        );
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &p, &csrf));
    }
    let typed =
        passnum_app::workshops::booklet_key(&f.booklet, Some(&f.code), false).and_then(|k| {
            passnum_app::workshops::contact_with_consent(Some(&f.contact), p.consent)
                .map(|c| (k, c))
        });
    let (key, contact) = match typed {
        Ok(t) => t,
        Err(r) => {
            p.errors.add(refusal_field(r.code), r.message);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
        }
    };
    match st
        .store
        .book(
            id,
            &key,
            BookedBy::Person,
            contact.as_deref(),
            st.clock.now(),
        )
        .await
    {
        Ok(b) => {
            p.booked = Some(if b.status == "waiting" {
                "L'atelier est complet : vous êtes en liste d'attente. Si une place se libère, elle est pour vous ; consultez « Mes réservations ».".into()
            } else {
                format!(
                    "Votre place est réservée pour le carnet {}. Venez avec votre carnet : le lieu encaissera un chèque.",
                    b.booklet_ref
                )
            });
            p.places = match st.store.workshop(id).await {
                Ok(w) => places(&w),
                Err(_) => p.places,
            };
            Ok(render(StatusCode::OK, &p, &csrf))
        }
        Err(StoreError::Invalid { code, message } | StoreError::Conflict { code, message }) => {
            p.errors.add(refusal_field(code), message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "réservation")),
    }
}

pub struct MyBooking {
    pub id: i64,
    pub when: String,
    pub title: String,
    pub venue: String,
    pub status: &'static str,
    pub reason: Option<String>,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "mes_reservations.html")]
struct MyBookingsPage {
    layout: Layout,
    booklet: String,
    code: String,
    shown: bool,
    bookings: Vec<MyBooking>,
    done: String,
    errors: FieldErrors,
}

fn my_page(staff: Option<&passnum_store::StaffMember>, csrf: &Csrf) -> MyBookingsPage {
    MyBookingsPage {
        layout: Layout::new("Mes réservations", staff, csrf, "/mes-reservations"),
        booklet: String::new(),
        code: String::new(),
        shown: false,
        bookings: vec![],
        done: String::new(),
        errors: FieldErrors::default(),
    }
}

pub async fn my_bookings_form(headers: HeaderMap, MaybeStaff(staff): MaybeStaff) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(StatusCode::OK, &my_page(staff.as_ref(), &csrf), &csrf)
}

#[derive(Deserialize)]
pub struct MyBookingsForm {
    #[serde(default)]
    booklet: String,
    #[serde(default)]
    code: String,
    /// A booking to cancel, from the list.
    #[serde(default)]
    annuler: Option<i64>,
}

/// Lists a booklet's bookings; with `annuler`, cancels that one first.
pub async fn my_bookings(
    State(st): State<AppState>,
    crate::deploy::ClientIp(client): crate::deploy::ClientIp,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Submitted { form: f, token_ok }: Submitted<MyBookingsForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = my_page(staff.as_ref(), &csrf);
    p.booklet = f.booklet.chars().take(20).collect();
    p.code = f.code.chars().take(20).collect();
    if !token_ok {
        p.errors.add("booklet", super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    if !st.bookings.allow(client, st.clock.now()) {
        p.errors.add(
            "booklet",
            "Trop d'essais depuis votre connexion. Réessayez dans une minute.",
        );
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &p, &csrf));
    }
    let key: BookletKey =
        match passnum_app::workshops::booklet_key(&f.booklet, Some(&f.code), false) {
            Ok(k) => k,
            Err(r) => {
                p.errors.add(refusal_field(r.code), r.message);
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
            }
        };
    let now = st.clock.now();
    if let Some(b) = f.annuler {
        match st
            .store
            .cancel_booking(b, CancelledBy::Person(&key), now)
            .await
        {
            Ok(_) => {
                p.done = "Réservation annulée : votre place revient à la personne suivante.".into()
            }
            Err(StoreError::Invalid { code, message } | StoreError::Conflict { code, message }) => {
                p.errors.add(refusal_field(code), message);
            }
            Err(e) => return Err(PageError::unavailable(e, "réservations")),
        }
    }
    match st.store.booklet_bookings(&key).await {
        Ok(list) => {
            p.shown = true;
            p.bookings = my_lines(&st, list, now).await;
        }
        Err(StoreError::Invalid { code, message } | StoreError::Conflict { code, message }) => {
            p.errors.add(refusal_field(code), message);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
        }
        Err(e) => return Err(PageError::unavailable(e, "réservations")),
    }
    Ok(render(StatusCode::OK, &p, &csrf))
}

async fn my_lines(
    st: &AppState,
    list: Vec<(passnum_store::Booking, Workshop)>,
    now: Timestamp,
) -> Vec<MyBooking> {
    let mut out = Vec::with_capacity(list.len());
    for (b, w) in list {
        let venue = st
            .store
            .get_venue(w.venue_id)
            .await
            .map(|v| v.name)
            .unwrap_or_default();
        out.push(MyBooking {
            id: b.id,
            when: paris::format_long(w.starts_at),
            venue,
            status: status_label(&b.status),
            reason: b.cancel_reason,
            open: matches!(b.status.as_str(), "booked" | "waiting") && now < w.starts_at,
            title: w.title,
        });
    }
    out
}
