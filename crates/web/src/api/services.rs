use axum::Json;
use axum::extract::State;

use axum::http::StatusCode;

use super::dto::{PutService, ServiceChangeDto, ServiceDto, UpdateService};
use crate::AppState;
use crate::auth::{Auth, OperatorAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
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
        .update_service(
            &code,
            body.active,
            body.standard_service.as_deref(),
            passnum_store::ChangeAuthor::Api,
            st.clock.now(),
        )
        .await?;
    // The directory's cache lists services by category: drop it.
    st.directory.invalidate();
    Ok(Json(s.into()))
}

/// Create a service, or rename it, its category or its level (operator). 201 when created.
/// The code (`2.1.07`) gives its level and category; a level or category renamed is renamed
/// for all its services. Each change goes to the référentiel's history.
#[utoipa::path(put, path = "/api/v1/services/{code}", tag = "services", params(("code" = String, Path)),
    request_body = PutService, security(("bearer" = [])),
    responses((status = 200, body = ServiceDto), (status = 201, body = ServiceDto), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(st): State<AppState>,
    _operator: OperatorAuth,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<PutService>,
) -> ApiResult<(StatusCode, Json<ServiceDto>)> {
    let draft = passnum_core::ServiceDraft {
        code,
        level_name: body.level_name,
        category_name: body.category_name,
        name: body.name,
    }
    .check()
    .map_err(|e| ApiError::invalid(e.code(), e.to_string()))?;
    let (s, created) = st
        .store
        .save_service(&draft, passnum_store::ChangeAuthor::Api, st.clock.now())
        .await?;
    st.directory.invalidate();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(s.into())))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ChangesQuery {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    100
}

/// The référentiel's history, newest first (at most 500 a page).
#[utoipa::path(get, path = "/api/v1/services/changes", tag = "services", params(ChangesQuery),
    security(("bearer" = [])), responses((status = 200, body = Vec<ServiceChangeDto>)))]
pub async fn changes(
    State(st): State<AppState>,
    _auth: Auth,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<ChangesQuery>,
) -> ApiResult<Json<Vec<ServiceChangeDto>>> {
    let rows = st.store.service_changes(q.limit, q.offset).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
