//! A funder's own publics for one order (issue 16): added next to the national list, reworded,
//! retired after a confirmation (never deleted: handouts name them).

use axum::extract::{Path, State};
use axum::response::Redirect;
use passnum_core::own_public::{
    MAX_CRITERIA_CHARS, MAX_LABEL_CHARS, NewOwnPublic, OwnPublic, OwnPublicError, OwnPublicId,
    OwnPublicRequest,
};
use passnum_store::StoreError;

use super::*;
use crate::ui::PageError;
use crate::ui::Submitted;

const PUBLIC_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Public introuvable",
    text: "Cette commande n'a pas de public propre sous ce numéro.",
};

#[derive(Template)]
#[template(path = "publics.html")]
struct PublicsPage {
    layout: Layout,
    id: i64,
    /// The national publics, by label, for the reminder above the form.
    national: Vec<&'static str>,
    publics: Vec<OwnPublic>,
    /// The public being changed, when the form changes one.
    editing: Option<OwnPublic>,
    f: PublicForm,
    errors: FieldErrors,
    max_label: usize,
    max_criteria: usize,
}

#[derive(Deserialize, Default)]
pub struct PublicForm {
    #[serde(default)]
    libelle: String,
    #[serde(default)]
    age_min: String,
    #[serde(default)]
    age_max: String,
    #[serde(default)]
    criteres: String,
    #[serde(default)]
    cible: Option<String>,
}

impl PublicForm {
    /// What the page shows back, cut to what a field may hold.
    fn kept(&self) -> Self {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        Self {
            libelle: cut(&self.libelle, MAX_LABEL_CHARS + 20),
            age_min: cut(&self.age_min, 10),
            age_max: cut(&self.age_max, 10),
            criteres: cut(&self.criteres, MAX_CRITERIA_CHARS + 100),
            cible: self.cible.clone(),
        }
    }

    fn of(p: &OwnPublic) -> Self {
        let age = |a: Option<u8>| a.map(|a| a.to_string()).unwrap_or_default();
        Self {
            libelle: p.label.clone(),
            age_min: age(p.age.and_then(|a| a.min)),
            age_max: age(p.age.and_then(|a| a.max)),
            criteres: p.criteria.clone(),
            cible: p.target.then(|| "1".into()),
        }
    }

    fn request(&self) -> OwnPublicRequest {
        OwnPublicRequest {
            label: self.libelle.clone(),
            age_min: self.age_min.clone(),
            age_max: self.age_max.clone(),
            criteria: self.criteres.clone(),
            target: self.cible.is_some(),
        }
    }
}

async fn publics_page(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    csrf: &Csrf,
    order: OrderId,
    editing: Option<OwnPublicId>,
    f: Option<PublicForm>,
) -> Result<PublicsPage, PageError> {
    let publics = st
        .store
        .order_publics(order)
        .await
        .map_err(|e| PageError::unavailable(e, "publics"))?;
    let editing = match editing {
        None => None,
        Some(id) => Some(
            publics
                .iter()
                .find(|p| p.id == id)
                .cloned()
                .ok_or(PUBLIC_NOT_FOUND)?,
        ),
    };
    let f = f.unwrap_or_else(|| editing.as_ref().map(PublicForm::of).unwrap_or_default());
    let title = match &editing {
        Some(p) => format!("Public « {} » — commande n° {}", p.label, order.0),
        None => format!("Publics de la commande n° {}", order.0),
    };
    Ok(PublicsPage {
        layout: Layout::new(title, Some(staff), csrf, "/commanditaire"),
        id: order.0,
        national: passnum_core::order_options::Public::ALL
            .iter()
            .map(|p| p.label())
            .collect(),
        publics,
        editing,
        f,
        errors: FieldErrors::default(),
        max_label: MAX_LABEL_CHARS,
        max_criteria: MAX_CRITERIA_CHARS,
    })
}

/// `/commanditaire/commandes/{id}/publics`: the order's own publics and the form that adds one.
pub async fn publics(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = publics_page(&st, &staff, &csrf, order.id, None, None).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

/// `/commanditaire/commandes/{id}/publics/{p}`: one public in the form, to change or retire.
pub async fn public(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, p)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = publics_page(&st, &staff, &csrf, order.id, Some(OwnPublicId(p)), None).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

/// Adds a public; every refusal keeps what was typed and says what to fix.
pub async fn add_public(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Submitted { form: f, token_ok }: Submitted<PublicForm>,
) -> Result<Response, PageError> {
    save(&st, &headers, &staff, order.id, None, f, token_ok).await
}

/// Changes a public's label, band, criteria or target.
pub async fn update_public(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, p)): Path<(i64, i64)>,
    Submitted { form: f, token_ok }: Submitted<PublicForm>,
) -> Result<Response, PageError> {
    let p = Some(OwnPublicId(p));
    save(&st, &headers, &staff, order.id, p, f, token_ok).await
}

async fn save(
    st: &AppState,
    headers: &HeaderMap,
    staff: &passnum_store::StaffMember,
    order: OrderId,
    editing: Option<OwnPublicId>,
    f: PublicForm,
    token_ok: bool,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(headers);
    let mut page = publics_page(st, staff, &csrf, order, editing, Some(f.kept())).await?;
    if !token_ok {
        page.errors.add("libelle", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let p = match NewOwnPublic::parse(&f.request()) {
        Ok(p) => p,
        Err(e) => {
            page.errors.add(field_of(&e), e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    let saved = match editing {
        Some(id) => st.store.update_order_public(order, id, &p).await,
        None => {
            let by = staff.signature();
            st.store
                .add_order_public(order, &p, &by, st.clock.now())
                .await
        }
    };
    match saved {
        Ok(_) => Ok(
            Redirect::to(&format!("/commanditaire/commandes/{}/publics", order.0)).into_response(),
        ),
        Err(StoreError::NotFound) => Err(PUBLIC_NOT_FOUND),
        Err(StoreError::Invalid { message, .. } | StoreError::Conflict { message, .. }) => {
            page.errors.add("libelle", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(e) => Err(PageError::unavailable(e, "publics")),
    }
}

#[derive(Deserialize, Default)]
pub struct RetireForm {
    #[serde(default)]
    confirmation: Option<String>,
}

/// Retires a public once the funder ticked the confirmation.
pub async fn retire_public(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, p)): Path<(i64, i64)>,
    Submitted { form: f, token_ok }: Submitted<RetireForm>,
) -> Result<Response, PageError> {
    let csrf = Csrf::from_headers(&headers);
    let id = OwnPublicId(p);
    if !token_ok || f.confirmation.is_none() {
        let mut page = publics_page(&st, &staff, &csrf, order.id, Some(id), None).await?;
        let (status, message) = if token_ok {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Cochez la case pour confirmer le retrait de ce public.",
            )
        } else {
            (StatusCode::BAD_REQUEST, crate::ui::STALE_FORM_KEPT)
        };
        page.errors.add("confirmation", message);
        return Ok(render(status, &page, &csrf));
    }
    match st
        .store
        .retire_order_public(order.id, id, st.clock.now())
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/commanditaire/commandes/{}/publics", order.id.0))
                .into_response(),
        ),
        Err(StoreError::NotFound) => Err(PUBLIC_NOT_FOUND),
        Err(e) => Err(PageError::unavailable(e, "publics")),
    }
}

/// The form field a refusal is about.
fn field_of(e: &OwnPublicError) -> &'static str {
    match e {
        OwnPublicError::BadAge | OwnPublicError::AgeOrder => "age_min",
        OwnPublicError::CriteriaTooLong => "criteres",
        _ => "libelle",
    }
}
