//! Server-rendered pages in French, in the State design system (DSFR), for every role.
//!
//! Pages work without JavaScript; `scan.js` only adds camera scanning. Every form carries a
//! CSRF token (double-submit cookie), keeps what the person typed when it is refused, and
//! shows an error summary at the top plus a message on each field.

pub mod application;
mod assets;
pub mod booking;
pub(crate) mod calendars;
mod catalogue;
mod charts;
pub(crate) mod directory;
mod distributor;
pub(crate) mod dossier;
mod error;
pub(crate) mod figures;
mod funder;
mod journal;
mod login;
mod menu;
mod operator;
mod ordering;
mod payments;
pub mod proconnect;
pub mod programme;
pub(crate) mod public;
mod referent;
mod scan;
pub mod session;
mod structures;
mod workshops;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use passnum_store::StaffMember;

pub use error::{NoFields, PageError, PageForm, Submitted};
use session::Csrf;

use crate::AppState;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the common layout needs.
pub struct Layout {
    pub title: String,
    pub user: Option<String>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
}

impl Layout {
    pub fn new(
        title: impl Into<String>,
        staff: Option<&StaffMember>,
        csrf: &Csrf,
        path: &str,
    ) -> Self {
        // An organisation with two hats (a médiathèque that hands booklets out and hosts
        // workshops) gets both menus, each entry once.
        let mut nav: Vec<NavItem> = vec![];
        let hats = [staff.map(|s| s.actor), staff.and_then(|s| s.also)];
        for (i, hat) in hats.into_iter().enumerate() {
            if i > 0 && hat.is_none() {
                continue;
            }
            for (href, label) in menu::items(hat) {
                if !nav.iter().any(|n| n.href == *href) {
                    nav.push(NavItem {
                        href,
                        label,
                        current: *href == path,
                    });
                }
            }
        }
        Self {
            title: title.into(),
            user: staff.map(|s| s.display_name.clone()),
            csrf: csrf.token.clone(),
            nav,
        }
    }
}

/// Field errors of a refused form, in page order.
#[derive(Default)]
pub struct FieldErrors {
    pub list: Vec<(String, String)>,
}

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.list.push((field.to_string(), message.into()));
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Renders a page, setting the CSRF cookie on the first visit.
pub fn render<T: Template>(status: StatusCode, page: &T, csrf: &Csrf) -> Response {
    match page.render() {
        Ok(html) => {
            let mut r = (status, Html(html)).into_response();
            if let Some(c) = csrf.set_cookie_header()
                && let Ok(v) = HeaderValue::from_str(&c)
            {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "rendu de page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Erreur interne : réessayez.",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub text: String,
}

/// A plain page for refusals that are not a form error (wrong role, not found).
pub fn message(
    status: StatusCode,
    staff: Option<&StaffMember>,
    csrf: &Csrf,
    heading: &str,
    text: &str,
) -> Response {
    let page = MessagePage {
        layout: Layout::new(heading, staff, csrf, ""),
        heading: heading.into(),
        text: text.into(),
    };
    render(status, &page, csrf)
}

/// What a form says when its CSRF token does not match (an old tab, an expired cookie).
pub const STALE_FORM_KEPT: &str = "Le formulaire a expiré pour des raisons de sécurité. Votre saisie est conservée : validez à nouveau.";
pub const STALE_FORM: &str = "Le formulaire a expiré pour des raisons de sécurité : recommencez.";

/// Bank details as typed in `_bank_fields.html` (a venue's, a funder's refund account).
#[derive(serde::Deserialize)]
pub struct BankForm {
    #[serde(default)]
    pub iban: String,
    #[serde(default)]
    pub bic: String,
    #[serde(default)]
    pub holder: String,
}

/// Bank details refused: each reason next to its field of `_bank_fields.html`.
pub fn bank_errors(errors: Vec<passnum_core::BankDetailsError>, into: &mut FieldErrors) {
    use passnum_core::BankDetailsError;
    for e in errors {
        let field = match e {
            BankDetailsError::Iban(_) => "iban",
            BankDetailsError::Bic(_) | BankDetailsError::CountryMismatch => "bic",
            BankDetailsError::Holder => "holder",
        };
        into.add(field, e.to_string());
    }
}

/// A file to download: its type, and the name the browser saves it under.
pub fn download(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    file_name: &str,
) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    if let Ok(v) =
        axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A commune typed in an operator's form that names none, or several.
pub const COMMUNE_UNKNOWN: &str = "Commune introuvable, ou plusieurs communes possibles : tapez son nom, son code postal ou son code INSEE (par exemple Villeurbanne, 69100 ou 69266).";

/// Bodies that carry a logo (the API's upload, the pages' forms): the image (512 KiB at most,
/// checked with a clear answer) plus room for the other fields.
pub const UPLOAD_BODY_BYTES: usize = passnum_core::order_options::MAX_LOGO_BYTES + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(public::home))
        .route("/verifier", get(public::check_form).post(public::check))
        .route("/connexion", get(login::form).post(login::submit))
        .route("/connexion/proconnect", get(proconnect::start))
        .route(
            passnum_app::proconnect::CALLBACK_PATH,
            get(proconnect::finish),
        )
        .route("/deconnexion", post(login::sign_out))
        .route(
            "/mot-de-passe/{token}",
            get(login::reset_form).post(login::reset_submit),
        )
        .route("/lieu", get(scan::page))
        // The scan form re-renders at its own address; opened again (reload, sign-in), it is
        // the scan page.
        .route(
            "/lieu/encaisser",
            get(|| async { axum::response::Redirect::to("/lieu") }).post(scan::redeem),
        )
        .route(
            "/lieu/catalogue",
            get(catalogue::show).post(catalogue::save),
        )
        .route(
            "/lieu/encaissements/{id}/annuler",
            get(scan::cancel_question).post(scan::cancel),
        )
        .route("/structure", get(distributor::home))
        .route(
            "/structure/remise",
            get(distributor::form).post(distributor::submit),
        )
        .route("/structure/remises/{id}", get(distributor::orientation))
        .route("/structure/remises/{id}/bloquer", post(distributor::block))
        .route("/commanditaire", get(funder::orders))
        .route("/commanditaire/commandes/{id}", get(funder::order))
        .route(
            "/commanditaire/commandes/{id}/regles-remise",
            post(funder::set_rules),
        )
        .route(
            "/commanditaire/commandes/nouvelle",
            get(ordering::form)
                .post(ordering::create)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route(
            "/commanditaire/commandes/{id}/logo",
            get(ordering::logo)
                .post(ordering::upload_logo)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route(
            "/commanditaire/commandes/{id}/repartition",
            get(ordering::allocation_form).post(ordering::allocation_submit),
        )
        .route(
            "/commanditaire/commandes/{id}/{action}",
            post(ordering::action),
        )
        .route(
            "/commanditaire/commandes/{id}/courrier.pdf",
            get(ordering::letter),
        )
        .route(
            "/commanditaire/commandes/{id}/remises/{file}",
            get(funder::handover_pdf),
        )
        .route(
            "/commanditaire/commandes/{id}/inventaire",
            get(funder::inventory),
        )
        .route(
            "/commanditaire/commandes/{id}/carnets/{file}",
            get(ordering::booklet),
        )
        .route(
            "/operateur/commandes/{id}/{action}",
            get(ordering::operator_step).post(ordering::operator_action),
        )
        .route("/operateur", get(operator::dashboard))
        .route(
            "/operateur/structures",
            get(structures::list).post(structures::create),
        )
        .route("/operateur/commandes", get(operator::orders))
        .route(
            "/operateur/commanditaires",
            get(operator::funders).post(operator::create_funder),
        )
        .route(
            "/operateur/commanditaires/{id}",
            get(operator::funder).post(operator::set_funder_account),
        )
        .route(
            "/operateur/lieux",
            get(operator::venues).post(operator::create_venue),
        )
        .route("/operateur/lieux/{id}", get(operator::venue_file))
        .route("/operateur/lieux/{id}/statut", post(operator::decide))
        .route(
            "/operateur/lieux/{id}/documents/{doc}",
            get(operator::venue_document),
        )
        .route(
            "/operateur/comptes",
            get(operator::accounts).post(operator::create_account),
        )
        .route("/operateur/comptes/{id}/lien", post(operator::reset_link))
        .route("/static/{*path}", get(assets::serve))
        .merge(payment_routes())
        .merge(territory_routes())
        .merge(application_routes())
        .merge(workshop_routes())
        .merge(figure_routes())
        .layer(axum::middleware::from_fn(error::render_page_errors))
}

/// Member territories (issue 16): the funder's pages of an order's territories (declaration,
/// pieces, referents, convention, the two stages of the allocation) and the referent's own;
/// the order's own publics.
fn territory_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/commanditaire/commandes/{id}/territoires",
            get(funder::territories).post(funder::declare_territory),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/repartition",
            get(ordering::territory_allocation_form).post(ordering::territory_allocation_submit),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}",
            get(funder::territory),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/pieces",
            post(funder::attach_document).layer(DefaultBodyLimit::max(
                passnum_core::application::MAX_DOCUMENT_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/pieces/{doc}",
            get(funder::territory_document),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/referents",
            post(funder::designate_referent),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/convention",
            post(funder::record_convention),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/correction",
            post(funder::amend_territory),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/retrait",
            post(funder::remove_territory),
        )
        .route(
            "/commanditaire/commandes/{id}/publics",
            get(funder::publics).post(funder::add_public),
        )
        .route(
            "/commanditaire/commandes/{id}/publics/{p}",
            get(funder::public).post(funder::update_public),
        )
        .route(
            "/commanditaire/commandes/{id}/publics/{p}/retrait",
            post(funder::retire_public),
        )
        .route("/territoire", get(referent::home))
        .route(
            "/territoire/repartition",
            get(referent::share_form).post(referent::share_submit),
        )
        .route(
            "/commanditaire/commandes/{id}/territoires/{t}/repartition",
            get(ordering::territory_share_form).post(ordering::territory_share_submit),
        )
}

/// Payments: the operator's runs (with their statements, SEPA file and archive), corrections
/// and bank details to confirm; a venue's bank details and statements.
fn payment_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/operateur/virements",
            get(payments::runs).post(payments::create_run),
        )
        .route(
            "/operateur/virements/{id}",
            get(payments::run_detail).post(payments::run_action),
        )
        .route("/operateur/virements/{id}/sepa", post(payments::run_sepa))
        .route(
            "/operateur/virements/{id}/releves/{file}",
            get(payments::run_statement),
        )
        .route(
            "/operateur/virements/{id}/releves.zip",
            get(payments::run_statements_zip),
        )
        .route(
            "/operateur/virements/corrections",
            post(payments::create_correction),
        )
        .route(
            "/operateur/lieux/{venue}/coordonnees/{account}/confirmer",
            post(payments::confirm_bank),
        )
        .route(
            "/lieu/paiements",
            get(payments::venue).post(payments::set_bank),
        )
        .route("/lieu/releves/{run}", get(payments::statement_csv))
}

/// Workshops: the venue's pages, public booking and calendars, the agent's booking after a
/// handout.
/// What a funder reads (its invoices, statements, redemptions) and the figures of the funder
/// and of the operator ("Chiffres").
fn figure_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/commanditaire/commandes/{id}/facture",
            get(funder::invoice),
        )
        .route("/commanditaire/releve", get(funder::monthly))
        .route("/commanditaire/journal", get(journal::funder_journal))
        .route("/operateur/journal", get(journal::operator_journal))
        .route("/commanditaire/encaissements", get(funder::redemptions))
        .route(
            "/commanditaire/encaissements.csv",
            get(funder::redemptions_csv),
        )
        .route("/commanditaire/chiffres", get(figures::funder_page))
        .route("/commanditaire/chiffres.csv", get(figures::funder_csv))
        .route("/commanditaire/chiffres.xlsx", get(figures::funder_xlsx))
        .route("/operateur/chiffres", get(figures::operator_page))
        .route("/programme", get(programme::page))
        .route("/operateur/anomalies", get(figures::anomalies::page))
        .route("/operateur/anomalies.csv", get(figures::anomalies::csv))
        .route(
            "/commanditaire/commandes/{id}/financements",
            get(funder::order_funding),
        )
        .route("/commanditaire/financements", get(funder::yearly_funding))
        .route("/observatoire/chiffres", get(figures::observer_page))
        .route("/observatoire/chiffres.csv", get(figures::observer_csv))
        .route("/observatoire/chiffres.xlsx", get(figures::observer_xlsx))
        .route(
            "/operateur/observateurs",
            get(figures::observers::page).post(figures::observers::create),
        )
        .route(
            "/operateur/observateurs/{id}/commanditaires",
            axum::routing::post(figures::observers::grant),
        )
        .route(
            "/operateur/observateurs/{id}/territoires",
            axum::routing::post(figures::observers::grant_territory),
        )
        .route("/operateur/chiffres.csv", get(figures::operator_csv))
        .route("/operateur/chiffres.xlsx", get(figures::operator_xlsx))
}

fn workshop_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/lieu/ateliers",
            get(workshops::list).post(workshops::publish),
        )
        .route("/lieu/ateliers/{id}", get(workshops::file))
        .route(
            "/lieu/ateliers/{id}/compte-rendu",
            get(workshops::record_form).post(workshops::record_save),
        )
        .route("/lieu/activite", get(workshops::activity_page))
        .route("/lieu/activite.csv", get(workshops::activity_csv_file))
        .route("/lieu/activite.json", get(workshops::activity_json_file))
        .route(
            "/lieu/ateliers/{id}/reserver",
            post(workshops::book_by_phone),
        )
        .route(
            "/lieu/ateliers/{id}/annuler",
            post(workshops::cancel_workshop),
        )
        .route(
            "/lieu/ateliers/{id}/reservations/{booking}/annuler",
            post(workshops::cancel_booking),
        )
        .route("/ateliers/{id}", get(booking::workshop).post(booking::book))
        .route("/lieux/{id}/ateliers.ics", get(calendars::venue_calendar))
        .route(
            "/lieux/{id}/animateurs/{token}/ateliers.ics",
            get(calendars::mediator_calendar),
        )
        .route(
            "/mes-reservations",
            get(booking::my_bookings_form).post(booking::my_bookings),
        )
        .route(
            "/structure/remises/{id}/ateliers/{workshop}",
            post(distributor::book_workshop),
        )
}

/// Venues in public and as they join: the directory, the référentiel, the application form,
/// the venue's own file and team, and the operator's charter and référentiel.
fn application_routes() -> Router<AppState> {
    Router::new()
        .route("/operateur/charte", post(operator::set_charter))
        .route("/operateur/candidats", get(operator::candidates))
        .route(
            "/operateur/candidats/{id}",
            get(operator::candidate).post(operator::settle_candidate),
        )
        .route(
            "/operateur/candidats/{id}/dossier",
            post(operator::open_candidate_file),
        )
        .route(
            "/operateur/referentiel",
            get(operator::referentiel).post(operator::update_service),
        )
        .route(
            "/operateur/referentiel/service",
            post(operator::save_service),
        )
        .route("/lieux", get(directory::list))
        .route("/lieux/{id}", get(directory::card))
        .route("/referentiel", get(directory::referentiel))
        .route("/lieu/dossier", get(dossier::show))
        .route("/lieu/dossier/reponse", post(dossier::answer))
        .route(
            "/lieu/dossier/documents",
            post(dossier::add_document).layer(DefaultBodyLimit::max(
                passnum_core::application::MAX_DOCUMENT_BYTES + 64 * 1024,
            )),
        )
        .route("/lieu/dossier/documents/{doc}", get(dossier::document))
        .route("/lieu/equipe", post(dossier::invite))
        .route(
            "/candidature",
            get(application::form)
                .post(application::submit)
                .layer(DefaultBodyLimit::max(application::APPLICATION_BODY_BYTES)),
        )
}

/// "1 234,50 €".
pub fn euros(cents: i64) -> String {
    passnum_core::Money::from_cents(cents).to_string()
}
