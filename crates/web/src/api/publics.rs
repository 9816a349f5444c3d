//! An order's own publics (issue 16): listed for its funder, the operator and the structures
//! that hold its booklets (their agents tick them at handouts, by code); added by the funder.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::OrderId;
use passnum_core::own_public::{NewOwnPublic, OwnPublic, OwnPublicRequest};
use passnum_store::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Auth, OrderingAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

#[derive(Serialize, ToSchema)]
pub struct OwnPublicDto {
    /// The code handouts give in `publics` ("own_12").
    pub code: String,
    pub label: String,
    /// Whole years, bounds included; null when open.
    pub age_min: Option<u8>,
    pub age_max: Option<u8>,
    pub criteria: String,
    /// One of the order's target publics.
    pub target: bool,
    /// No longer accepted at handouts; its handouts keep it.
    pub retired: bool,
}

impl From<OwnPublic> for OwnPublicDto {
    fn from(p: OwnPublic) -> Self {
        Self {
            code: p.code(),
            age_min: p.age.and_then(|a| a.min),
            age_max: p.age.and_then(|a| a.max),
            label: p.label,
            criteria: p.criteria,
            target: p.target,
            retired: p.retired,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOwnPublic {
    pub label: String,
    #[serde(default)]
    pub age_min: Option<u8>,
    #[serde(default)]
    pub age_max: Option<u8>,
    #[serde(default)]
    pub criteria: String,
    #[serde(default)]
    pub target: bool,
}

/// The own publics of an order, in the order they were added (the national ones are always
/// offered: senior, isolated, non_french_speaker, young, minimum_income, job_seeker,
/// disability).
#[utoipa::path(get, path = "/api/v1/orders/{id}/publics", tag = "handouts", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<OwnPublicDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<OwnPublicDto>>> {
    let order = OrderId(id);
    match auth.0 {
        // A structure reads the publics of the orders it hands out; any other order looks absent.
        Actor::Distributor(d) => {
            if !st.store.distributor_holds_order(d, order).await? {
                return Err(ApiError::not_found());
            }
        }
        _ => {
            super::orders::visible_order(&st, &auth, id).await?;
        }
    }
    let publics = st.store.order_publics(order).await?;
    Ok(Json(publics.into_iter().map(Into::into).collect()))
}

/// Add an own public to an order (operator, or its funder).
#[utoipa::path(post, path = "/api/v1/orders/{id}/publics", tag = "handouts", params(("id" = i64, Path)),
    request_body = CreateOwnPublic, security(("bearer" = [])),
    responses((status = 201, body = OwnPublicDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    who: OrderingAuth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateOwnPublic>,
) -> ApiResult<(StatusCode, Json<OwnPublicDto>)> {
    let order = super::orders::visible_order(&st, &Auth(who.0), id).await?;
    let age = |a: Option<u8>| a.map(|a| a.to_string()).unwrap_or_default();
    let p = NewOwnPublic::parse(&OwnPublicRequest {
        label: body.label,
        age_min: age(body.age_min),
        age_max: age(body.age_max),
        criteria: body.criteria,
        target: body.target,
    })
    .map_err(|e| ApiError::from(passnum_store::StoreError::refused(&e)))?;
    let by = super::distribution::api_signature(&Auth(who.0));
    let created = st
        .store
        .add_order_public(order.id, &p, &by, st.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}
