use axum::Json;
use axum::extract::State;

use super::dto::ServiceDto;
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiResult;

/// The services référentiel (3 levels, categories, elementary services).
#[utoipa::path(get, path = "/api/v1/services", tag = "services", security(("bearer" = [])),
    responses((status = 200, body = Vec<ServiceDto>)))]
pub async fn list(State(st): State<AppState>, _auth: Auth) -> ApiResult<Json<Vec<ServiceDto>>> {
    let services = st.store.list_services().await?;
    Ok(Json(
        services
            .into_iter()
            .map(|s| ServiceDto {
                code: s.code.as_str().into(),
                level: s.level,
                level_name: s.level_name,
                category_code: s.category_code,
                category_name: s.category_name,
                name: s.name,
            })
            .collect(),
    ))
}
