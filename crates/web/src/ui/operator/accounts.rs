//! Staff accounts: creation and password links.

use super::*;
use passnum_core::text::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_TYPED_ID_CHARS, kept};

/// Reset links given to new staff are valid three days.
pub(crate) const RESET_TTL_MS: i64 = 72 * 3_600_000;

pub struct AccountRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "operateur_comptes.html")]
pub(super) struct AccountsPage {
    layout: Layout,
    accounts: Vec<AccountRow>,
    /// The search typed (address or name), kept in the box and the page links.
    q: String,
    page: i64,
    more: bool,
    email: String,
    name: String,
    role: String,
    org: String,
    link: Option<(String, String)>,
    errors: FieldErrors,
}

const ACCOUNTS_PER_PAGE: i64 = 50;

/// "Lieu : Médiathèque de la Part-Dieu": the role and the organisation's name.
pub(super) fn role_label(a: Actor, names: &passnum_store::PartyNames) -> String {
    let of = passnum_store::PartyNames::of;
    match a {
        Actor::Operator => "Opérateur".into(),
        Actor::Funder(f) => format!("Commanditaire : {}", of(&names.funders, f.0)),
        Actor::Venue(v) => format!("Lieu : {}", of(&names.venues, v.0)),
        Actor::Distributor(d) => format!("Structure : {}", of(&names.distributors, d.0)),
        Actor::Observer(o) => format!("Observateur : {}", of(&names.observers, o.0)),
        Actor::Referent(t) => format!("Référent territorial : territoire n° {}", t.0),
    }
}

#[derive(Deserialize, Default)]
pub struct AccountsQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

pub(super) async fn accounts_page(
    st: &AppState,
    staff: &StaffMember,
    csrf: &Csrf,
    query: &AccountsQuery,
) -> AccountsPage {
    let q: String = query.q.trim().chars().take(MAX_EMAIL_CHARS).collect();
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let mut found = st
        .store
        .search_staff(&q, ACCOUNTS_PER_PAGE + 1, (page - 1) * ACCOUNTS_PER_PAGE)
        .await
        .unwrap_or_default();
    let more = found.len() as i64 > ACCOUNTS_PER_PAGE;
    found.truncate(ACCOUNTS_PER_PAGE as usize);
    let names = st.store.party_names().await.unwrap_or_default();
    AccountsPage {
        layout: Layout::new("Comptes", Some(staff), csrf, "/operateur/comptes"),
        accounts: found
            .into_iter()
            .map(|m| AccountRow {
                id: m.id,
                email: m.email,
                name: m.display_name,
                role: role_label(m.actor, &names),
            })
            .collect(),
        q,
        page,
        more,
        email: String::new(),
        name: String::new(),
        role: "venue".into(),
        org: String::new(),
        link: None,
        errors: FieldErrors::default(),
    }
}

pub async fn accounts(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    axum::extract::Query(query): axum::extract::Query<AccountsQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &accounts_page(&st, &staff, &csrf, &query).await,
        &csrf,
    )
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: String,
}

/// Built from the configured public address: the request's `Host` is whatever the client
/// wrote, and a link to another site would hand it the reset token.
pub(crate) fn reset_url(st: &AppState, token: &str) -> String {
    format!("{}/mot-de-passe/{token}", st.deploy.public_url)
}

/// An account that has no password yet, and the link (valid three days) by which its holder
/// chooses one, as (e-mail, link); or the sentence saying what to change in the e-mail (taken,
/// malformed), for a colleague invited by a venue or a referent designated by a funder.
pub(crate) async fn invited_account(
    st: &AppState,
    email: &str,
    name: &str,
    actor: passnum_store::Actor,
) -> Result<Result<(String, String), String>, StoreError> {
    let now = st.clock.now();
    let member = match st
        .store
        .create_staff(email, name, "!aucun-mot-de-passe", actor, now)
        .await
    {
        Ok(m) => m,
        Err(StoreError::Conflict { message, .. } | StoreError::Invalid { message, .. }) => {
            return Ok(Err(message));
        }
        Err(e) => return Err(e),
    };
    let token = st
        .store
        .create_password_reset(member.id, now, RESET_TTL_MS)
        .await?;
    Ok(Ok((member.email, reset_url(st, &token))))
}

pub async fn create_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<AccountForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = accounts_page(&st, &staff, &csrf, &AccountsQuery::default()).await;
    page.email = kept(&f.email, MAX_EMAIL_CHARS);
    page.name = kept(&f.name, MAX_NAME_CHARS);
    page.role = f.role.clone();
    page.org = kept(&f.org, MAX_TYPED_ID_CHARS);
    if !token_ok {
        page.errors.add("email", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let org = f.org.trim().parse::<i64>().ok().filter(|n| *n > 0);
    let actor = match (f.role.as_str(), org) {
        ("operator", _) => Some(Actor::Operator),
        ("funder", Some(id)) => Some(Actor::Funder(FunderId(id))),
        ("venue", Some(id)) => Some(Actor::Venue(VenueId(id))),
        ("distributor", Some(id)) => Some(Actor::Distributor(passnum_store::DistributorId(id))),
        ("observer", Some(id)) => Some(Actor::Observer(passnum_core::ObserverId(id))),
        ("referent", Some(id)) => Some(Actor::Referent(passnum_core::TerritoryId(id))),
        ("funder" | "venue" | "distributor" | "observer" | "referent", None) => {
            page.errors.add(
                "org",
                "Indiquez le numéro du commanditaire, du lieu, de la structure, de l'observateur ou du territoire (colonne « n° » de sa liste).",
            );
            None
        }
        _ => {
            page.errors.add("role", "Choisissez un rôle.");
            None
        }
    };
    let Some(actor) = actor else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    };
    // No password yet: the person chooses it through the link. This hash never verifies.
    let created = st
        .store
        .create_staff(
            &f.email,
            &f.name,
            "!aucun-mot-de-passe",
            actor,
            st.clock.now(),
        )
        .await;
    match created {
        Ok(m) => match st
            .store
            .create_password_reset(m.id, st.clock.now(), RESET_TTL_MS)
            .await
        {
            Ok(token) => {
                let mut page = accounts_page(&st, &staff, &csrf, &AccountsQuery::default()).await;
                page.link = Some((m.email, reset_url(&st, &token)));
                render(StatusCode::OK, &page, &csrf)
            }
            Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
        },
        Err(StoreError::Invalid { code, message }) => {
            page.errors.add(
                if code == "invalid_email" {
                    "email"
                } else {
                    "name"
                },
                message,
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("email", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(StoreError::NotFound) => {
            page.errors
                .add("org", "Aucun commanditaire ou lieu ne porte ce numéro.");
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}

pub async fn reset_link(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { token_ok, .. }: Submitted<crate::ui::NoFields>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = accounts_page(&st, &staff, &csrf, &AccountsQuery::default()).await;
    if !token_ok {
        page.errors.add("email", crate::ui::STALE_FORM);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    match st.store.get_staff(id).await {
        Ok(m) => match st
            .store
            .create_password_reset(id, st.clock.now(), RESET_TTL_MS)
            .await
        {
            Ok(token) => {
                page.link = Some((m.email, reset_url(&st, &token)));
                render(StatusCode::OK, &page, &csrf)
            }
            Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
        },
        Err(StoreError::NotFound) => crate::ui::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Compte introuvable",
            "Ce compte n'existe pas.",
        ),
        Err(e) => crate::ui::PageError::unavailable(e, "page opérateur").into_response(),
    }
}
