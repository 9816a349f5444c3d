//! Public pages: the programme, "Vérifier mon pass", and where to use it.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use passnum_core::cheque::RedeemRefusal;
use passnum_core::{ChequeCode, ChequeState, paris};
use passnum_store::StoreError;
use serde::Deserialize;

use super::Submitted;
use super::session::{Csrf, MaybeStaff};
use super::{FieldErrors, Layout, render};
use crate::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
}

pub async fn home(headers: HeaderMap, MaybeStaff(staff): MaybeStaff) -> Response {
    let csrf = Csrf::from_headers(&headers);
    render(
        StatusCode::OK,
        &Home {
            layout: Layout::new("Le Pass Numérique", staff.as_ref(), &csrf, "/"),
        },
        &csrf,
    )
}

#[derive(Template)]
#[template(path = "verifier.html")]
struct CheckPage {
    layout: Layout,
    code: String,
    errors: FieldErrors,
    /// (success?, sentence)
    answer: Option<(bool, String)>,
}

pub async fn check_form(headers: HeaderMap, MaybeStaff(staff): MaybeStaff) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let page = CheckPage {
        layout: Layout::new("Vérifier mon pass", staff.as_ref(), &csrf, "/verifier"),
        code: String::new(),
        errors: FieldErrors::default(),
        answer: None,
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    code: String,
}

/// At most 20 checks per minute per client: enough for a family, too few to probe codes.
/// 100,000 clients remembered (a few MB).
pub fn pass_check_limit() -> passnum_app::throttle::PerClientLimit {
    passnum_app::throttle::PerClientLimit::new(
        20,
        60_000,
        std::num::NonZeroUsize::new(100_000).expect("non-zero"),
    )
}

pub async fn check(
    State(st): State<AppState>,
    crate::deploy::ClientIp(client): crate::deploy::ClientIp,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Submitted { form, token_ok }: Submitted<CheckForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = CheckPage {
        layout: Layout::new("Vérifier mon pass", staff.as_ref(), &csrf, "/verifier"),
        code: form.code.chars().take(40).collect(),
        errors: FieldErrors::default(),
        answer: None,
    };
    if !token_ok {
        page.errors.add(
            "code",
            "Le formulaire a expiré. Votre saisie est conservée : renvoyez-le.",
        );
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if !st.pass_checks.allow(client, st.clock.now()) {
        page.errors.add(
            "code",
            "Trop de vérifications depuis votre connexion. Réessayez dans une minute.",
        );
        return render(StatusCode::TOO_MANY_REQUESTS, &page, &csrf);
    }
    let code = match ChequeCode::parse(&form.code) {
        Ok(c) => c,
        Err(e) => {
            page.errors
                .add("code", RedeemRefusal::Malformed(e).message());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        }
    };
    let today = paris::local_date(st.clock.now());
    page.answer = Some(match st.store.cheque_status(&code, None).await {
        Ok(s) => match s.state {
            ChequeState::Issued if today < s.valid_from => (
                false,
                format!(
                    "Ce pass sera utilisable à partir du {}.",
                    paris::format_date(s.valid_from)
                ),
            ),
            ChequeState::Issued if today <= s.last_accepted_day => (
                true,
                format!(
                    "Ce pass est valable : utilisez-le jusqu'au {} dans un lieu qualifié.",
                    paris::format_date(s.valid_until)
                ),
            ),
            ChequeState::Issued | ChequeState::Expired => (false, "Ce pass a expiré.".into()),
            ChequeState::Redeemed | ChequeState::Paid => {
                (false, "Ce pass a déjà été utilisé.".into())
            }
            ChequeState::Blocked => (
                false,
                "Ce pass est bloqué. Adressez-vous à la structure qui vous l'a remis.".into(),
            ),
        },
        Err(StoreError::NotFound) => (
            false,
            "Aucun pass ne correspond à ce code. Vérifiez-le.".into(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "vérification de pass");
            (
                false,
                "La vérification est indisponible. Réessayez dans un instant.".into(),
            )
        }
    });
    render(StatusCode::OK, &page, &csrf)
}
