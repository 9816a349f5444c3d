//! The operator's venues: list, creation, qualification, suspension, revocation.

use super::*;
use passnum_core::text::{MAX_ADDRESS_CHARS, MAX_NAME_CHARS, MAX_TYPED_ID_CHARS, kept};

pub struct VenueRow {
    pub id: i64,
    pub name: String,
    pub siret: String,
    pub commune: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub until: String,
}

#[derive(Template)]
#[template(path = "operateur_lieux.html")]
pub(super) struct VenuesPage {
    layout: Layout,
    venues: Vec<VenueRow>,
    siret: String,
    name: String,
    commune: String,
    qualified: bool,
    address: String,
    contact: String,
    opening_hours: String,
    accessibility: String,
    services: String,
    errors: FieldErrors,
}

pub fn status_label(s: VenueStatus) -> &'static str {
    match s {
        VenueStatus::Applied => "Candidature",
        VenueStatus::Qualified => "Qualifié",
        VenueStatus::Suspended => "Suspendu",
        VenueStatus::Revoked => "Retiré",
    }
}

pub(super) async fn venues_page(st: &AppState, staff: &StaffMember, csrf: &Csrf) -> VenuesPage {
    VenuesPage {
        layout: Layout::new("Lieux de médiation", Some(staff), csrf, "/operateur/lieux"),
        venues: st
            .store
            .list_venues(500, 0)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|v| VenueRow {
                id: v.id.0,
                siret: Siret::parse(&v.siret)
                    .map(|s| s.to_string())
                    .unwrap_or(v.siret),
                name: v.name,
                commune: v.commune_insee,
                status: v.status.as_str(),
                status_label: status_label(v.status),
                until: v
                    .qualified_until
                    .map(paris::format_date)
                    .unwrap_or_default(),
            })
            .collect(),
        siret: String::new(),
        name: String::new(),
        commune: String::new(),
        qualified: false,
        address: String::new(),
        contact: String::new(),
        opening_hours: String::new(),
        accessibility: String::new(),
        services: String::new(),
        errors: FieldErrors::default(),
    }
}

pub async fn venues(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &venues_page(&st, &staff, &csrf).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct VenueForm {
    #[serde(default)]
    siret: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    qualified: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    opening_hours: String,
    #[serde(default)]
    accessibility: String,
    #[serde(default)]
    services: String,
}

pub async fn create_venue(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<VenueForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = venues_page(&st, &staff, &csrf).await;
    page.siret = kept(&f.siret, MAX_TYPED_ID_CHARS);
    page.name = kept(&f.name, MAX_NAME_CHARS);
    page.commune = kept(&f.commune, MAX_TYPED_ID_CHARS);
    page.qualified = f.qualified.is_some();
    page.address = kept(&f.address, MAX_ADDRESS_CHARS);
    page.contact = kept(&f.contact, MAX_ADDRESS_CHARS);
    page.opening_hours = f.opening_hours.chars().take(600).collect();
    page.accessibility = f.accessibility.chars().take(600).collect();
    page.services = f.services.chars().take(1000).collect();
    if !token_ok {
        page.errors.add("siret", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let siret = Siret::parse(&f.siret)
        .map_err(|e| page.errors.add("siret", e.to_string()))
        .ok();
    if f.name.trim().is_empty() {
        page.errors.add("name", "Indiquez le nom du lieu.");
    }
    // Checked here so that the venue is not created when its practical info is refused.
    for (field, text) in [
        ("opening_hours", &f.opening_hours),
        ("accessibility", &f.accessibility),
    ] {
        if text.trim().chars().count() > 500 {
            page.errors.add(field, "500 caractères au plus.");
        }
    }
    let commune = InseeCode::parse_known(&f.commune)
        .map_err(|e| page.errors.add("commune", e.to_string()))
        .ok();
    let (Some(siret), Some(commune)) = (siret, commune) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let v = NewVenue {
        siret,
        name: f.name,
        commune,
        status: if page.qualified {
            VenueStatus::Qualified
        } else {
            VenueStatus::Applied
        },
        qualified_until: None,
        address: f.address,
        contact: f.contact,
        services: f
            .services
            .split([',', ' ', ';'])
            .filter(|c| !c.trim().is_empty())
            .map(str::to_string)
            .collect(),
    };
    match st.store.create_venue(&v, st.clock.now()).await {
        Ok(created) => {
            st.directory.invalidate();
            if let Err(e) = st
                .store
                .set_venue_practical_info(created.id, &f.opening_hours, &f.accessibility)
                .await
            {
                return crate::ui::PageError::unavailable(e, "page opérateur").into_response();
            }
            Redirect::to("/operateur/lieux").into_response()
        }
        Err(StoreError::Conflict { message, .. }) | Err(StoreError::Invalid { message, .. }) => {
            page.errors.add("siret", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_venue_status(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<StatusForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = venues_page(&st, &staff, &csrf).await;
    if !token_ok {
        page.errors.add("siret", crate::ui::STALE_FORM);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let Some(status) = VenueStatus::parse(&f.status) else {
        page.errors.add("siret", "Statut inconnu.");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    match st.store.set_venue_status(VenueId(id), status, None).await {
        Ok(_) => {
            st.directory.invalidate();
            Redirect::to("/operateur/lieux").into_response()
        }
        Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("siret", message);
            render(StatusCode::CONFLICT, &page, &csrf)
        }
        Err(StoreError::NotFound) => crate::ui::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Lieu introuvable",
            "Ce lieu n'existe pas.",
        ),
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}
