use axum::Json;
use axum::extract::State;
use passnum_core::ChequeCode;
use passnum_core::cheque::RedeemRefusal;
use passnum_store::{Actor, StoreError};

use super::dto::ChequeStatusDto;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;

/// A cheque's status, without redeeming it. A funder sees only its own cheques: another
/// funder's cheque gets the same answer as a code that does not exist.
#[utoipa::path(get, path = "/api/v1/cheques/{code}", tag = "cheques", params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ChequeStatusDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<ChequeStatusDto>> {
    let code =
        ChequeCode::parse(&code).map_err(|e| ApiError::refused(&RedeemRefusal::Malformed(e)))?;
    let funder = match auth.0 {
        Actor::Funder(f) => Some(f),
        Actor::Operator | Actor::Venue(_) => None,
        Actor::Distributor(_) | Actor::Observer(_) | Actor::Referent(_) => {
            return Err(ApiError::forbidden());
        }
    };
    match st.store.cheque_status(&code, funder).await {
        Ok(s) => Ok(Json(s.into())),
        Err(StoreError::NotFound) => Err(ApiError::refused(&RedeemRefusal::Unknown)),
        Err(e) => Err(e.into()),
    }
}
