//! The public keys that verify printed cheques, at a well-known address, and the printable
//! documents of an order (logo upload, booklets, cover letter).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use passnum_app::keys::{KeySet, well_known_document};
use passnum_core::OrderId;
use passnum_core::order_options::sniff_logo;

use crate::AppState;
use crate::auth::Auth;
use crate::booklets::{OrderPrint, PrintError};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;

/// The public keys that sign printed cheques: anyone can check a QR code offline with them.
#[utoipa::path(get, path = "/.well-known/passnum-keys.json", tag = "cheques",
    responses((status = 200, body = KeySet)))]
pub async fn well_known(State(st): State<AppState>) -> ApiResult<Response> {
    let doc = well_known_document(&st.store.signing_keys().await?);
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc)).into_response())
}

use super::orders::visible_order as visible;

/// Set the logo printed on the booklets (PNG or SVG, 512 KiB at most), until the order is
/// issued. The body is the image itself.
#[utoipa::path(put, path = "/api/v1/orders/{id}/logo", tag = "orders", params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "image/png"), security(("bearer" = [])),
    responses((status = 204), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn put_logo(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let order = visible(&st, &auth, id).await?;
    let invalid = |m: String| ApiError::invalid("invalid_logo", m);
    let kind = sniff_logo(&body).map_err(|e| invalid(e.to_string()))?;
    passnum_print::Logo::parse(kind, &body)
        .map_err(|_| invalid(passnum_core::order_options::LogoError::Unreadable.to_string()))?;
    st.store.set_order_logo(order.id, kind, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn print_error(e: PrintError) -> ApiError {
    match e {
        PrintError::Store(s) => s.into(),
        PrintError::NotIssued => ApiError::new(
            StatusCode::CONFLICT,
            "order_state",
            "Cette commande n'est pas encore émise : ses carnets s'impriment une fois émise.",
        ),
        PrintError::Pdf(p) => {
            tracing::error!(error = %p, "impression");
            ApiError::internal()
        }
    }
}

pub fn pdf(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// One booklet of an issued order as a print-ready PDF (operator, or the funder).
#[utoipa::path(get, path = "/api/v1/orders/{id}/booklets/{number}/pdf", tag = "orders",
    params(("id" = i64, Path), ("number" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn booklet_pdf(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let order = visible(&st, &auth, id).await?;
    booklet_response(&st, order.id, number).await
}

pub async fn booklet_response(st: &AppState, id: OrderId, number: i64) -> ApiResult<Response> {
    let job = OrderPrint::load(&st.store, id, &st.deploy.public_url)
        .await
        .map_err(print_error)?;
    let Some(key) = st.signer.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_signing_key",
            "Ce serveur n'a pas de clé de signature : imprimez avec « passnum print ».",
        ));
    };
    let bytes = job
        .booklet(&st.store, &key, number)
        .await
        .map_err(print_error)?;
    Ok(pdf(
        bytes,
        &format!("commande-{}-carnet-{number}.pdf", id.0),
    ))
}

/// The cover letter that goes with the booklets of an issued order.
#[utoipa::path(get, path = "/api/v1/orders/{id}/letter/pdf", tag = "orders",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn letter_pdf(
    State(st): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let order = visible(&st, &auth, id).await?;
    letter_response(&st, order.id).await
}

pub async fn letter_response(st: &AppState, id: OrderId) -> ApiResult<Response> {
    let job = OrderPrint::load(&st.store, id, &st.deploy.public_url)
        .await
        .map_err(print_error)?;
    let today = passnum_core::paris::local_date(st.clock.now());
    let bytes = job.letter(None, today).map_err(print_error)?;
    Ok(pdf(bytes, &format!("commande-{}-courrier.pdf", id.0)))
}

/// Serves a stored logo to the pages. SVG is served with a policy that forbids scripts, so a
/// logo cannot run code in the funder's session even if opened directly.
pub async fn logo_response(st: &AppState, id: OrderId) -> ApiResult<Response> {
    let Some((kind, bytes)) = st.store.order_logo(id).await? else {
        return Err(ApiError::not_found());
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.media_type()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}
