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
    /// The order's last day of validity, JJ/MM/AAAA.
    valid_until: String,
    needs: String,
    /// When the diagnostic answers were erased (retention), JJ/MM/AAAA.
    answers_erased: Option<String>,
    venues: Vec<SuggestedVenue>,
    public_url: String,
    /// "Pour réserver : carnet 3-12, code ABCD-EFGH".
    booking: String,
    /// Workshops the agent can book now: (id, "mardi … — Titre, Lieu (3 places libres)").
    workshops: Vec<(i64, String)>,
    /// This booklet's bookings, in words.
    booked: Vec<String>,
    done: bool,
}

#[derive(Deserialize, Default)]
pub struct SlipQuery {
    #[serde(default)]
    reserve: Option<String>,
}

pub async fn orientation(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<SlipQuery>,
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
    let (booking, workshops, booked) = match booking_lines(&st, &h, &venues).await {
        Ok(b) => b,
        Err(e) => return crate::ui::PageError::unavailable(e, "orientation").into_response(),
    };
    let valid_until = match st.store.get_order(h.order_id).await {
        Ok(o) => paris::format_date(o.valid_until),
        Err(e) => return crate::ui::PageError::unavailable(e, "orientation").into_response(),
    };
    let page = OrientationPage {
        valid_until,
        booking,
        workshops,
        booked,
        done: q.reserve.is_some(),
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
        answers_erased: h
            .answers_erased_at
            .map(|t| paris::format_date(paris::local_date(t))),
        venues,
        public_url: st.deploy.public_url.clone(),
    };
    render(StatusCode::OK, &page, &csrf)
}

/// The booking code as the slip prints it, the workshops the agent can book now, and the
/// booklet's bookings.
async fn booking_lines(
    st: &AppState,
    h: &passnum_store::HandoutRecord,
    venues: &[SuggestedVenue],
) -> Result<(String, Vec<(i64, String)>, Vec<String>), StoreError> {
    let now = st.clock.now();
    let Ok(code) = st.store.booking_code(h.order_id, h.booklet_number).await else {
        return Ok((String::new(), vec![], vec![]));
    };
    let booking = format!(
        "Pour réserver un atelier : carnet {}-{}, code {}",
        h.order_id.0,
        h.booklet_number,
        passnum_core::workshop::display_booking_code(&code)
    );
    let free = crate::orientation::workshops_for(&st.store, h, venues, now).await?;
    let key = passnum_store::BookletKey {
        order_id: h.order_id,
        number: h.booklet_number,
        code: Some(code),
    };
    let booked: Vec<String> = st
        .store
        .booklet_bookings(&key)
        .await?
        .into_iter()
        .filter(|(b, _)| matches!(b.status.as_str(), "booked" | "waiting"))
        .map(|(b, w)| {
            format!(
                "{} — {} : {}",
                paris::format_long(w.starts_at),
                w.title,
                crate::ui::workshops::status_label(&b.status).to_lowercase()
            )
        })
        .collect();
    let workshops = free
        .into_iter()
        .map(|(w, venue)| {
            let n = w.free_places();
            (
                w.id,
                format!(
                    "{} — {}, {} ({} place{} libre{})",
                    paris::format_long(w.starts_at),
                    w.title,
                    venue,
                    n,
                    if n > 1 { "s" } else { "" },
                    if n > 1 { "s" } else { "" }
                ),
            )
        })
        .collect();
    Ok((booking, workshops, booked))
}

/// The agent books a place for the person, right after the handout: the structure holds the
/// booklet, no code needed.
pub async fn book_workshop(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Path((id, workshop)): Path<(i64, i64)>,
    PageForm(_): PageForm<crate::ui::NoFields>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let say = |status, heading: &str, text: &str| {
        crate::ui::message(status, Some(&staff), &csrf, heading, text)
    };
    let h = match st.store.get_handout(d, id).await {
        Ok(h) => h,
        Err(StoreError::NotFound) => {
            return say(
                StatusCode::NOT_FOUND,
                "Remise introuvable",
                "Cette remise n'existe pas ou appartient à une autre structure.",
            );
        }
        Err(e) => return crate::ui::PageError::unavailable(e, "réservation").into_response(),
    };
    let key = passnum_store::BookletKey {
        order_id: h.order_id,
        number: h.booklet_number,
        code: None,
    };
    match st
        .store
        .book(
            workshop,
            &key,
            passnum_store::BookedBy::Agent(d),
            None,
            st.clock.now(),
        )
        .await
    {
        Ok(_) => axum::response::Redirect::to(&format!("/structure/remises/{id}?reserve=1"))
            .into_response(),
        Err(StoreError::Invalid { message, .. } | StoreError::Conflict { message, .. }) => {
            say(StatusCode::CONFLICT, "Réservation impossible", &message)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "réservation").into_response(),
    }
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
