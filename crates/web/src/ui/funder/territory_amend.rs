//! Correcting a member territory (its name, communes and délibération) or withdrawing one
//! declared by mistake, from its page; the checks are the store's (`territory_amend.rs`).

use axum::extract::{Path, State};
use axum::response::Redirect;
use passnum_core::TerritoryId;
use passnum_store::StoreError;

use super::territories::{TERRITORY_NOT_FOUND, field_of, territory_page};
use super::*;
use crate::ui::PageError;
use crate::ui::Submitted;

#[derive(Deserialize, Default)]
pub struct AmendForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    communes: String,
    #[serde(default)]
    deliberation: String,
    #[serde(default)]
    deliberation_date: String,
}

/// Corrects a territory: its name (a typo), its communes (a code typed wrongly, a commune
/// joining or leaving), its délibération's reference and date (typed wrongly).
pub async fn amend_territory(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
    Submitted { form: f, token_ok }: Submitted<AmendForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let t = TerritoryId(t);
    let mut page = territory_page(&st, &staff, &csrf, order.id, t).await?;
    page.name_typed = f.nom.chars().take(200).collect();
    page.communes_typed = f.communes.chars().take(12_000).collect();
    page.deliberation_typed = f.deliberation.chars().take(100).collect();
    page.deliberation_date_typed = f.deliberation_date.chars().take(20).collect();
    if !token_ok {
        page.errors.add("nom", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let amendment = match passnum_core::member_territory::TerritoryAmendment::parse(
        &f.nom,
        &f.communes,
        (&f.deliberation, &f.deliberation_date),
    ) {
        Ok(a) => a,
        Err(e) => {
            page.errors.add(field_of(&e), e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    match st.store.amend_territory(order.id, t, &amendment).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/commanditaire/commandes/{}/territoires/{}",
            order.id.0, t
        ))
        .into_response()),
        Err(StoreError::NotFound) => Err(TERRITORY_NOT_FOUND),
        Err(StoreError::Invalid { code, message } | StoreError::Conflict { code, message }) => {
            let field = match code {
                "territory_name_taken" | "order_state" => "nom",
                _ => "communes",
            };
            page.errors.add(field, message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "territoire")),
    }
}

#[derive(Deserialize, Default)]
pub struct RemoveForm {
    #[serde(default)]
    confirmation: Option<String>,
}

/// Withdraws a territory declared by mistake, once the funder ticked the confirmation; one
/// that received booklets or has a référent stays, and the page says why.
pub async fn remove_territory(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
    Submitted { form: f, token_ok }: Submitted<RemoveForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let t = TerritoryId(t);
    let (status, message) = if !token_ok {
        (StatusCode::BAD_REQUEST, crate::ui::STALE_FORM.to_string())
    } else if f.confirmation.is_none() {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Cochez la case pour confirmer le retrait de ce territoire.".to_string(),
        )
    } else {
        match st.store.remove_territory(order.id, t).await {
            Ok(()) => {
                return Ok(Redirect::to(&format!(
                    "/commanditaire/commandes/{}/territoires",
                    order.id.0
                ))
                .into_response());
            }
            Err(StoreError::NotFound) => return Err(TERRITORY_NOT_FOUND),
            Err(StoreError::Invalid { message, .. } | StoreError::Conflict { message, .. }) => {
                (StatusCode::CONFLICT, message)
            }
            Err(e) => return Err(PageError::unavailable(e, "territoire")),
        }
    };
    let mut page = territory_page(&st, &staff, &csrf, order.id, t).await?;
    page.errors.add("confirmation", message);
    Ok(render(status, &page, &csrf))
}
