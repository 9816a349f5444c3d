//! A venue's file as the operator reviews it: the application, the catalogue, the supporting
//! documents, every status with who decided and why, and the decision form.

use super::*;
use passnum_core::StatusDecision;
use passnum_core::catalogue::ServiceFormat;

pub struct CatalogueLine {
    pub code: String,
    pub name: String,
    pub format: &'static str,
}

pub struct DocumentLine {
    pub id: i64,
    pub name: String,
    pub size: String,
}

pub struct HistoryLine {
    pub at: String,
    pub label: &'static str,
    pub by: String,
    pub until: String,
    pub reason: String,
}

pub struct Choice {
    pub status: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "operateur_lieu.html")]
pub(super) struct VenueFilePage {
    layout: Layout,
    id: i64,
    name: String,
    number: String,
    status_label: &'static str,
    until: String,
    commune: String,
    address: String,
    contact: String,
    opening_hours: String,
    accessibility: String,
    legal_representative: String,
    charter: String,
    applied_at: String,
    catalogue: Vec<CatalogueLine>,
    documents: Vec<DocumentLine>,
    history: Vec<HistoryLine>,
    choices: Vec<Choice>,
    /// The id of the first radio button, where an error about the choice points.
    first_choice: String,
    chosen_until: String,
    reason: String,
    errors: FieldErrors,
}

fn size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} Mo", bytes as f64 / 1_048_576.0).replace('.', ",")
    } else {
        format!("{} ko", (bytes + 1023) / 1024)
    }
}

async fn file_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    id: VenueId,
) -> Result<VenueFilePage, crate::ui::PageError> {
    let unavailable = |e| crate::ui::PageError::unavailable(e, "dossier du lieu");
    let v = match st.store.get_venue(id).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => {
            return Err(crate::ui::PageError::NotFound {
                heading: "Lieu introuvable",
                text: "Ce lieu, ou ce document, n'existe pas.",
            });
        }
        Err(e) => return Err(unavailable(e)),
    };
    let names: std::collections::HashMap<String, String> = st
        .store
        .list_services()
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|s| (s.code.to_string(), s.name))
        .collect();
    let catalogue = st
        .store
        .venue_catalogue(id)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|(code, f): (String, ServiceFormat)| CatalogueLine {
            name: names.get(&code).cloned().unwrap_or_default(),
            code,
            format: f.label(),
        })
        .collect();
    let documents = st
        .store
        .venue_documents(id)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|d| DocumentLine {
            id: d.id,
            name: d.file_name,
            size: size(d.size_bytes),
        })
        .collect();
    let history = st
        .store
        .venue_status_history(id)
        .await
        .map_err(unavailable)?
        .into_iter()
        .rev()
        .map(|c| HistoryLine {
            at: paris::format_moment(c.at),
            label: c.to.label(),
            by: c
                .by_name
                .unwrap_or_else(|| "passnum (tâche ou commande)".into()),
            until: c
                .qualified_until
                .filter(|_| c.to == VenueStatus::Qualified)
                .map(paris::format_date)
                .unwrap_or_default(),
            reason: c.reason,
        })
        .collect();
    let today = paris::local_date(st.clock.now());
    let choices = choices_from(v.status);
    Ok(VenueFilePage {
        layout: Layout::new(
            format!("Dossier — {}", v.name),
            Some(staff),
            csrf,
            "/operateur/lieux",
        ),
        id: v.id.0,
        number: passnum_core::org_number::display_stored(&v.siret),
        status_label: v.status.label(),
        until: v
            .qualified_until
            .map(paris::format_date)
            .unwrap_or_default(),
        commune: crate::ui::directory::commune_name(&v.commune_insee),
        address: v.address,
        contact: v.contact,
        opening_hours: v.opening_hours,
        accessibility: v.accessibility,
        legal_representative: v.legal_representative,
        charter: v
            .charter_accepted_at
            .map(paris::format_moment)
            .unwrap_or_default(),
        applied_at: paris::format_moment(v.created_at),
        catalogue,
        documents,
        history,
        first_choice: choices
            .first()
            .map(|c| format!("status-{}", c.status))
            .unwrap_or_else(|| "reason".into()),
        choices,
        // A year, the usual length of a qualification.
        chosen_until: crate::api::dto::date_out(
            today.replace_year(today.year() + 1).unwrap_or(today),
        ),
        reason: String::new(),
        name: v.name,
        errors: FieldErrors::default(),
    })
}

/// The decisions the current status allows.
fn choices_from(current: VenueStatus) -> Vec<Choice> {
    VenueStatus::ALL
        .into_iter()
        .filter(|n| current.can_become(*n))
        .map(|n| Choice {
            status: n.as_str(),
            label: decision_label(n),
            checked: false,
        })
        .collect()
}

/// What the operator does, as a verb.
fn decision_label(s: VenueStatus) -> &'static str {
    match s {
        VenueStatus::Applied => "Remettre dans les nouvelles candidatures",
        VenueStatus::Waiting => "Demander un complément au lieu",
        VenueStatus::Qualified => "Qualifier",
        VenueStatus::Refused => "Refuser la candidature",
        VenueStatus::Suspended => "Suspendre",
        VenueStatus::Expired => "Clore la qualification",
        VenueStatus::Revoked => "Retirer la qualification (définitif)",
    }
}

pub async fn venue_file(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = file_page(&st, &staff, &csrf, VenueId(id)).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
    /// "Je confirme", required to suspend or revoke: the venue stops taking cheques at once.
    #[serde(default)]
    confirmation: Option<String>,
}

pub async fn decide(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<DecisionForm>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = file_page(&st, &staff, &csrf, VenueId(id)).await?;
    page.reason = f
        .reason
        .chars()
        .take(passnum_core::venue::MAX_REASON_CHARS + 100)
        .collect();
    page.chosen_until = f.until.chars().take(20).collect();
    for c in &mut page.choices {
        c.checked = c.status == f.status;
    }
    let first = page.first_choice.clone();
    if !token_ok {
        page.errors.add(&first, crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let Some(status) = VenueStatus::parse(&f.status) else {
        page.errors.add(&first, "Choisissez une décision.");
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    };
    if matches!(status, VenueStatus::Suspended | VenueStatus::Revoked)
        && f.confirmation.as_deref() != Some("1")
    {
        page.errors.add(
            "confirmation",
            "Cochez « Je confirme » : suspendre ou retirer la qualification empêche le lieu d'encaisser des chèques dès maintenant.",
        );
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
    }
    let until = if status == VenueStatus::Qualified && !f.until.trim().is_empty() {
        match crate::api::dto::date_in("until", &f.until) {
            Ok(d) => Some(d),
            Err(_) => {
                page.errors.add(
                    "until",
                    "Indiquez la date de fin (par exemple 2027-12-31), ou laissez le champ vide pour une qualification sans fin.",
                );
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
            }
        }
    } else {
        None
    };
    let decision = StatusDecision {
        to: status,
        qualified_until: until,
        reason: f.reason,
    };
    match st
        .store
        .set_venue_status(VenueId(id), &decision, Some(staff.id), st.clock.now())
        .await
    {
        Ok(_) => {
            st.directory.invalidate();
            Ok(Redirect::to(&format!("/operateur/lieux/{id}")).into_response())
        }
        Err(StoreError::Conflict { code, message })
        | Err(StoreError::Invalid { code, message }) => {
            let field = match code {
                "reason_missing" | "invalid_venue" => "reason".to_string(),
                "qualification_end_in_the_past" => "until".to_string(),
                _ => first,
            };
            page.errors.add(&field, message);
            Ok(render(StatusCode::CONFLICT, &page, &csrf))
        }
        Err(StoreError::NotFound) => Err(crate::ui::PageError::NotFound {
            heading: "Lieu introuvable",
            text: "Ce lieu, ou ce document, n'existe pas.",
        }),
        Err(e) => Err(crate::ui::PageError::unavailable(e, "dossier du lieu")),
    }
}

/// A supporting document, downloaded (never shown inline: it comes from outside).
pub fn document_download(d: passnum_core::application::Document) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, d.kind.mime().to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", d.file_name),
            ),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_string(),
            ),
        ],
        d.bytes,
    )
        .into_response()
}

pub async fn venue_document(
    State(st): State<AppState>,
    OperatorStaff(_staff): OperatorStaff,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, crate::ui::PageError> {
    match st.store.venue_document(VenueId(id), doc).await {
        Ok(d) => Ok(document_download(d)),
        Err(StoreError::NotFound) => Err(crate::ui::PageError::NotFound {
            heading: "Lieu introuvable",
            text: "Ce lieu, ou ce document, n'existe pas.",
        }),
        Err(e) => Err(crate::ui::PageError::unavailable(e, "document")),
    }
}
