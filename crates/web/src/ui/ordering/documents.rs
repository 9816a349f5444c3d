//! An order's printable documents from the pages: the logo, each booklet as PDF, the cover letter.

use super::*;

/// Replaces the logo of an order not yet issued.
pub async fn upload_logo(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    upload: UploadForm,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let bad = |text: &str| {
        crate::ui::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&staff),
            &csrf,
            "Logo refusé",
            text,
        )
    };
    let Some((_, logo)) = upload.read else {
        return bad("Le fichier n'a pas pu être lu : le logo pèse 512 Ko au plus.");
    };
    if !upload.token_ok {
        return bad(crate::ui::STALE_FORM);
    }
    let Some(bytes) = logo else {
        return bad("Choisissez un fichier PNG ou SVG.");
    };
    let kind = match sniff_logo(&bytes) {
        Ok(k) => k,
        Err(e) => return bad(&e.to_string()),
    };
    if passnum_print::Logo::parse(kind, &bytes).is_err() {
        return bad(&passnum_core::order_options::LogoError::Unreadable.to_string());
    }
    match st.store.set_order_logo(order.id, kind, &bytes).await {
        Ok(()) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
        Err(e) => refused(&staff, &csrf, e),
    }
}

pub async fn logo(State(st): State<AppState>, FunderOrder(_, order): FunderOrder) -> Response {
    crate::api::keys::logo_response(&st, order.id)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// "12.pdf" → 12.
pub(in crate::ui) fn pdf_number(s: &str) -> Option<i64> {
    s.strip_suffix(".pdf")?
        .parse()
        .ok()
        .filter(|n: &i64| *n > 0)
}

pub async fn booklet(
    State(st): State<AppState>,
    FunderOrder(_, order): FunderOrder,
    Path((_, file)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let n = pdf_number(&file).ok_or(ORDER_NOT_FOUND)?;
    Ok(crate::api::keys::booklet_response(&st, order.id, n)
        .await
        .unwrap_or_else(IntoResponse::into_response))
}

pub async fn letter(State(st): State<AppState>, FunderOrder(_, order): FunderOrder) -> Response {
    crate::api::keys::letter_response(&st, order.id)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}
