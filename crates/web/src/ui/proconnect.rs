//! Signing in with ProConnect: the start (to the provider, with the state in a cookie) and the
//! return (every check, then the account found by the provider's subject, or linked once by an
//! invitation). A refusal is logged with its reason and shown as one sentence; no account is
//! ever created here.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_app::proconnect::{LOGIN_TTL_MS, same_legal_unit};
use passnum_store::{Actor, LinkRefusal, StaffMember, tokens_hash};
use serde::Deserialize;

use super::login::home_of;
use super::message;
use super::session::{Csrf, SESSION_COOKIE, SESSION_TTL_MS, cookie, set_cookie};
use crate::AppState;
use crate::deploy::ClientIp;

/// The browser's half of a sign-in under way: its state.
pub const STATE_COOKIE: &str = "passnum_oidc";

#[derive(Deserialize)]
pub struct StartQuery {
    /// A password link's token: the account to link to the ProConnect identity.
    invitation: Option<String>,
}

/// 20 sign-ins started per client in 10 minutes: a person needs a few; a client that starts
/// them without end would otherwise fill the table of sign-ins under way and lock everyone out.
pub fn start_limit() -> passnum_app::throttle::PerClientLimit {
    passnum_app::throttle::PerClientLimit::new(
        20,
        LOGIN_TTL_MS,
        std::num::NonZeroUsize::new(100_000).expect("non-zero"),
    )
}

/// `GET /connexion/proconnect`: to the provider.
pub async fn start(
    State(st): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let Some(pc) = st.proconnect.clone() else {
        return not_configured(&csrf);
    };
    let now = st.clock.now();
    if !st.proconnect_starts.allow(client, now) {
        return message(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            &csrf,
            "Trop de tentatives",
            "Trop de connexions ProConnect ont été commencées depuis cet appareil : réessayez dans dix minutes.",
        );
    }
    let invitation = match q.invitation.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => match st.store.password_reset_valid(token, now).await {
            Ok(true) => Some(tokens_hash(token)),
            Ok(false) => return expired_invitation(&csrf),
            Err(e) => return unavailable(&csrf, &e),
        },
        None => None,
    };
    let start = pc.start(invitation);
    if let Err(e) = st
        .store
        .start_oidc_login(&start.state, &start.pending, now, LOGIN_TTL_MS)
        .await
    {
        return unavailable(&csrf, &e);
    }
    let mut r = Redirect::to(&start.url).into_response();
    // SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
    if let Ok(v) =
        HeaderValue::from_str(&set_cookie(STATE_COOKIE, &start.state, LOGIN_TTL_MS / 1000))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// The provider names itself (RFC 9207): an answer from another one is refused.
    iss: Option<String>,
}

/// `GET /connexion/proconnect/retour`: the provider's answer.
pub async fn finish(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ReturnQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let Some(pc) = st.proconnect.clone() else {
        return not_configured(&csrf);
    };
    let now = st.clock.now();
    // The state must be the one this browser was given (a link made by someone else, to sign
    // the victim into the attacker's account, fails here).
    let state = q.state.unwrap_or_default();
    if state.is_empty() || cookie(&headers, STATE_COOKIE).as_deref() != Some(state.as_str()) {
        tracing::warn!(reason = "state", "connexion ProConnect refusée");
        return again(&csrf);
    }
    let pending = match st.store.take_oidc_login(&state, now).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            tracing::warn!(
                reason = "state inconnu ou expiré",
                "connexion ProConnect refusée"
            );
            return again(&csrf);
        }
        Err(e) => return unavailable(&csrf, &e),
    };
    if q.iss.as_deref().is_some_and(|iss| iss != pc.issuer()) {
        tracing::warn!(reason = "iss", "connexion ProConnect refusée");
        return again(&csrf);
    }
    if let Some(error) = q.error {
        tracing::info!(error = %error.chars().take(60).collect::<String>(), "connexion ProConnect abandonnée");
        return message(
            StatusCode::BAD_REQUEST,
            None,
            &csrf,
            "Connexion non aboutie",
            "ProConnect n'a pas confirmé votre identité. Recommencez, ou connectez-vous avec votre mot de passe.",
        );
    }
    let identity = match pc.finish(q.code.as_deref().unwrap_or(""), &pending).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "connexion ProConnect refusée");
            return message(
                StatusCode::BAD_REQUEST,
                None,
                &csrf,
                "Connexion refusée",
                "ProConnect n'a pas pu confirmer votre identité : recommencez. Si cela se reproduit, connectez-vous avec votre mot de passe et prévenez l'opérateur.",
            );
        }
    };
    let member = match account(&st, &identity, pending.invitation_hash.as_deref(), &csrf).await {
        Ok(m) => m,
        Err(answer) => return answer,
    };
    let token = match st
        .store
        .create_oidc_session(member.id, &identity.id_token, now, SESSION_TTL_MS)
        .await
    {
        Ok(t) => t,
        Err(e) => return unavailable(&csrf, &e),
    };
    let mut r = Redirect::to(home_of(member.actor)).into_response();
    for c in [
        set_cookie(SESSION_COOKIE, &token, SESSION_TTL_MS / 1000),
        set_cookie(STATE_COOKIE, "", 0),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// The account of this identity: already linked, or linked now by the invitation; its
/// organisation's SIRET checked against ProConnect's before anything is linked.
async fn account(
    st: &AppState,
    identity: &passnum_app::proconnect::Identity,
    invitation: Option<&str>,
    csrf: &Csrf,
) -> Result<StaffMember, Response> {
    let now = st.clock.now();
    let store = &st.store;
    if let Some(m) = store
        .staff_by_oidc_subject(&identity.subject)
        .await
        .map_err(|e| unavailable(csrf, &e))?
    {
        check_siret(st, &m, identity.siret.as_deref(), csrf).await?;
        return Ok(m);
    }
    let Some(hash) = invitation else {
        tracing::warn!(
            reason = "identité inconnue, sans invitation",
            "connexion ProConnect refusée"
        );
        return Err(message(
            StatusCode::FORBIDDEN,
            None,
            csrf,
            "Compte non relié",
            "Aucun compte passnum n'est relié à cette identité ProConnect. Demandez une invitation à l'opérateur (ou à l'administrateur de votre lieu), ouvrez son lien, puis choisissez « S'identifier avec ProConnect ».",
        ));
    };
    let invited = store
        .invitation_member(hash, now)
        .await
        .map_err(|e| unavailable(csrf, &e))?
        .ok_or_else(|| expired_invitation(csrf))?;
    check_siret(st, &invited, identity.siret.as_deref(), csrf).await?;
    match store
        .link_oidc_by_invitation(hash, &identity.subject, &identity.email, now)
        .await
        .map_err(|e| unavailable(csrf, &e))?
    {
        Ok(m) => {
            tracing::info!(staff = m.id, "compte relié à ProConnect");
            Ok(m)
        }
        Err(refusal) => {
            tracing::warn!(reason = ?refusal, "liaison ProConnect refusée");
            let text = match refusal {
                LinkRefusal::InvitationInvalid => return Err(expired_invitation(csrf)),
                LinkRefusal::EmailMismatch => {
                    "L'adresse électronique de votre identité ProConnect n'est pas celle de l'invitation. Connectez-vous à ProConnect avec l'adresse invitée, ou demandez une invitation à votre adresse."
                }
                LinkRefusal::AlreadyLinked => {
                    "Ce compte, ou cette identité ProConnect, est déjà relié à un autre. Prévenez l'opérateur."
                }
            };
            Err(message(
                StatusCode::FORBIDDEN,
                None,
                csrf,
                "Compte non relié",
                text,
            ))
        }
    }
}

/// A venue's staff sign in for the venue's legal unit (same SIREN); other organisations have
/// no SIRET recorded in passnum yet, the operator none.
async fn check_siret(
    st: &AppState,
    m: &StaffMember,
    claimed: Option<&str>,
    csrf: &Csrf,
) -> Result<(), Response> {
    let Actor::Venue(id) = m.actor else {
        return Ok(());
    };
    let venue = st
        .store
        .get_venue(id)
        .await
        .map_err(|e| unavailable(csrf, &e))?;
    if same_legal_unit(claimed, &venue.siret) {
        return Ok(());
    }
    tracing::warn!(
        reason = "siret",
        staff = m.id,
        "connexion ProConnect refusée"
    );
    Err(message(
        StatusCode::FORBIDDEN,
        None,
        csrf,
        "Organisation différente",
        &format!(
            "Votre identité ProConnect est rattachée à une autre organisation que {} (SIRET {}). Dans ProConnect, choisissez cette organisation, puis recommencez.",
            venue.name, venue.siret
        ),
    ))
}

fn again(csrf: &Csrf) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        None,
        csrf,
        "Connexion expirée",
        "Cette connexion ProConnect a expiré ou a été commencée dans un autre navigateur : recommencez depuis la page de connexion.",
    )
}

fn expired_invitation(csrf: &Csrf) -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        csrf,
        "Invitation expirée",
        "Cette invitation n'est plus valable. Demandez-en une nouvelle à l'opérateur.",
    )
}

fn not_configured(csrf: &Csrf) -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        csrf,
        "ProConnect indisponible",
        "Ce service ne propose pas la connexion par ProConnect : connectez-vous avec votre adresse et votre mot de passe.",
    )
}

fn unavailable(csrf: &Csrf, e: &passnum_store::StoreError) -> Response {
    tracing::error!(error = %e, "connexion ProConnect");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        csrf,
        "Connexion impossible",
        "Réessayez dans un instant.",
    )
}
