use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use passnum_core::FunderId;
use passnum_store::Actor;

use super::dto::{CreateFunder, FunderDto, Page};
use crate::AppState;
use crate::auth::{Auth, OperatorAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// Create a funder (operator).
#[utoipa::path(post, path = "/api/v1/funders", tag = "funders", request_body = CreateFunder,
    security(("bearer" = [])),
    responses((status = 201, body = FunderDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiJson(body): ApiJson<CreateFunder>,
) -> ApiResult<(StatusCode, Json<FunderDto>)> {
    let f = st
        .store
        .create_funder(&body.name, &body.kind, st.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

/// List funders: all for the operator, itself for a funder.
#[utoipa::path(get, path = "/api/v1/funders", tag = "funders", params(Page), security(("bearer" = [])),
    responses((status = 200, body = Vec<FunderDto>)))]
pub async fn list(
    State(st): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Vec<FunderDto>>> {
    let funders = match auth.0 {
        Actor::Operator => st.store.list_funders(page.limit(), page.offset()).await?,
        Actor::Funder(f) => vec![st.store.get_funder(f).await?],
        Actor::Venue(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            return Err(ApiError::forbidden());
        }
    };
    Ok(Json(funders.into_iter().map(Into::into).collect()))
}

/// One funder (operator, or the funder itself).
#[utoipa::path(get, path = "/api/v1/funders/{id}", tag = "funders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = FunderDto), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<FunderDto>> {
    match auth.0 {
        Actor::Operator => {}
        Actor::Funder(f) if f.0 == id => {}
        Actor::Funder(_) => return Err(ApiError::not_found()),
        Actor::Venue(_) | Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            return Err(ApiError::forbidden());
        }
    }
    Ok(Json(st.store.get_funder(FunderId(id)).await?.into()))
}
