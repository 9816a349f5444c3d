//! One workshop as its venue sees it: details, bookings in line order (booklet references,
//! never names), booking on the phone, cancelling a booking or the workshop.

use super::*;
use passnum_store::{BookedBy, Booking, CancelledBy};

pub struct BookingLine {
    pub id: i64,
    pub booklet: String,
    pub status: &'static str,
    pub open: bool,
    pub by: &'static str,
    pub when: String,
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "booked" => "Place réservée",
        "waiting" => "En liste d'attente",
        "attended" => "Venue : chèque encaissé",
        _ => "Annulée",
    }
}

fn booking_line(b: Booking) -> BookingLine {
    BookingLine {
        id: b.id,
        status: status_label(&b.status),
        open: matches!(b.status.as_str(), "booked" | "waiting"),
        by: match b.booked_by.as_str() {
            "agent" => "l'agent, à la remise",
            "venue" => "votre lieu",
            _ => "la personne",
        },
        when: paris::format_moment(b.created_at),
        booklet: b.booklet_ref,
    }
}

#[derive(Template)]
#[template(path = "lieu_atelier.html")]
pub(in crate::ui) struct WorkshopFilePage {
    layout: Layout,
    w: WorkshopLine,
    services: String,
    mediator: String,
    accessibility: String,
    duration: String,
    bookings: Vec<BookingLine>,
    booklet: String,
    code: String,
    contact: String,
    consent: bool,
    reason: String,
    done: String,
    /// Started: its record can be filled.
    held: bool,
    recorded: bool,
    errors: FieldErrors,
}

async fn file_page(
    st: &AppState,
    staff: &StaffMember,
    venue: VenueId,
    csrf: &Csrf,
    id: i64,
) -> Result<WorkshopFilePage, PageError> {
    let unavailable = |e| PageError::unavailable(e, "atelier");
    let a = match st.store.workshop_activity(venue, id).await {
        Ok(a) => a,
        Err(passnum_store::StoreError::NotFound) => {
            return Err(PageError::NotFound {
                heading: "Atelier introuvable",
                text: "Cet atelier n'existe pas, ou n'est pas un atelier de votre lieu.",
            });
        }
        Err(e) => return Err(unavailable(e)),
    };
    let w = a.workshop;
    let held = st.clock.now() >= w.starts_at;
    let bookings = st
        .store
        .workshop_bookings(venue, id)
        .await
        .map_err(unavailable)?;
    Ok(WorkshopFilePage {
        layout: Layout::new(&w.title, Some(staff), csrf, "/lieu/ateliers"),
        services: w.services.join(", "),
        mediator: w.mediator.clone(),
        accessibility: w.accessibility.clone(),
        duration: format!("{} min", w.duration_min),
        w: line(w),
        bookings: bookings.into_iter().map(booking_line).collect(),
        booklet: String::new(),
        code: String::new(),
        contact: String::new(),
        consent: false,
        reason: String::new(),
        done: String::new(),
        held,
        recorded: a.record.is_some(),
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    fait: Option<String>,
}

pub async fn file(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = file_page(&st, &staff, venue, &csrf, id).await?;
    p.done = match q.fait.as_deref() {
        Some("reserve") => {
            "Place réservée (ou mise en liste d'attente si l'atelier est complet).".into()
        }
        Some("annule") => {
            "Atelier annulé : les réservations sont annulées avec votre raison.".into()
        }
        Some("compte-rendu") => "Compte rendu enregistré.".into(),
        Some("reservation") => {
            "Réservation annulée : la place revient au premier de la liste d'attente.".into()
        }
        _ => String::new(),
    };
    Ok(render(StatusCode::OK, &p, &csrf))
}

#[derive(Deserialize)]
pub struct PhoneBookingForm {
    #[serde(default)]
    booklet: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    consent: Option<String>,
}

/// The venue books a place on the phone: the person reads the booklet's reference and code.
pub async fn book_by_phone(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<PhoneBookingForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = file_page(&st, &staff, venue, &csrf, id).await?;
    p.booklet = f.booklet.chars().take(20).collect();
    p.code = f.code.chars().take(20).collect();
    p.contact = f.contact.chars().take(255).collect();
    p.consent = f.consent.is_some();
    if !token_ok {
        p.errors.add("booklet", super::super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    let key = match passnum_app::workshops::booklet_key(&f.booklet, Some(&f.code), false) {
        Ok(k) => k,
        Err(e) => {
            let field = if e.code == "invalid_booklet" {
                "booklet"
            } else {
                "code"
            };
            p.errors.add(field, e.message);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
        }
    };
    let contact = match passnum_app::workshops::contact_with_consent(Some(&f.contact), p.consent) {
        Ok(c) => c,
        Err(e) => {
            p.errors.add("contact", e.message);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
        }
    };
    match st
        .store
        .book(
            id,
            &key,
            BookedBy::Venue(venue),
            contact.as_deref(),
            st.clock.now(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/lieu/ateliers/{id}?fait=reserve")).into_response()),
        Err(
            passnum_store::StoreError::Invalid { message, code }
            | passnum_store::StoreError::Conflict { message, code },
        ) => {
            let field = if code == "booking_code_wrong" {
                "code"
            } else {
                "booklet"
            };
            p.errors.add(field, message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "réservation")),
    }
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Cancels the workshop, with a reason the people booked will read, after a confirmation.
pub async fn cancel_workshop(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<CancelForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = file_page(&st, &staff, venue, &csrf, id).await?;
    p.reason = f.reason.chars().take(501).collect();
    if !token_ok {
        p.errors.add("reason", super::super::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    if f.confirm.is_none() {
        p.errors.add(
            "confirm",
            "Cochez la case pour confirmer l'annulation : elle ne se défait pas.",
        );
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf));
    }
    match st
        .store
        .cancel_workshop(venue, id, &f.reason, st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/lieu/ateliers/{id}?fait=annule")).into_response()),
        Err(
            passnum_store::StoreError::Invalid { message, .. }
            | passnum_store::StoreError::Conflict { message, .. },
        ) => {
            p.errors.add("reason", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "atelier")),
    }
}

/// The venue cancels one booking of its workshop.
pub async fn cancel_booking(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path((id, booking)): Path<(i64, i64)>,
    Submitted { token_ok, .. }: Submitted<super::super::NoFields>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut p = file_page(&st, &staff, venue, &csrf, id).await?;
    if !token_ok {
        p.errors.add("reservations", super::super::STALE_FORM);
        return Ok(render(StatusCode::BAD_REQUEST, &p, &csrf));
    }
    match st
        .store
        .cancel_booking(booking, CancelledBy::Venue(venue), st.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/lieu/ateliers/{id}?fait=reservation")).into_response()),
        Err(
            passnum_store::StoreError::Invalid { message, .. }
            | passnum_store::StoreError::Conflict { message, .. },
        ) => {
            p.errors.add("reservations", message);
            Ok(render(StatusCode::CONFLICT, &p, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "réservation")),
    }
}
