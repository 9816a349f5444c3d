//! The operator's funders: list and creation.

use super::*;
use passnum_core::text::{MAX_NAME_CHARS, kept};

#[derive(Template)]
#[template(path = "operateur_commanditaires.html")]
pub(super) struct FundersPage {
    layout: Layout,
    funders: Vec<(i64, String, String)>,
    name: String,
    kind: String,
    kinds: Vec<&'static str>,
    errors: FieldErrors,
}

pub(super) async fn funders_page(st: &AppState, staff: &StaffMember, csrf: &Csrf) -> FundersPage {
    FundersPage {
        layout: Layout::new(
            "Commanditaires",
            Some(staff),
            csrf,
            "/operateur/commanditaires",
        ),
        funders: st
            .store
            .list_funders(500, 0)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.id.0, f.name, f.kind))
            .collect(),
        name: String::new(),
        kind: "departement".into(),
        kinds: passnum_store::FUNDER_KINDS.to_vec(),
        errors: FieldErrors::default(),
    }
}

pub async fn funders(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &funders_page(&st, &staff, &csrf).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct FunderForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

pub async fn create_funder(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<FunderForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = funders_page(&st, &staff, &csrf).await;
    page.name = kept(&f.name, MAX_NAME_CHARS);
    page.kind = f.kind.clone();
    if !token_ok {
        page.errors.add("name", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    match st
        .store
        .create_funder(&f.name, &f.kind, st.clock.now())
        .await
    {
        Ok(_) => Redirect::to("/operateur/commanditaires").into_response(),
        Err(StoreError::Invalid { code, message }) => {
            page.errors.add(
                if code == "invalid_funder_kind" {
                    "kind"
                } else {
                    "name"
                },
                message,
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}
