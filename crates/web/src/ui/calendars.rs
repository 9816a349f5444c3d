//! Workshops as iCalendar feeds for calendar applications to subscribe to: a venue's, public
//! (`/lieux/{id}/ateliers.ics`), and each mediator's, at an unguessable address the venue hands
//! to that mediator (`/lieux/{id}/animateurs/{jeton}/ateliers.ics`): who runs which workshop is
//! not published.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use passnum_core::{VenueId, text::constant_time_eq};
use passnum_store::{StoreError, Venue, Workshop};

use super::PageError;
use super::booking::places;
use super::workshops::place_words;
use crate::AppState;

const DAY_MS: i64 = 86_400_000;

fn not_found() -> PageError {
    PageError::NotFound {
        heading: "Lieu introuvable",
        text: "Ce lieu n'existe pas ou n'accepte pas le Pass Numérique aujourd'hui.",
    }
}

/// A qualified venue and its workshops of the last 30 days and the next year.
async fn venue_and_workshops(st: &AppState, id: &str) -> Result<(Venue, Vec<Workshop>), PageError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let venue = match st.store.get_venue(VenueId(id)).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(PageError::unavailable(e, "calendrier")),
    };
    let now = st.clock.now();
    if !venue.view().is_ok_and(|v| v.is_qualified_at(now)) {
        return Err(not_found());
    }
    let list = st
        .store
        .venue_workshops(
            venue.id,
            now.plus_ms(-30 * DAY_MS),
            now.plus_ms(366 * DAY_MS),
            500,
            0,
        )
        .await
        .map_err(|e| PageError::unavailable(e, "calendrier"))?;
    Ok((venue, list))
}

fn feed(st: &AppState, name: &str, venue: &Venue, list: &[&Workshop]) -> Response {
    // Never the request's Host: the configured public address, or a fixed name.
    let base = st.deploy.public_url.trim_end_matches('/').to_string();
    let host = base.split("://").nth(1).unwrap_or("passnum").to_string();
    let address = crate::ui::directory::address_line(&venue.address, &venue.commune_insee);
    let events: Vec<passnum_core::ical::Event> = list
        .iter()
        .map(|w| passnum_core::ical::Event {
            // The same UID in every feed: a calendar subscribed to both shows one event.
            uid: format!("atelier-{}@{host}", w.id),
            sequence: w.revision,
            stamp: w.updated_at,
            start: w.starts_at,
            end: w.view().ends_at(),
            summary: w.title.clone(),
            location: if w.place_kind == "venue" {
                address.clone()
            } else {
                place_words(w)
            },
            description: format!(
                "{}, niveau {}. {}",
                w.format.label(),
                w.level.label().to_lowercase(),
                w.cancel_reason
                    .as_deref()
                    .map(|r| format!("Annulé : {r}"))
                    .unwrap_or_else(|| places(w))
            ),
            url: if base.is_empty() {
                String::new()
            } else {
                format!("{base}/ateliers/{}", w.id)
            },
            cancelled: w.cancelled_at.is_some(),
        })
        .collect();
    let body = passnum_core::ical::calendar(name, &events);
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "inline; filename=\"ateliers.ics\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// A venue's workshops, cancelled ones marked so.
pub async fn venue_calendar(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (venue, list) = venue_and_workshops(&st, &id).await?;
    let all: Vec<&Workshop> = list.iter().collect();
    Ok(feed(
        &st,
        &format!("Ateliers — {}", venue.name),
        &venue,
        &all,
    ))
}

/// The address of a mediator's own feed: a keyed hash of the venue and the mediator's name as
/// typed on the workshops (spaces and case do not count).
pub fn mediator_feed_path(st: &AppState, venue: VenueId, mediator: &str) -> String {
    format!(
        "/lieux/{}/animateurs/{}/ateliers.ics",
        venue.0,
        st.household.calendar_token(venue.0, mediator)
    )
}

/// The workshops one mediator runs at a venue. A token naming nobody gives an empty calendar,
/// the same answer as a mediator without workshops: it tells nothing.
pub async fn mediator_calendar(
    State(st): State<AppState>,
    Path((id, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if token.len() != passnum_core::handout::CALENDAR_TOKEN_LEN
        || !token.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(not_found());
    }
    let (venue, list) = venue_and_workshops(&st, &id).await?;
    let mine: Vec<&Workshop> = list
        .iter()
        .filter(|w| {
            !w.mediator.trim().is_empty()
                && constant_time_eq(
                    st.household
                        .calendar_token(venue.id.0, &w.mediator)
                        .as_bytes(),
                    token.as_bytes(),
                )
        })
        .collect();
    let name = match mine.first() {
        Some(w) => format!("Ateliers de {} — {}", w.mediator.trim(), venue.name),
        None => format!("Ateliers — {}", venue.name),
    };
    Ok(feed(&st, &name, &venue, &mine))
}
