//! The pages' error type, rendered once as a DSFR page, and the form extractors that check the
//! CSRF token before a handler runs.
//!
//! A [`PageError`] becomes a bare response carrying the error as an extension; the
//! [`render_page_errors`] layer, around every page, turns it into the message page with the
//! signed-in member's menu. The member is known to the layer because the sign-in extractors
//! leave it in a [`SignedIn`] slot the layer put in the request: no second session read.

use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use passnum_store::StaffMember;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::Csrf;
use crate::AppState;

/// A refusal or failure of a page, shown as a DSFR page with a plain French sentence.
#[derive(Clone, Debug)]
pub enum PageError {
    /// Nothing here, or nothing this person may see (the same answer for both).
    NotFound {
        heading: &'static str,
        text: &'static str,
    },
    /// A page of another role.
    Forbidden,
    /// A storage failure: the cause is logged where it happens, never shown.
    Unavailable,
    /// A one-button form whose CSRF token does not match (an old tab, an expired cookie):
    /// nothing typed is lost, the person starts again.
    StaleForm,
    /// A form body that cannot be read (not what passnum's pages send).
    BadForm,
    /// A form body over the route's limit.
    TooLarge,
    /// A form sent from another site (the browser says so): refused before anything runs.
    CrossSite,
}

impl PageError {
    /// Logs a storage failure and answers "unavailable".
    pub fn unavailable(cause: impl std::fmt::Display, what: &str) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::Unavailable
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Forbidden | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::StaleForm | Self::BadForm => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    fn words(&self) -> (&'static str, &'static str) {
        match self {
            Self::NotFound { heading, text } => (heading, text),
            Self::Forbidden => (
                "Accès réservé",
                "Cette page est réservée à un autre rôle. Utilisez le menu pour revenir à vos pages.",
            ),
            Self::Unavailable => ("Service indisponible", "Réessayez dans un instant."),
            Self::StaleForm => ("Formulaire expiré", super::STALE_FORM),
            Self::BadForm => (
                "Formulaire illisible",
                "Le formulaire envoyé n'a pas pu être lu. Rechargez la page et recommencez.",
            ),
            Self::CrossSite => (
                "Formulaire refusé",
                "Ce formulaire a été envoyé depuis un autre site : passnum ne l'a pas pris en compte. Ouvrez passnum directement et recommencez.",
            ),
            Self::TooLarge => (
                "Formulaire trop long",
                "Le formulaire envoyé est trop long. Raccourcissez les textes saisis et recommencez.",
            ),
        }
    }

    /// The DSFR page, with the member's menu when someone is signed in.
    pub fn render(&self, staff: Option<&StaffMember>, csrf: &Csrf) -> Response {
        let (heading, text) = self.words();
        super::message(self.status(), staff, csrf, heading, text)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut r = self.status().into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Where the sign-in extractors leave the member, for the error layer's menu.
#[derive(Clone, Default)]
pub struct SignedIn(Arc<OnceLock<StaffMember>>);

impl SignedIn {
    pub fn set(&self, m: &StaffMember) {
        let _ = self.0.set(m.clone());
    }
}

/// Renders every [`PageError`] answered by a page.
pub async fn render_page_errors(mut req: Request, next: Next) -> Response {
    // Only the cookies are read here: a token is made only for an error page, not for every
    // page and static file that passes through.
    let cookies = (
        super::session::cookie(req.headers(), super::session::SESSION_COOKIE),
        super::session::cookie(req.headers(), super::session::CSRF_COOKIE),
    );
    let csrf = move || Csrf::from_cookies(cookies.0, cookies.1);
    if sent_from_another_site(&req) {
        return PageError::CrossSite.render(None, &csrf());
    }
    let signed_in = SignedIn::default();
    req.extensions_mut().insert(signed_in.clone());
    let mut response = next.run(req).await;
    match response.extensions_mut().remove::<PageError>() {
        Some(e) => e.render(signed_in.0.get(), &csrf()),
        None => response,
    }
}

/// A request that changes something, sent by a page of another site: the browser says so in
/// `Sec-Fetch-Site` (every current browser), or, for an older one, by an `Origin` whose host is
/// not the one it asked. A second wall behind the CSRF token.
fn sent_from_another_site(req: &Request) -> bool {
    if req.method().is_safe() {
        return false;
    }
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (
        h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, o)| o) != Some(host),
        _ => false,
    }
}

/// A form with nothing but its CSRF token (a sign-out button).
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

/// Reads a form body and whether its CSRF token matches this browser's cookie.
async fn read_form<T: DeserializeOwned>(
    req: Request,
    st: &AppState,
) -> Result<(T, bool), PageError> {
    let csrf = Csrf::from_headers(req.headers());
    let bytes = axum::body::Bytes::from_request(req, st)
        .await
        .map_err(|r| match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => PageError::TooLarge,
            _ => PageError::BadForm,
        })?;
    // Read with axum's own form parser (serde_urlencoded), so pages read forms as before.
    let Token { csrf: submitted } =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadForm)?;
    let form: T = serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadForm)?;
    Ok((form, csrf.matches(&submitted)))
}

/// A form whose CSRF token matched, checked before the handler runs. A stale one is answered
/// with [`PageError::StaleForm`]: for forms with nothing typed to keep (a button).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        match read_form(req, st).await? {
            (form, true) => Ok(Self(form)),
            (_, false) => Err(PageError::StaleForm),
        }
    }
}

/// A form with typed input, its CSRF token checked before the handler runs. When the token
/// does not match (`token_ok` false), the handler shows the form again with what the person
/// typed and writes nothing.
pub struct Submitted<T> {
    pub form: T,
    pub token_ok: bool,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Submitted<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (form, token_ok) = read_form(req, st).await?;
        Ok(Self { form, token_ok })
    }
}
