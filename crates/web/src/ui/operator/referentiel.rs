//! The operator's référentiel: every service with whether it is offered and its value in the
//! national venue standard, and the form that changes them (a service is never deleted).

use super::*;

pub struct ServiceLine {
    pub code: String,
    pub name: String,
    pub category: String,
    pub active: bool,
    pub standard: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "operateur_referentiel.html")]
pub(super) struct ReferentielPage {
    layout: Layout,
    services: Vec<ServiceLine>,
    standard_values: Vec<&'static str>,
    code: String,
    saved: String,
    errors: FieldErrors,
}

async fn referentiel_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
) -> Result<ReferentielPage, crate::ui::PageError> {
    let services = st
        .store
        .list_services()
        .await
        .map_err(|e| crate::ui::PageError::unavailable(e, "référentiel"))?;
    Ok(ReferentielPage {
        layout: Layout::new(
            "Référentiel des services",
            Some(staff),
            csrf,
            "/operateur/lieux",
        ),
        services: services
            .into_iter()
            .map(|s| ServiceLine {
                standard: passnum_core::standard::standard_service(
                    &s.standard_service,
                    &s.category_code,
                    s.level,
                )
                .to_string(),
                chosen: !s.standard_service.is_empty(),
                code: s.code.to_string(),
                name: s.name,
                category: format!("{} — {}", s.category_code, s.category_name),
                active: s.active,
            })
            .collect(),
        standard_values: passnum_core::standard::SERVICES.to_vec(),
        code: String::new(),
        saved: String::new(),
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    enregistre: Option<String>,
}

pub async fn referentiel(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = referentiel_page(&st, &staff, &csrf).await?;
    if let Some(code) = q.enregistre {
        page.saved = format!(
            "Service {} enregistré.",
            code.chars().take(20).collect::<String>()
        );
    }
    Ok(render(StatusCode::OK, &page, &csrf))
}

#[derive(Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    standard: String,
}

pub async fn update_service(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<ServiceForm>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = referentiel_page(&st, &staff, &csrf).await?;
    page.code = f.code.chars().take(20).collect();
    if !token_ok {
        page.errors.add("code", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let active = match f.active.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    };
    // "auto" returns to the category's value; an empty choice leaves it as it is.
    let standard = match f.standard.as_str() {
        "" => None,
        "auto" => Some(""),
        v => Some(v),
    };
    match st
        .store
        .update_service(f.code.trim(), active, standard)
        .await
    {
        Ok(s) => {
            st.directory.invalidate();
            Ok(
                Redirect::to(&format!("/operateur/referentiel?enregistre={}", s.code))
                    .into_response(),
            )
        }
        Err(StoreError::NotFound) => {
            page.errors
                .add("code", "Choisissez un service de la liste.");
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(StoreError::Invalid { message, .. }) => {
            page.errors.add("standard", message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(e) => Err(crate::ui::PageError::unavailable(e, "référentiel")),
    }
}
