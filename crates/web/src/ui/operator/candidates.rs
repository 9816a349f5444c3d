//! Places imported from the national venue standard (`passnum venues import`): the links to
//! confirm first, then those made at once and the places standing alone.

use super::*;
use axum::extract::Query;
use passnum_core::duplicates::Verdict;
use passnum_store::KnownKind;

pub struct CandidateLine {
    pub id: i64,
    pub name: String,
    pub place: String,
    pub origin: String,
    pub matched: String,
    pub score: String,
}

pub struct VerdictTab {
    pub value: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "operateur_candidats.html")]
pub(super) struct CandidatesPage {
    layout: Layout,
    tabs: Vec<VerdictTab>,
    suggestions: bool,
    view: &'static str,
    page: i64,
    more: bool,
    total: i64,
    candidates: Vec<CandidateLine>,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct CandidatesQuery {
    #[serde(default)]
    vue: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

/// Imported places shown per page.
const PAGE: i64 = 50;

const VIEWS: [(&str, &str, Verdict); 3] = [
    ("suggest", "À confirmer", Verdict::Suggest),
    ("link", "Reliés", Verdict::Link),
    ("new", "Sans doublon", Verdict::New),
];

async fn candidates_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    view: &str,
    page: i64,
) -> Result<CandidatesPage, crate::ui::PageError> {
    let unavailable = |e| crate::ui::PageError::unavailable(e, "lieux importés");
    let (view, _, verdict) = VIEWS
        .iter()
        .find(|(v, _, _)| *v == view)
        .copied()
        .unwrap_or(VIEWS[0]);
    let page = page.clamp(1, 100_000);
    let (total, _, _) = st.store.candidate_counts().await.map_err(unavailable)?;
    let mut rows = st
        .store
        .list_candidates(verdict, PAGE + 1, (page - 1) * PAGE)
        .await
        .map_err(unavailable)?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    Ok(CandidatesPage {
        layout: Layout::new("Lieux importés", Some(staff), csrf, "/operateur/lieux"),
        tabs: VIEWS
            .iter()
            .map(|(value, label, v)| VerdictTab {
                value,
                label,
                current: *v == verdict,
            })
            .collect(),
        suggestions: verdict == Verdict::Suggest,
        view,
        page,
        more,
        total,
        candidates: rows
            .into_iter()
            .map(|c| CandidateLine {
                id: c.id,
                place: format!(
                    "{}, {}",
                    c.address,
                    crate::ui::directory::commune_name(&c.commune_insee)
                ),
                origin: format!("{} (id {})", c.source, c.source_id),
                matched: c
                    .matched
                    .map(|(kind, id, name, address)| match kind {
                        KnownKind::Venue => format!("lieu n° {id} : {name}, {address}"),
                        KnownKind::Candidate => format!("lieu importé n° {id} : {name}, {address}"),
                    })
                    .unwrap_or_default(),
                score: c
                    .score_pm
                    .map(|s| format!("{},{:02}", s / 1000, (s % 1000) / 10))
                    .unwrap_or_default(),
                name: c.name,
            })
            .collect(),
        errors: FieldErrors::default(),
    })
}

pub async fn candidates(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(q): Query<CandidatesQuery>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let view = q.vue.unwrap_or_default();
    let page = candidates_page(&st, &staff, &csrf, &view, q.page.unwrap_or(1)).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

#[derive(Deserialize)]
pub struct SettleForm {
    #[serde(default)]
    decision: String,
}

pub async fn settle_candidate(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<SettleForm>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let mut page = candidates_page(&st, &staff, &csrf, "suggest", 1).await?;
    if !token_ok {
        page.errors.add("liste", crate::ui::STALE_FORM);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let confirm = match f.decision.as_str() {
        "confirmer" => true,
        "ecarter" => false,
        _ => {
            page.errors
                .add("liste", "Choisissez de confirmer ou d'écarter.");
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    match st.store.settle_candidate_link(id, confirm).await {
        Ok(()) => Ok(Redirect::to("/operateur/candidats").into_response()),
        Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("liste", message);
            Ok(render(StatusCode::CONFLICT, &page, &csrf))
        }
        Err(e) => Err(crate::ui::PageError::unavailable(e, "lieux importés")),
    }
}
