//! One imported place, read by the operator, who may open a venue's file from it: an
//! application like any other ("Candidature"), with the place's name, address and contact.

use super::*;
use passnum_core::OrgNumber;
use passnum_core::text::{MAX_TYPED_ID_CHARS, kept};
use passnum_store::CandidateDetail;

#[derive(Template)]
#[template(path = "operateur_candidat.html")]
pub(super) struct CandidatePage {
    layout: Layout,
    c: CandidateDetail,
    commune: String,
    services: Vec<String>,
    siret: String,
    errors: FieldErrors,
}

async fn candidate_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    id: i64,
) -> Result<CandidatePage, crate::ui::PageError> {
    let c = match st.store.candidate(id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return Err(crate::ui::PageError::NotFound {
                heading: "Lieu importé introuvable",
                text: "Ce lieu importé n'existe pas. Revenez à la liste des lieux importés.",
            });
        }
        Err(e) => return Err(crate::ui::PageError::unavailable(e, "lieu importé")),
    };
    // The source's SIRET, when it is one, is offered; the operator checks it.
    let siret = c
        .pivot
        .as_deref()
        .and_then(|p| OrgNumber::parse(p).ok())
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    Ok(CandidatePage {
        layout: Layout::new(&c.name, Some(staff), csrf, "/operateur/lieux"),
        commune: format!(
            "{} ({})",
            crate::ui::directory::commune_name(&c.commune_insee),
            c.postcode
        ),
        services: c
            .services
            .split('|')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        siret,
        c,
        errors: FieldErrors::default(),
    })
}

pub async fn candidate(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = candidate_page(&st, &staff, &csrf, id).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

#[derive(Deserialize)]
pub struct OpenFileForm {
    #[serde(default)]
    siret: String,
}

pub async fn open_candidate_file(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<OpenFileForm>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = candidate_page(&st, &staff, &csrf, id).await?;
    page.siret = kept(&f.siret, MAX_TYPED_ID_CHARS);
    if !token_ok {
        page.errors.add("siret", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let number = match OrgNumber::parse(&f.siret) {
        Ok(n) => n,
        Err(e) => {
            page.errors.add("siret", e.to_string());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    match st
        .store
        .open_file_from_candidate(id, number, staff.id, st.clock.now())
        .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/operateur/lieux/{}", v.id.0)).into_response()),
        Err(StoreError::Conflict { message, .. } | StoreError::Invalid { message, .. }) => {
            page.errors.add("siret", message);
            Ok(render(StatusCode::CONFLICT, &page, &csrf))
        }
        Err(e) => Err(crate::ui::PageError::unavailable(e, "lieu importé")),
    }
}
