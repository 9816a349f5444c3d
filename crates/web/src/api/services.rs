use axum::Json;
use axum::extract::State;

use super::dto::{ServiceDto, UpdateService};
use crate::AppState;
use crate::auth::{Auth, OperatorAuth};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

/// The services référentiel (3 levels, categories, elementary services).
#[utoipa::path(get, path = "/api/v1/services", tag = "services", security(("bearer" = [])),
    responses((status = 200, body = Vec<ServiceDto>)))]
pub async fn list(State(st): State<AppState>, _auth: Auth) -> ApiResult<Json<Vec<ServiceDto>>> {
    let services = st.store.list_services().await?;
    Ok(Json(services.into_iter().map(Into::into).collect()))
}

/// Deactivate or reactivate a service, or choose its value in the national standard
/// (operator). A service is never deleted: old redemptions keep their meaning.
#[utoipa::path(patch, path = "/api/v1/services/{code}", tag = "services", params(("code" = String, Path)),
    request_body = UpdateService, security(("bearer" = [])),
    responses((status = 200, body = ServiceDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateService>,
) -> ApiResult<Json<ServiceDto>> {
    let s = st
        .store
        .update_service(&code, body.active, body.standard_service.as_deref())
        .await?;
    // The directory's cache lists services by category: drop it.
    st.directory.invalidate();
    Ok(Json(s.into()))
}
