//! Workshops and bookings through the API: a venue publishes and cancels its workshops and
//! books places on the phone; the agent of a distributing structure books for a booklet it
//! handed out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_app::workshops::{Published, publish};
use passnum_core::workshop::WorkshopForm;
use passnum_core::{Timestamp, VenueId, paris};
use passnum_store::{Actor, BookedBy, Booking, CancelledBy, Workshop};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::ts;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Serialize, ToSchema)]
pub struct WorkshopDto {
    pub id: i64,
    pub venue_id: i64,
    /// The first workshop of its series; null for a one-off.
    pub series_id: Option<i64>,
    /// "individual" or "collective".
    pub format: String,
    pub title: String,
    pub services: Vec<String>,
    /// "beginner", "intermediate" or "advanced".
    pub level: String,
    pub starts_at: String,
    pub duration_min: i64,
    /// "venue", "elsewhere" or "remote".
    pub place: String,
    pub place_commune: Option<String>,
    pub place_detail: String,
    pub capacity: i64,
    pub free_places: i64,
    pub mediator: String,
    pub accessibility: String,
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
}

impl From<Workshop> for WorkshopDto {
    fn from(w: Workshop) -> Self {
        Self {
            free_places: w.free_places(),
            id: w.id,
            venue_id: w.venue_id.0,
            series_id: w.series_id,
            format: w.format.as_str().into(),
            title: w.title,
            services: w.services,
            level: w.level.as_str().into(),
            starts_at: ts(w.starts_at),
            duration_min: w.duration_min,
            place: w.place_kind,
            place_commune: w.place_commune,
            place_detail: w.place_detail,
            capacity: w.capacity,
            mediator: w.mediator,
            accessibility: w.accessibility,
            cancelled_at: w.cancelled_at.map(ts),
            cancel_reason: w.cancel_reason,
        }
    }
}

/// A workshop to publish, or a series of them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkshop {
    /// "individual" (one place) or "collective".
    pub format: String,
    pub title: String,
    /// Services of the venue's catalogue, given in this format.
    pub services: Vec<String>,
    /// "beginner", "intermediate" or "advanced".
    pub level: String,
    /// First date, "2026-12-15", and start time in Paris, "14:30".
    pub date: String,
    pub time: String,
    pub duration_min: i64,
    /// "venue" (default), "elsewhere" (with `commune` and `place_detail`: the address) or
    /// "remote" (with `place_detail`: how to join).
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub place_detail: String,
    pub capacity: i64,
    #[serde(default)]
    pub mediator: String,
    #[serde(default)]
    pub accessibility: String,
    /// "once" (default), "weekly" or "fortnightly", until `until` (included), without the
    /// dates in `except`.
    #[serde(default)]
    pub repeat: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub except: Vec<String>,
}

/// The operator, or the venue itself (the same rule as its catalogue's).
pub(super) fn may_run_venue(auth: &Auth, id: i64) -> ApiResult<VenueId> {
    super::venues::may_edit_venue(auth, id)?;
    Ok(VenueId(id))
}

/// Publish a workshop, or a weekly or fortnightly series (venue itself, or operator). All of
/// the series or nothing: a mediator already busy, a service outside the catalogue refuse it.
#[utoipa::path(post, path = "/api/v1/venues/{id}/workshops", tag = "workshops", params(("id" = i64, Path)),
    request_body = CreateWorkshop, security(("bearer" = [])),
    responses((status = 201, body = Vec<WorkshopDto>), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "venue_not_qualified, mediator_busy, service_not_in_catalogue"),
        (status = 422, body = ErrorBody, description = "invalid_workshop: every field refused, each with its sentence")))]
pub async fn create(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateWorkshop>,
) -> ApiResult<(StatusCode, Json<Vec<WorkshopDto>>)> {
    let venue = may_run_venue(&auth, id)?;
    let form = WorkshopForm {
        format: body.format,
        title: body.title,
        services: body.services,
        level: body.level,
        date: body.date,
        time: body.time,
        duration_min: body.duration_min.to_string(),
        place: body.place,
        commune: body.commune,
        place_detail: body.place_detail,
        capacity: body.capacity.to_string(),
        mediator: body.mediator,
        accessibility: body.accessibility,
        repeat: body.repeat,
        until: body.until,
        except: body.except.join(","),
    };
    match publish(&st.store, venue, &form, st.clock.now()).await? {
        Published::Done(list) => Ok((
            StatusCode::CREATED,
            Json(list.into_iter().map(Into::into).collect()),
        )),
        Published::Refused(errors) => Err(ApiError::invalid_fields("invalid_workshop", &errors)),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WorkshopRange {
    /// First day, "2026-12-01" (default: today in Paris).
    pub from: Option<String>,
    /// How many days from `from` (default 31, at most 366).
    pub days: Option<i64>,
}

/// A venue's workshops over a range of days, in time order, cancelled ones included (venue
/// itself, or operator).
#[utoipa::path(get, path = "/api/v1/venues/{id}/workshops", tag = "workshops", params(("id" = i64, Path), WorkshopRange),
    security(("bearer" = [])), responses((status = 200, body = Vec<WorkshopDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<WorkshopRange>,
) -> ApiResult<Json<Vec<WorkshopDto>>> {
    let venue = may_run_venue(&auth, id)?;
    let from = match q.from.as_deref() {
        None => paris::local_date(st.clock.now()),
        Some(d) => super::dto::date_in("from", d)?,
    };
    let start = paris::from_local(from, time::Time::MIDNIGHT);
    let days = q.days.unwrap_or(31).clamp(1, 366);
    let end = Timestamp::from_unix_ms(start.unix_ms() + days * 86_400_000);
    let list = st.store.venue_workshops(venue, start, end, 500, 0).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelWorkshop {
    /// Shown to the people booked (3 to 500 characters).
    pub reason: String,
}

/// Cancel a workshop with its reason (its venue, or operator): its bookings are cancelled and
/// show the reason.
#[utoipa::path(post, path = "/api/v1/workshops/{id}/cancel", tag = "workshops", params(("id" = i64, Path)),
    request_body = CancelWorkshop, security(("bearer" = [])),
    responses((status = 200, body = WorkshopDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancelWorkshop>,
) -> ApiResult<Json<WorkshopDto>> {
    let w = st.store.workshop(id).await?;
    let venue = may_run_venue(&auth, w.venue_id.0)?;
    st.store
        .cancel_workshop(venue, id, &body.reason, st.clock.now())
        .await?;
    Ok(Json(st.store.workshop(id).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct BookingDto {
    pub id: i64,
    pub workshop_id: i64,
    /// The booklet's reference as printed on its cover, "3-12".
    pub booklet: String,
    /// "booked", "waiting" (in line: a place freed goes to the first), "cancelled" or
    /// "attended" (its cheque was scanned).
    pub status: String,
    /// "person", "agent" or "venue".
    pub booked_by: String,
    pub created_at: String,
    /// Whether a contact for reminders is kept (never shown).
    pub has_contact: bool,
    pub cancel_reason: Option<String>,
}

impl From<Booking> for BookingDto {
    fn from(b: Booking) -> Self {
        Self {
            id: b.id,
            workshop_id: b.workshop_id,
            booklet: b.booklet_ref,
            status: b.status,
            booked_by: b.booked_by,
            created_at: ts(b.created_at),
            has_contact: b.has_contact,
            cancel_reason: b.cancel_reason,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    /// The booklet's reference on its cover, "3-12".
    pub booklet: String,
    /// The booking code on its cover ("ABCD-EFGH"); not needed by the agent of the structure
    /// that handed the booklet out.
    #[serde(default)]
    pub code: Option<String>,
    /// E-mail or phone for reminders, kept only if `consent` is true, erased after the workshop.
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub consent: bool,
}

/// Book a place in a workshop for a booklet: the venue of the workshop (the person reads the
/// code out on the phone) or the agent of the structure that handed the booklet out. When the
/// workshop is full the booking waits in line ("waiting").
#[utoipa::path(post, path = "/api/v1/workshops/{id}/bookings", tag = "workshops", params(("id" = i64, Path)),
    request_body = CreateBooking, security(("bearer" = [])),
    responses((status = 201, body = BookingDto),
        (status = 409, body = ErrorBody, description = "workshop_cancelled, workshop_past, booklet_already_booked, booklet_no_cheque_left, booklet_not_usable"),
        (status = 422, body = ErrorBody, description = "booking_code_wrong, workshop_unknown, invalid_booklet, contact_without_consent")))]
pub async fn book(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateBooking>,
) -> ApiResult<(StatusCode, Json<BookingDto>)> {
    let by = match auth.0 {
        Actor::Venue(v) => BookedBy::Venue(v),
        Actor::Distributor(d) => BookedBy::Agent(d),
        Actor::Operator | Actor::Funder(_) | Actor::Observer(_) | Actor::Referent(_) => {
            return Err(ApiError::forbidden());
        }
    };
    let invalid = |r: passnum_app::workshops::InputRefusal| ApiError::invalid(r.code, r.message);
    let key = passnum_app::workshops::booklet_key(
        &body.booklet,
        body.code.as_deref(),
        matches!(by, BookedBy::Agent(_)),
    )
    .map_err(invalid)?;
    let contact =
        passnum_app::workshops::contact_with_consent(body.contact.as_deref(), body.consent)
            .map_err(invalid)?;
    let b = st
        .store
        .book(id, &key, by, contact.as_deref(), st.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(b.into())))
}

/// The bookings of a workshop in line order (its venue, or operator): booklet references, no
/// names.
#[utoipa::path(get, path = "/api/v1/workshops/{id}/bookings", tag = "workshops", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<BookingDto>), (status = 404, body = ErrorBody)))]
pub async fn bookings(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<BookingDto>>> {
    let w = st.store.workshop(id).await?;
    let venue = may_run_venue(&auth, w.venue_id.0)?;
    let list = st.store.workshop_bookings(venue, id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Cancel a booking of one of the venue's workshops (venue): the place goes to the first in
/// line.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "workshops", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = BookingDto), (status = 422, body = ErrorBody)))]
pub async fn cancel_booking(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<BookingDto>> {
    let Actor::Venue(v) = auth.0 else {
        return Err(ApiError::forbidden());
    };
    let b = st
        .store
        .cancel_booking(id, CancelledBy::Venue(v), st.clock.now())
        .await?;
    Ok(Json(b.into()))
}
