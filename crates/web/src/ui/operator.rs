//! The operator's pages: dashboard with the trial balance, funders, venues (create, qualify,
//! suspend, revoke), and staff accounts (create, password reset links).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_core::{FunderId, InseeCode, Siret, VenueId, VenueStatus, paris};
use passnum_store::{Actor, NewVenue, StaffMember, StoreError};
use serde::Deserialize;

use super::Submitted;
use super::session::{Csrf, OperatorStaff};
use super::{FieldErrors, Layout, euros, render};
use crate::AppState;

/// Reset links given to new staff are valid three days.
const RESET_TTL_MS: i64 = 72 * 3_600_000;

#[derive(Template)]
#[template(path = "operateur.html")]
struct Dashboard {
    layout: Layout,
    balanced: bool,
    total: String,
    accounts: Vec<(String, String)>,
}

pub async fn dashboard(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let tb = st.store.trial_balance().await;
    let mismatches = st
        .store
        .verify_ledger()
        .await
        .map(|m| m.is_empty())
        .unwrap_or(false);
    let balances = st
        .store
        .balances(passnum_store::LedgerScope::All)
        .await
        .unwrap_or_default();
    let label = |k: passnum_core::ledger::AccountKey| {
        use passnum_core::ledger::AccountKey as K;
        match k {
            K::World => "Extérieur (banques)".to_string(),
            K::Operator => "Opérateur".to_string(),
            K::FunderHeld(f) => format!("Fonds détenus pour le commanditaire n° {f}"),
            K::VenuePayable(v) => format!("Dû au lieu n° {v}"),
        }
    };
    let page = Dashboard {
        layout: Layout::new("Tableau de bord", Some(&staff), &csrf, "/operateur"),
        balanced: tb.as_ref().is_ok_and(|t| t.is_balanced()) && mismatches,
        total: euros(tb.map(|t| t.total_cents).unwrap_or(0)),
        accounts: balances
            .into_iter()
            .map(|b| (label(b.account), euros(b.balance_cents)))
            .collect(),
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Template)]
#[template(path = "operateur_commanditaires.html")]
struct FundersPage {
    layout: Layout,
    funders: Vec<(i64, String, String)>,
    name: String,
    kind: String,
    kinds: Vec<&'static str>,
    errors: FieldErrors,
}

async fn funders_page(st: &AppState, staff: &StaffMember, csrf: &Csrf) -> FundersPage {
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
    page.name = f.name.chars().take(200).collect();
    page.kind = f.kind.clone();
    if !token_ok {
        page.errors.add("name", super::STALE_FORM_KEPT);
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
                super::super::api::capitalize(&message),
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
    }
}

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
struct VenuesPage {
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

async fn venues_page(st: &AppState, staff: &StaffMember, csrf: &Csrf) -> VenuesPage {
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
    page.siret = f.siret.chars().take(40).collect();
    page.name = f.name.chars().take(200).collect();
    page.commune = f.commune.chars().take(10).collect();
    page.qualified = f.qualified.is_some();
    page.address = f.address.chars().take(300).collect();
    page.contact = f.contact.chars().take(300).collect();
    page.opening_hours = f.opening_hours.chars().take(600).collect();
    page.accessibility = f.accessibility.chars().take(600).collect();
    page.services = f.services.chars().take(1000).collect();
    if !token_ok {
        page.errors.add("siret", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let siret = Siret::parse(&f.siret)
        .map_err(|e| {
            page.errors
                .add("siret", super::super::api::capitalize(&e.to_string()))
        })
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
        .map_err(|e| {
            page.errors
                .add("commune", super::super::api::capitalize(&e.to_string()))
        })
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
                return super::unavailable(e, "page opérateur", Some(&staff), &csrf);
            }
            Redirect::to("/operateur/lieux").into_response()
        }
        Err(StoreError::Conflict { message, .. }) | Err(StoreError::Invalid { message, .. }) => {
            page.errors
                .add("siret", super::super::api::capitalize(&message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
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
        page.errors.add("siret", super::STALE_FORM);
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
            page.errors
                .add("siret", super::super::api::capitalize(&message));
            render(StatusCode::CONFLICT, &page, &csrf)
        }
        Err(StoreError::NotFound) => super::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Lieu introuvable",
            "Ce lieu n'existe pas.",
        ),
        Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
    }
}

pub struct AccountRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "operateur_comptes.html")]
struct AccountsPage {
    layout: Layout,
    accounts: Vec<AccountRow>,
    email: String,
    name: String,
    role: String,
    org: String,
    link: Option<(String, String)>,
    errors: FieldErrors,
}

fn role_label(a: Actor) -> String {
    match a {
        Actor::Operator => "Opérateur".into(),
        Actor::Funder(f) => format!("Commanditaire n° {f}"),
        Actor::Venue(v) => format!("Lieu n° {v}"),
        Actor::Distributor(d) => format!("Structure n° {}", d.0),
    }
}

async fn accounts_page(st: &AppState, staff: &StaffMember, csrf: &Csrf) -> AccountsPage {
    AccountsPage {
        layout: Layout::new("Comptes", Some(staff), csrf, "/operateur/comptes"),
        accounts: st
            .store
            .list_staff(500, 0)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|m| AccountRow {
                id: m.id,
                email: m.email,
                name: m.display_name,
                role: role_label(m.actor),
            })
            .collect(),
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
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &accounts_page(&st, &staff, &csrf).await,
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

fn reset_url(headers: &HeaderMap, token: &str) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/mot-de-passe/{token}")
}

pub async fn create_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Submitted { form: f, token_ok }: Submitted<AccountForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = accounts_page(&st, &staff, &csrf).await;
    page.email = f.email.chars().take(254).collect();
    page.name = f.name.chars().take(200).collect();
    page.role = f.role.clone();
    page.org = f.org.chars().take(20).collect();
    if !token_ok {
        page.errors.add("email", super::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    let org = f.org.trim().parse::<i64>().ok().filter(|n| *n > 0);
    let actor = match (f.role.as_str(), org) {
        ("operator", _) => Some(Actor::Operator),
        ("funder", Some(id)) => Some(Actor::Funder(FunderId(id))),
        ("venue", Some(id)) => Some(Actor::Venue(VenueId(id))),
        ("distributor", Some(id)) => Some(Actor::Distributor(passnum_store::DistributorId(id))),
        ("funder" | "venue", None) => {
            page.errors.add(
                "org",
                "Indiquez le numéro du commanditaire ou du lieu (colonne « n° » de sa liste).",
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
                let mut page = accounts_page(&st, &staff, &csrf).await;
                page.link = Some((m.email, reset_url(&headers, &token)));
                render(StatusCode::OK, &page, &csrf)
            }
            Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
        },
        Err(StoreError::Invalid { code, message }) => {
            page.errors.add(
                if code == "invalid_email" {
                    "email"
                } else {
                    "name"
                },
                super::super::api::capitalize(&message),
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(StoreError::Conflict { message, .. }) => {
            page.errors
                .add("email", super::super::api::capitalize(&message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(StoreError::NotFound) => {
            page.errors
                .add("org", "Aucun commanditaire ou lieu ne porte ce numéro.");
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
        Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
    }
}

pub async fn reset_link(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path(id): Path<i64>,
    Submitted { token_ok, .. }: Submitted<super::NoFields>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = accounts_page(&st, &staff, &csrf).await;
    if !token_ok {
        page.errors.add("email", super::STALE_FORM);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    match st.store.get_staff(id).await {
        Ok(m) => match st
            .store
            .create_password_reset(id, st.clock.now(), RESET_TTL_MS)
            .await
        {
            Ok(token) => {
                page.link = Some((m.email, reset_url(&headers, &token)));
                render(StatusCode::OK, &page, &csrf)
            }
            Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
        },
        Err(StoreError::NotFound) => super::message(
            StatusCode::NOT_FOUND,
            Some(&staff),
            &csrf,
            "Compte introuvable",
            "Ce compte n'existe pas.",
        ),
        Err(e) => super::unavailable(e, "page opérateur", Some(&staff), &csrf),
    }
}

pub struct OperatorOrderRow {
    pub id: i64,
    pub status: &'static str,
    pub status_label: &'static str,
    pub funder: String,
    pub booklets: i64,
    pub validity: String,
    pub total: String,
    pub issued: i64,
    pub redeemed: i64,
    pub remaining: String,
}

#[derive(Template)]
#[template(path = "operateur_commandes.html")]
struct OrdersPage {
    layout: Layout,
    orders: Vec<OperatorOrderRow>,
    page: i64,
    has_next: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<i64>,
}

const ORDERS_PER_PAGE: i64 = 50;

pub async fn orders(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let list = match st
        .store
        .list_orders(None, ORDERS_PER_PAGE + 1, (page - 1) * ORDERS_PER_PAGE)
        .await
    {
        Ok(l) => l,
        Err(e) => return super::unavailable(e, "page opérateur", Some(&staff), &csrf),
    };
    let has_next = list.len() as i64 > ORDERS_PER_PAGE;
    let mut rows = vec![];
    for o in list.into_iter().take(ORDERS_PER_PAGE as usize) {
        let c = st.store.order_counts(o.id).await.unwrap_or_default();
        let funder = st
            .store
            .get_funder(o.funder_id)
            .await
            .map(|f| f.name)
            .unwrap_or_default();
        rows.push(OperatorOrderRow {
            id: o.id.0,
            status: o.status.as_str(),
            status_label: o.status.label(),
            funder,
            booklets: o.booklet_count,
            validity: format!(
                "du {} au {}",
                paris::format_date(o.valid_from),
                paris::format_date(o.valid_until)
            ),
            total: euros(o.total_cents),
            issued: c.issued,
            redeemed: c.redeemed,
            remaining: euros(c.remaining_value_cents),
        });
    }
    let view = OrdersPage {
        layout: Layout::new("Commandes", Some(&staff), &csrf, "/operateur/commandes"),
        orders: rows,
        page,
        has_next,
    };
    render(StatusCode::OK, &view, &csrf)
}
