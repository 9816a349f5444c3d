use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use passnum_app::redeem::Scan;
use passnum_core::RedemptionId;
use passnum_store::{Answer, Outcome};

use super::dto::{CreateRedemption, RedemptionDto, RedemptionPageQuery};
use crate::AppState;
use crate::auth::{Auth, VenueAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyHeader};

/// One answer, rendered the same way the first time and on every replay.
fn render(st: &AppState, answer: Answer, success: StatusCode) -> Response {
    let mut response = match answer.outcome {
        Outcome::Accepted(r) => (
            success,
            Json(RedemptionDto::new(r, st.store.options().rollback_window_ms)),
        )
            .into_response(),
        Outcome::Refused(r) => {
            ApiError::new(ApiError::status_of_kind(r.kind), r.code, r.message).into_response()
        }
    };
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Redeem a cheque for a service (venue). Send an `Idempotency-Key` header so that a retry
/// after a network failure gets the first answer instead of a second attempt.
///
/// Refusals are checked in this order: malformed code or wrong check symbol → unknown cheque →
/// not yet valid → expired → blocked → already redeemed → venue not qualified → venue outside
/// the order's perimeter → service not in the référentiel (`service_unknown`) → service not in
/// the venue's catalogue (`service_not_offered`) → then, with a workshop: not one of the venue's
/// (`workshop_unknown`) → cancelled → not today (Paris) → service not the workshop's → a cheque
/// of this booklet already used for it (`booklet_already_in_workshop`) → full for a person
/// without a booking (`workshop_full`); without one when the programme requires it
/// (`workshop_required`).
#[utoipa::path(post, path = "/api/v1/redemptions", tag = "redemptions", request_body = CreateRedemption,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key, same answer; same key with another body is refused.")),
    security(("bearer" = [])),
    responses(
        (status = 201, body = RedemptionDto, description = "Accepted"),
        (status = 404, body = ErrorBody, description = "cheque_unknown, workshop_unknown"),
        (status = 409, body = ErrorBody, description = "cheque_already_redeemed, workshop_cancelled, booklet_already_in_workshop, workshop_full"),
        (status = 422, body = ErrorBody, description = "code_malformed, code_check_failed, payload_malformed, not_genuine, cheque_not_yet_valid, cheque_expired, cheque_blocked, venue_not_qualified, venue_outside_perimeter, service_unknown, service_not_offered, workshop_not_today, service_not_in_workshop, workshop_required, idempotency_key_reused"),
        (status = 503, body = ErrorBody, description = "write_interrupted (nothing written: send the same request again), unavailable")))]
pub async fn create(
    State(st): State<AppState>,
    VenueAuth(actor): VenueAuth,
    idem: IdempotencyHeader,
    ApiJson(body): ApiJson<CreateRedemption>,
) -> ApiResult<Response> {
    let venue = passnum_app::scopes::redeeming_venue(actor)?;
    // A typo is caught by the check symbol here, and a scanned QR payload by its signature,
    // before any lookup.
    let code = crate::keys::parse_scanned(&st.keys, &st.store, &body.code)
        .await?
        .map_err(|r| ApiError::invalid(r.code, r.message))?
        .code();
    let scan = Scan {
        actor,
        venue,
        code,
        service_code: &body.service_code,
        workshop: body.workshop_id,
        key: idem.0,
        now: st.clock.now(),
    };
    let answer = passnum_app::redeem::redeem(&st.store, scan).await?;
    Ok(render(&st, answer, StatusCode::CREATED))
}

/// Cancel a redemption (the venue that made it, within the rollback window, before payment).
#[utoipa::path(post, path = "/api/v1/redemptions/{id}/rollback", tag = "redemptions", params(("id" = i64, Path),
    ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = RedemptionDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rollback(
    State(st): State<AppState>,
    VenueAuth(actor): VenueAuth,
    idem: IdempotencyHeader,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let venue = passnum_app::scopes::redeeming_venue(actor)?;
    let answer = passnum_app::redeem::rollback(
        &st.store,
        actor,
        venue,
        RedemptionId(id),
        idem.0,
        st.clock.now(),
    )
    .await?;
    Ok(render(&st, answer, StatusCode::OK))
}

/// Redemptions, newest first: a venue sees its own, a funder those of its cheques, the operator all.
#[utoipa::path(get, path = "/api/v1/redemptions", tag = "redemptions", params(RedemptionPageQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<RedemptionDto>)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RedemptionPageQuery>,
) -> ApiResult<Json<Vec<RedemptionDto>>> {
    let scope = passnum_app::scopes::redemptions(auth.0)?;
    let window = st.store.options().rollback_window_ms;
    let items = st
        .store
        .list_redemptions(scope, q.before.unwrap_or(0), q.limit.unwrap_or(50))
        .await?;
    Ok(Json(
        items
            .into_iter()
            .map(|r| RedemptionDto::new(r, window))
            .collect(),
    ))
}
