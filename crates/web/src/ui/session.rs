//! Staff sign-in state: a session cookie (random token, stored hashed), CSRF protection by a
//! double-submit cookie on every form, and password hashing with argon2.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_store::StaffMember;

use super::PageError;
use super::error::SignedIn;
use crate::AppState;
pub use passnum_app::passwords::{hash_password, password_problem, verify_password};

pub const SESSION_COOKIE: &str = "passnum_session";
pub const CSRF_COOKIE: &str = "passnum_csrf";
/// A working day and a half: a mediator signs in once a day.
pub const SESSION_TTL_MS: i64 = 36 * 3_600_000;

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub fn set_cookie(name: &str, value: &str, max_age_s: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}")
}

/// The CSRF token of this browser's forms. Signed in, it is derived from the session, so
/// that a form cannot be forged without the session itself (which is `HttpOnly`); before
/// sign-in, it is the value of the CSRF cookie (double submit), or a new one to set.
pub struct Csrf {
    pub token: String,
    pub is_new: bool,
}

impl Csrf {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_cookies(
            cookie(headers, SESSION_COOKIE),
            cookie(headers, CSRF_COOKIE),
        )
    }

    /// From the session cookie if there is one, else from the CSRF cookie.
    pub fn from_cookies(session: Option<String>, csrf: Option<String>) -> Self {
        match session {
            Some(session) => {
                use sha2::{Digest, Sha256};
                let digest = Sha256::digest(format!("passnum-csrf\n{session}").as_bytes());
                Self {
                    token: hex::encode(digest),
                    is_new: false,
                }
            }
            None => Self::from_cookie(csrf),
        }
    }

    /// From the cookie's value, if the browser sent one.
    fn from_cookie(cookie: Option<String>) -> Self {
        match cookie {
            Some(token) => Self {
                token,
                is_new: false,
            },
            None => Self {
                token: passnum_store::random_token(32),
                is_new: true,
            },
        }
    }

    /// True when a submitted form carries this browser's token.
    pub fn matches(&self, submitted: &str) -> bool {
        !self.is_new
            && passnum_core::text::constant_time_eq(self.token.as_bytes(), submitted.as_bytes())
    }

    pub fn set_cookie_header(&self) -> Option<String> {
        self.is_new.then(|| {
            format!(
                "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000",
                self.token
            )
        })
    }
}

/// The signed-in member, if any.
pub struct MaybeStaff(pub Option<StaffMember>);

impl FromRequestParts<AppState> for MaybeStaff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(Self(None));
        };
        match st.store.session_staff(&token, st.clock.now()).await {
            Ok(m) => {
                if let (Some(m), Some(slot)) = (&m, parts.extensions.get::<SignedIn>()) {
                    slot.set(m);
                }
                if let Some(m) = &m {
                    crate::audit::Caller::set(parts, || {
                        crate::audit::CallerId::staff(m.id, m.actor)
                    });
                }
                Ok(Self(m))
            }
            Err(e) => {
                tracing::error!(error = %e, "lecture de session");
                Err(PageError::Unavailable.into_response())
            }
        }
    }
}

/// A signed-in member; otherwise the sign-in page, coming back here afterwards.
pub struct Staff(pub StaffMember);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        match MaybeStaff::from_request_parts(parts, st).await? {
            MaybeStaff(Some(m)) => Ok(Self(m)),
            MaybeStaff(None) => {
                // A form sent after the session expired comes back to the page that showed it
                // (a form's address answers POST only), where the page's script refills what
                // was typed; a page opened comes back to itself.
                let here = parts.uri.path();
                let back = if parts.method.is_safe() {
                    Some(here)
                } else {
                    // A form shown again at its own address (after an error) names no page:
                    // then the member's home page.
                    referring_path(&parts.headers).filter(|p| *p != here)
                };
                let to = match back {
                    Some(b) => format!("/connexion?suite={}&expiree=1", urlencode(b)),
                    None => "/connexion?expiree=1".to_string(),
                };
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

/// The path of the page a same-origin form was sent from (`Referrer-Policy: same-origin`
/// sends it only then); the sign-in page checks it is a local path before going there.
fn referring_path(headers: &HeaderMap) -> Option<&str> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let (_, rest) = referer.split_once("://")?;
    let path = &rest[rest.find('/')?..];
    Some(path.split(['?', '#']).next().unwrap_or(path))
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Role guards for pages: the signed-in member with the right role, or the "reserved" page
/// (403) for the others, before the handler runs.
macro_rules! role_page {
    ($(#[$doc:meta])* $name:ident($($field:ty),*), |$m:ident| $extract:expr) => {
        $(#[$doc])*
        pub struct $name(pub StaffMember $(, pub $field)*);

        impl FromRequestParts<AppState> for $name {
            type Rejection = Response;

            async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
                let Staff($m) = Staff::from_request_parts(parts, st).await?;
                // The guard gives the member back when the role does not match.
                let guarded: Result<Self, StaffMember> = $extract;
                guarded.map_err(|_| PageError::Forbidden.into_response())
            }
        }
    };
}

role_page!(
    /// A venue's mediator, with the venue.
    VenueStaff(passnum_core::VenueId),
    |m| match (m.actor, m.also) {
        (passnum_store::Actor::Venue(v), _) | (_, Some(passnum_store::Actor::Venue(v))) => Ok(VenueStaff(m, v)),
        _ => Err(m),
    }
);
role_page!(
    /// A funder's staff, with the funder.
    FunderStaff(passnum_core::FunderId),
    |m| match m.actor { passnum_store::Actor::Funder(f) => Ok(FunderStaff(m, f)), _ => Err(m) }
);
role_page!(
    /// An agent of a distributing structure, with the structure.
    DistributorStaff(passnum_store::DistributorId),
    |m| match (m.actor, m.also) {
        (passnum_store::Actor::Distributor(d), _) | (_, Some(passnum_store::Actor::Distributor(d))) => {
            Ok(DistributorStaff(m, d))
        }
        _ => Err(m),
    }
);
role_page!(
    /// Staff of an observer (the State's programme team, a territorial hub), with the observer.
    ObserverStaff(passnum_core::ObserverId),
    |m| match m.actor { passnum_store::Actor::Observer(o) => Ok(ObserverStaff(m, o)), _ => Err(m) }
);
role_page!(
    /// The référent territorial of a member territory, with the territory.
    ReferentStaff(passnum_core::TerritoryId),
    |m| match m.actor { passnum_store::Actor::Referent(t) => Ok(ReferentStaff(m, t)), _ => Err(m) }
);
role_page!(
    /// The operator's staff.
    OperatorStaff(),
    |m| match m.actor { passnum_store::Actor::Operator => Ok(OperatorStaff(m)), _ => Err(m) }
);

/// A funder's staff member with one of the funder's own orders, the `{id}` of the path.
/// Another funder's order, or an id that names none, gets the same "not found" page, before
/// the handler runs.
pub struct FunderOrder(pub StaffMember, pub passnum_store::Order);

impl FromRequestParts<AppState> for FunderOrder {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let FunderStaff(staff, funder) = FunderStaff::from_request_parts(parts, st).await?;
        let id = axum::extract::RawPathParams::from_request_parts(parts, st)
            .await
            .ok()
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == "id")
                    .and_then(|(_, v)| v.parse::<i64>().ok())
            });
        let order = match id {
            Some(id) => st
                .store
                .get_order(passnum_core::OrderId(id))
                .await
                .ok()
                .filter(|o| o.funder_id == funder),
            None => None,
        };
        match order {
            Some(o) => Ok(FunderOrder(staff, o)),
            None => Err(super::ordering::ORDER_NOT_FOUND.into_response()),
        }
    }
}
