//! After a handout: the orientation slip, and blocking a booklet reported lost or stolen.

use super::*;

#[derive(Template)]
#[template(path = "orientation.html")]
pub(super) struct OrientationPage {
    layout: Layout,
    id: i64,
    structure: String,
    order: i64,
    number: i64,
    when: String,
    needs: String,
    venues: Vec<SuggestedVenue>,
    public_url: String,
}

pub async fn orientation(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Path(id): Path<i64>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let h = match st.store.get_handout(d, id).await {
        Ok(h) => h,
        Err(StoreError::NotFound) => {
            return crate::ui::message(
                StatusCode::NOT_FOUND,
                Some(&staff),
                &csrf,
                "Remise introuvable",
                "Cette remise n'existe pas ou appartient à une autre structure. Retrouvez vos remises sur la page « Stock et remises ».",
            );
        }
        Err(e) => return crate::ui::PageError::unavailable(e, "orientation").into_response(),
    };
    let today = paris::local_date(st.clock.now());
    let venues = match crate::orientation::suggest(&st.store, &st.directory, &h, today).await {
        Ok(v) => v,
        Err(e) => return crate::ui::PageError::unavailable(e, "orientation").into_response(),
    };
    let page = OrientationPage {
        layout: Layout::new("Lieux conseillés", Some(&staff), &csrf, ""),
        id: h.id,
        structure: structure_name(&st, d).await,
        order: h.order_id.0,
        number: h.booklet_number,
        when: paris::format_date(paris::local_date(h.handed_out_at)),
        needs: h
            .diagnostic()
            .needs
            .iter()
            .map(|n| {
                // "Faire ses démarches…" → "faire ses démarches…", keeping "CAF" as it is.
                let label = n.label();
                let mut chars = label.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_lowercase().chain(chars).collect::<String>()
                })
            })
            .collect::<Vec<_>>()
            .join(" ; "),
        venues,
        public_url: st.deploy.public_url.clone(),
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    motif: String,
    #[serde(default)]
    confirmation: Option<String>,
}

/// A booklet this structure handed out is reported lost or stolen: after an explicit
/// confirmation, its unused cheques are blocked.
pub async fn block(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Path(id): Path<i64>,
    PageForm(f): PageForm<BlockForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let say = |status, heading: &str, text: &str| {
        crate::ui::message(status, Some(&staff), &csrf, heading, text)
    };
    if f.confirmation.is_none() {
        return say(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Carnet non bloqué",
            "Cochez la case de confirmation pour bloquer le carnet : rien n'a été changé.",
        );
    }
    let stolen = f.motif == "vole";
    match st
        .store
        .block_handed_out_booklet(d, id, stolen, st.clock.now())
        .await
    {
        Ok(n) => say(
            StatusCode::OK,
            "Carnet bloqué",
            &format!(
                "Les {n} chèques non utilisés de ce carnet sont refusés dès maintenant. Leur valeur revient au commanditaire en fin de validité."
            ),
        ),
        Err(StoreError::NotFound) => say(
            StatusCode::NOT_FOUND,
            "Remise introuvable",
            "Cette remise n'existe pas ou appartient à une autre structure.",
        ),
        Err(StoreError::Conflict { message, .. }) => {
            say(StatusCode::CONFLICT, "Carnet déjà bloqué", &message)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "blocage").into_response(),
    }
}
