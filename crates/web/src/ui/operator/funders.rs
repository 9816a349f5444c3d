//! The operator's funders: a list searched by name, creation, and each funder's page with the
//! account its refunds are paid to.

use super::*;
use axum::extract::Query;
use passnum_core::BankDetails;
use passnum_core::text::{MAX_NAME_CHARS, kept};
use passnum_store::funder_kind_label;

const FUNDERS_PER_PAGE: i64 = 50;

/// One funder in the list.
pub(super) struct FunderRow {
    id: i64,
    name: String,
    kind: &'static str,
    /// Holder and end of the IBAN of the refund account, if recorded.
    account: Option<String>,
}

#[derive(Template)]
#[template(path = "operateur_commanditaires.html")]
pub(super) struct FundersPage {
    layout: Layout,
    funders: Vec<FunderRow>,
    q: String,
    page: i64,
    more: bool,
    name: String,
    kind: String,
    kinds: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct FundersQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

pub(super) async fn funders_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    query: &FundersQuery,
) -> FundersPage {
    let q = kept(&query.q, MAX_NAME_CHARS);
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let mut found = st
        .store
        .search_funders(&q, FUNDERS_PER_PAGE + 1, (page - 1) * FUNDERS_PER_PAGE)
        .await
        .unwrap_or_default();
    let more = found.len() as i64 > FUNDERS_PER_PAGE;
    found.truncate(FUNDERS_PER_PAGE as usize);
    let accounts = st.store.current_funder_accounts().await.unwrap_or_default();
    FundersPage {
        layout: Layout::new(
            "Commanditaires",
            Some(staff),
            csrf,
            "/operateur/commanditaires",
        ),
        funders: found
            .into_iter()
            .map(|f| FunderRow {
                account: accounts
                    .get(&f.id)
                    .map(|a| format!("{} (…{})", a.holder, a.iban.last_four())),
                id: f.id.0,
                name: f.name,
                kind: funder_kind_label(&f.kind),
            })
            .collect(),
        q,
        page,
        more,
        name: String::new(),
        kind: "departement".into(),
        kinds: passnum_store::FUNDER_KINDS
            .iter()
            .map(|k| (*k, funder_kind_label(k)))
            .collect(),
        errors: FieldErrors::default(),
    }
}

pub async fn funders(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Query(query): Query<FundersQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &funders_page(&st, &staff, &csrf, &query).await,
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
    let mut page = funders_page(&st, &staff, &csrf, &FundersQuery::default()).await;
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
        Ok(created) => {
            Redirect::to(&format!("/operateur/commanditaires/{}", created.id.0)).into_response()
        }
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

/// A refund account as the funder's page lists it.
pub(super) struct AccountRow {
    recorded: String,
    iban: String,
    bic: String,
    holder: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "operateur_commanditaire.html")]
pub(super) struct FunderPage {
    layout: Layout,
    id: i64,
    name: String,
    kind: &'static str,
    accounts: Vec<AccountRow>,
    saved: bool,
    iban: String,
    bic: String,
    holder: String,
    errors: FieldErrors,
}

const FUNDER_NOT_FOUND: crate::ui::PageError = crate::ui::PageError::NotFound {
    heading: "Commanditaire introuvable",
    text: "Ce commanditaire n'existe pas : revenez à la liste des commanditaires.",
};

async fn funder_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    id: FunderId,
) -> Result<FunderPage, crate::ui::PageError> {
    let funder = st.store.get_funder(id).await.map_err(|e| match e {
        StoreError::NotFound => FUNDER_NOT_FOUND,
        e => crate::ui::PageError::unavailable(e, "commanditaire"),
    })?;
    let accounts = st
        .store
        .funder_accounts(id)
        .await
        .map_err(|e| crate::ui::PageError::unavailable(e, "commanditaire"))?;
    Ok(FunderPage {
        layout: Layout::new(
            funder.name.clone(),
            Some(staff),
            csrf,
            "/operateur/commanditaires",
        ),
        id: id.0,
        kind: funder_kind_label(&funder.kind),
        name: funder.name,
        accounts: accounts
            .into_iter()
            .map(|a| AccountRow {
                recorded: paris::format_moment(a.created_at),
                iban: a.iban.to_string(),
                bic: a.bic.as_str().to_string(),
                holder: a.holder,
                current: a.superseded_at.is_none(),
            })
            .collect(),
        saved: false,
        iban: String::new(),
        bic: String::new(),
        holder: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn funder(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let page = funder_page(&st, &staff, &csrf, FunderId(id)).await?;
    Ok(render(StatusCode::OK, &page, &csrf))
}

/// Records the funder's refund account (from its convention); it replaces the current one.
pub async fn set_funder_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { form: f, token_ok }: Submitted<crate::ui::BankForm>,
) -> Result<Response, crate::ui::PageError> {
    let csrf = Csrf::from_headers(&headers);
    let id = FunderId(id);
    let mut page = funder_page(&st, &staff, &csrf, id).await?;
    page.iban = kept(&f.iban, 50);
    page.bic = kept(&f.bic, 20);
    page.holder = kept(&f.holder, passnum_core::bank::MAX_HOLDER_CHARS);
    if !token_ok {
        page.errors.add("iban", crate::ui::STALE_FORM_KEPT);
        return Ok(render(StatusCode::BAD_REQUEST, &page, &csrf));
    }
    let details = match BankDetails::parse(&f.iban, &f.bic, &f.holder) {
        Ok(d) => d,
        Err(errors) => {
            crate::ui::bank_errors(errors, &mut page.errors);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf));
        }
    };
    st.store
        .set_funder_account(id, &details, st.clock.now())
        .await
        .map_err(|e| crate::ui::PageError::unavailable(e, "compte de remboursement"))?;
    let mut page = funder_page(&st, &staff, &csrf, id).await?;
    page.saved = true;
    Ok(render(StatusCode::OK, &page, &csrf))
}
