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
    /// The create-or-rename form as typed (kept when refused).
    draft: passnum_core::ServiceDraft,
    history: Vec<HistoryLine>,
}

pub struct HistoryLine {
    pub at: String,
    pub code: String,
    pub by: String,
    pub change: String,
}

async fn referentiel_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
) -> Result<ReferentielPage, crate::ui::PageError> {
    let unavailable = |e| crate::ui::PageError::unavailable(e, "référentiel");
    let services = st.store.list_services().await.map_err(unavailable)?;
    let history = st.store.service_changes(30, 0).await.map_err(unavailable)?;
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
        draft: Default::default(),
        history: history
            .into_iter()
            .map(|h| HistoryLine {
                at: passnum_core::paris::format_moment(h.at),
                code: h.code,
                by: h.by,
                change: h.change,
            })
            .collect(),
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
        .update_service(
            f.code.trim(),
            active,
            standard,
            passnum_store::ChangeAuthor::Staff(staff.id),
            st.clock.now(),
        )
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

/// Creates a service or renames it (its category, its level): one form, the code decides.
pub async fn save_service(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<passnum_core::ServiceDraft>,
) -> Result<Response, crate::ui::PageError> {
    use passnum_core::text::{MAX_NAME_CHARS, kept};
    let csrf = Csrf::from_headers(&headers);
    let mut page = referentiel_page(&st, &staff, &csrf).await?;
    page.draft = passnum_core::ServiceDraft {
        code: kept(&f.code, 20),
        level_name: kept(&f.level_name, MAX_NAME_CHARS + 1),
        category_name: kept(&f.category_name, MAX_NAME_CHARS + 1),
        name: kept(&f.name, MAX_NAME_CHARS + 1),
    };
    if !token_ok {
        page.errors.add("new_code", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let draft = match f.check() {
        Ok(d) => d,
        Err(e) => {
            page.errors
                .add(&format!("new_{}", e.field()), e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    match st
        .store
        .save_service(
            &draft,
            passnum_store::ChangeAuthor::Staff(staff.id),
            st.clock.now(),
        )
        .await
    {
        Ok((s, _)) => {
            st.directory.invalidate();
            Ok(
                Redirect::to(&format!("/operateur/referentiel?enregistre={}", s.code))
                    .into_response(),
            )
        }
        Err(StoreError::Invalid { code, message }) => {
            let field = if code == "invalid_level_name" {
                "new_level_name"
            } else {
                "new_category_name"
            };
            page.errors.add(field, message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf))
        }
        Err(e) => Err(crate::ui::PageError::unavailable(e, "référentiel")),
    }
}
