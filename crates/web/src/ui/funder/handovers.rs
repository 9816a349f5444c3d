//! An order's booklet moves for the funder's accountant: each move's procès-verbal de remise
//! as PDF, and who held how many booklets at the end of a chosen day.

use axum::extract::Path;

use super::*;
use crate::ui::PageError;

const MOVE_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Remise introuvable",
    text: "Cette commande n'a pas de remise de carnets sous ce numéro.",
};

/// `/commanditaire/commandes/{id}/remises/{n}.pdf`: the procès-verbal of move n.
pub async fn handover_pdf(
    State(st): State<AppState>,
    FunderOrder(_, order): FunderOrder,
    Path((_, file)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let n = crate::ui::ordering::pdf_number(&file).ok_or(MOVE_NOT_FOUND)?;
    match passnum_app::handover::handover_pdf(&st.store, order.id, n).await {
        Ok(bytes) => Ok(crate::api::keys::pdf(
            bytes,
            &format!("commande-{}-remise-{n}.pdf", order.id.0),
        )),
        Err(passnum_app::booklets::PrintError::Store(passnum_store::StoreError::NotFound)) => {
            Err(MOVE_NOT_FOUND)
        }
        Err(e) => Ok(crate::api::keys::print_error(e).into_response()),
    }
}

#[derive(Template)]
#[template(path = "inventaire.html")]
struct InventoryPage {
    layout: Layout,
    id: i64,
    /// As typed (JJ/MM/AAAA), kept on error.
    date: String,
    /// "30/06/2026", when the date was read.
    day: Option<String>,
    error: Option<String>,
    /// Empty when the order was not yet issued that day.
    lines: Vec<passnum_store::HolderInventory>,
}

#[derive(Deserialize)]
pub struct InventoryQuery {
    #[serde(default)]
    date: Option<String>,
}

/// `/commanditaire/commandes/{id}/inventaire?date=JJ/MM/AAAA`: each holder's booklets at the
/// end of that day, Paris time (today by default).
pub async fn inventory(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Query(q): Query<InventoryQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let today = paris::local_date(st.clock.now());
    let typed = q.date.unwrap_or_default();
    let parsed = if typed.trim().is_empty() {
        Ok(today)
    } else {
        Date::parse(
            &super::french_date(&typed),
            &time::format_description::well_known::Iso8601::DATE,
        )
    };
    let mut page = InventoryPage {
        layout: Layout::new(
            format!("Inventaire des carnets de la commande n° {id}"),
            Some(&staff),
            &csrf,
            "",
        ),
        id,
        date: typed.clone(),
        day: None,
        error: None,
        lines: vec![],
    };
    let status = match parsed.map(|d| (d, d.next_day())) {
        Ok((day, Some(next))) => {
            let end = paris::from_local(next, time::Time::MIDNIGHT).plus_ms(-1);
            match st.store.inventory_at(order.id, end).await {
                Ok(lines) => {
                    page.lines = lines;
                    page.day = Some(paris::format_date(day));
                    if typed.trim().is_empty() {
                        page.date = paris::format_date(day);
                    }
                    StatusCode::OK
                }
                Err(_) => return PageError::Unavailable.into_response(),
            }
        }
        Ok((_, None)) | Err(_) => {
            page.error =
                Some("Indiquez une date au format JJ/MM/AAAA, par exemple 30/06/2026.".to_string());
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    render(status, &page, &csrf)
}
