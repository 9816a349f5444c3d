//! The scan page of a venue: type or scan a code, pick the service, see at once whether the
//! cheque is accepted. A double click never redeems twice: each rendering of the form carries
//! a fresh idempotency key, so a second submission of the same form gets the first answer.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use passnum_app::redeem::{ClientKey, Scan};
use passnum_core::{RedemptionId, VenueId, paris};
use passnum_store::{Outcome, RedemptionScope};
use serde::Deserialize;

use super::Submitted;
use super::session::{Csrf, VenueStaff};
use super::{FieldErrors, Layout, euros, render};
use crate::AppState;

pub struct ScanResult {
    pub ok: bool,
    pub headline: String,
    pub detail: String,
}

pub struct RecentRow {
    pub id: i64,
    pub code: String,
    pub when: String,
    pub service: String,
    pub amount: String,
    pub cancelled: bool,
    pub cancellable: bool,
}

#[derive(Template)]
#[template(path = "lieu.html")]
struct ScanPage {
    layout: Layout,
    venue_name: String,
    categories: Vec<(String, Vec<(String, String)>)>,
    code: String,
    service: String,
    key: String,
    /// The published public keys as JSON ({kid: base64url}), for the check in the browser.
    keys: String,
    errors: FieldErrors,
    result: Option<ScanResult>,
    recent: Vec<RecentRow>,
    /// Today's workshops (id, "14 h 00 — Premiers pas (2 places libres)"), and the one chosen.
    workshops: Vec<(String, String)>,
    workshop: String,
    /// The programme asks every scan to name a workshop.
    workshop_required: bool,
}

/// The venue's workshops of the day (Paris), not cancelled, and the one to offer first: the
/// one under way or the next; the last one once the day's are over.
async fn todays_workshops(st: &AppState, venue: VenueId) -> (Vec<(String, String)>, String) {
    let now = st.clock.now();
    let day = paris::from_local(paris::local_date(now), time::Time::MIDNIGHT);
    let list = st
        .store
        .venue_workshops(venue, day, day.plus_ms(30 * 3_600_000), 100, 0)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|w| {
            w.cancelled_at.is_none() && paris::local_date(w.starts_at) == paris::local_date(now)
        })
        .collect::<Vec<_>>();
    let current = list
        .iter()
        .find(|w| w.view().ends_at() > now)
        .or(list.last())
        .map(|w| w.id.to_string())
        .unwrap_or_default();
    let options = list
        .into_iter()
        .map(|w| {
            let free = w.free_places();
            (
                w.id.to_string(),
                format!(
                    "{} — {} ({} place{} libre{})",
                    paris::format_time(w.starts_at),
                    w.title,
                    free,
                    if free > 1 { "s" } else { "" },
                    if free > 1 { "s" } else { "" }
                ),
            )
        })
        .collect();
    (options, current)
}

async fn build(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    venue: VenueId,
    csrf: &Csrf,
) -> ScanPage {
    let venue_name = st
        .store
        .get_venue(venue)
        .await
        .map(|v| v.name)
        .unwrap_or_default();
    let services = st.store.list_services().await.unwrap_or_default();
    let mut categories: Vec<(String, Vec<(String, String)>)> = vec![];
    for s in services.into_iter().filter(|s| s.active) {
        let label = format!("{} — {}", s.category_code, s.category_name);
        match categories.last_mut() {
            Some((l, items)) if *l == label => items.push((s.code.as_str().into(), s.name)),
            _ => categories.push((label, vec![(s.code.as_str().into(), s.name)])),
        }
    }
    let recent = recent_rows(st, venue).await;
    let (workshops, workshop) = todays_workshops(st, venue).await;
    ScanPage {
        workshops,
        workshop,
        workshop_required: st.store.workshop_required().await.unwrap_or(false),
        layout: Layout::new("Encaisser un pass", Some(staff), csrf, "/lieu"),
        venue_name,
        categories,
        code: String::new(),
        service: String::new(),
        key: passnum_store::random_token(32),
        keys: browser_keys(st).await,
        errors: FieldErrors::default(),
        result: None,
        recent,
    }
}

/// The venue's 20 last redemptions, each saying whether it may still be cancelled here.
async fn recent_rows(st: &AppState, venue: VenueId) -> Vec<RecentRow> {
    let now = st.clock.now();
    let window = st.store.options().rollback_window_ms;
    st.store
        .list_redemptions(RedemptionScope::Venue(venue), 0, 20)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| RecentRow {
            id: r.id.0,
            code: r.cheque_code,
            when: paris::format_moment(r.redeemed_at),
            service: r.service_code,
            amount: euros(r.amount_cents),
            cancelled: r.rolled_back_at.is_some(),
            cancellable: r.rolled_back_at.is_none()
                && now.unix_ms() - r.redeemed_at.unix_ms() <= window,
        })
        .collect()
}

/// The unrevoked public keys, as the scan page's script reads them.
async fn browser_keys(st: &AppState) -> String {
    use base64::Engine as _;
    let keys = st.keys.keys(&st.store, None).await.unwrap_or_default();
    let map: std::collections::BTreeMap<&str, String> = keys
        .iter()
        .map(|(kid, k)| {
            (
                kid.as_str(),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.to_bytes()),
            )
        })
        .collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

pub async fn page(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &build(&st, &staff, venue, &csrf).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    service: String,
    /// A workshop id, or empty: without a workshop.
    #[serde(default)]
    atelier: String,
    #[serde(default)]
    cle: String,
}

pub async fn redeem(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Submitted { form: f, token_ok }: Submitted<RedeemForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = build(&st, &staff, venue, &csrf).await;
    page.code = f.code.chars().take(200).collect();
    page.service = f.service.clone();
    page.workshop = f.atelier.chars().take(20).collect();
    if !token_ok {
        page.errors.add("code", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    // Both fields are checked, so that the person sees every problem at once: the code by its
    // check symbol or signature (before any lookup), the service by being chosen.
    let code = match crate::keys::parse_scanned(&st.keys, &st.store, &f.code).await {
        Ok(Ok(s)) => Some(s.code()),
        Ok(Err(r)) => {
            page.errors.add("code", r.message);
            None
        }
        Err(e) => return crate::ui::PageError::unavailable(e, "clés de signature").into_response(),
    };
    if f.service.trim().is_empty() {
        page.errors
            .add("service", "Choisissez le service rendu dans la liste.");
    }
    let workshop = match f.atelier.trim() {
        "" => None,
        w => match w.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                page.errors
                    .add("atelier", "Choisissez l'atelier dans la liste.");
                None
            }
        },
    };
    let (Some(code), true) = (code, page.errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    // Keys of the page live beside the API's keys of the same venue, apart from them.
    // The venue's hat: an account whose organisation is also a structure acts here as the venue.
    let scan = Scan {
        actor: passnum_store::Actor::Venue(venue),
        venue,
        code,
        service_code: &f.service,
        workshop,
        key: ClientKey::parse(&format!("web-{}", f.cle)).filter(|_| !f.cle.is_empty()),
        now: st.clock.now(),
    };
    let answer = passnum_app::redeem::redeem(&st.store, scan).await;
    let status = match answer {
        Ok(a) => {
            let (ok, headline, detail) = match a.outcome {
                Outcome::Accepted(r) => (
                    true,
                    format!("Pass accepté : {}", euros(r.amount_cents)),
                    format!(
                        "Chèque {} encaissé le {}.",
                        r.cheque_code,
                        paris::format_moment(r.redeemed_at)
                    ),
                ),
                Outcome::Refused(r) => (false, "Pass refusé".to_string(), r.message),
            };
            page.result = Some(ScanResult {
                ok,
                headline,
                detail,
            });
            if ok {
                // Ready for the next visitor.
                page.code.clear();
                page = ScanPage {
                    recent: recent_rows(&st, venue).await,
                    ..page
                };
            }
            StatusCode::OK
        }
        Err(passnum_store::StoreError::IdempotencyMismatch) => {
            page.result = Some(ScanResult {
                ok: false,
                headline: "Formulaire déjà utilisé".into(),
                detail: "Ce formulaire a déjà servi pour un autre pass : rechargez la page et recommencez.".into(),
            });
            StatusCode::CONFLICT
        }
        Err(e) => {
            tracing::error!(error = %e, "encaissement");
            page.result = Some(ScanResult {
                ok: false,
                headline: "Service indisponible".into(),
                detail: "L'encaissement n'a pas pu être enregistré. Réessayez dans un instant."
                    .into(),
            });
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    render(status, &page, &csrf)
}

#[derive(Template)]
#[template(path = "lieu_annulation.html")]
struct CancelQuestion {
    layout: Layout,
    /// The redemption, when it is among the venue's recent ones still cancellable.
    row: Option<RecentRow>,
}

/// "Annuler" on the scan page asks once more, on a page of its own (no script needed), what
/// the cancellation undoes, before the cheque becomes usable again.
pub async fn cancel_question(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let row = recent_rows(&st, venue)
        .await
        .into_iter()
        .find(|r| r.id == id && r.cancellable);
    let page = CancelQuestion {
        layout: Layout::new("Annuler un encaissement", Some(&staff), &csrf, "/lieu"),
        row,
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct CancelForm {
    /// Sent only by the question page: a cancellation is never one click away.
    #[serde(default)]
    confirme: Option<String>,
}

pub async fn cancel(
    State(st): State<AppState>,
    headers: HeaderMap,
    VenueStaff(staff, venue): VenueStaff,
    Path(id): Path<i64>,
    Submitted { form, token_ok }: Submitted<CancelForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    if token_ok && form.confirme.as_deref() != Some("1") {
        return crate::audit::unchanged(
            axum::response::Redirect::to(&format!("/lieu/encaissements/{id}/annuler"))
                .into_response(),
        );
    }
    if !token_ok {
        let mut page = build(&st, &staff, venue, &csrf).await;
        page.result = Some(ScanResult {
            ok: false,
            headline: "Annulation non effectuée".into(),
            detail: "Le formulaire a expiré pour des raisons de sécurité : cliquez à nouveau sur « Annuler ».".into(),
        });
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let answer = passnum_app::redeem::rollback(
        &st.store,
        passnum_store::Actor::Venue(venue),
        venue,
        RedemptionId(id),
        None,
        st.clock.now(),
    )
    .await;
    let result = match answer {
        Ok(a) => match a.outcome {
            Outcome::Accepted(r) => ScanResult {
                ok: true,
                headline: "Encaissement annulé".into(),
                detail: format!("Le chèque {} peut être utilisé à nouveau.", r.cheque_code),
            },
            Outcome::Refused(r) => ScanResult {
                ok: false,
                headline: "Annulation refusée".into(),
                detail: r.message,
            },
        },
        Err(e) => {
            tracing::error!(error = %e, "annulation");
            ScanResult {
                ok: false,
                headline: "Service indisponible".into(),
                detail: "Réessayez dans un instant.".into(),
            }
        }
    };
    let mut page = build(&st, &staff, venue, &csrf).await;
    page.result = Some(result);
    render(StatusCode::OK, &page, &csrf)
}
