//! Sign-in, sign-out and password reset.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use passnum_store::{Actor, StoreError};
use serde::Deserialize;

use super::session::{
    Csrf, MaybeStaff, SESSION_COOKIE, SESSION_TTL_MS, cookie, hash_password, password_problem,
    set_cookie,
};
use super::{FieldErrors, Layout, message, render};
use super::{NoFields, Submitted};
use crate::AppState;
use crate::deploy::ClientIp;
use passnum_app::sign_in::{SignInError, SignInRefusal, sign_in};
use passnum_core::text::{MAX_EMAIL_CHARS, kept};

#[derive(Template)]
#[template(path = "connexion.html")]
struct SignIn {
    layout: Layout,
    /// ProConnect is offered.
    proconnect: bool,
    email: String,
    next: String,
    expired: bool,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    suite: Option<String>,
    expiree: Option<String>,
}

/// Longest return path kept across a sign-in.
const MAX_NEXT_CHARS: usize = 200;

/// Only a path of this site: a sign-in link must not send anyone to another one. Browsers
/// drop tabs and newlines from a URL and read `\` as `/`, so `/\evil.example` or
/// `/<tab>/evil.example` would become `//evil.example`, another host: only visible ASCII
/// without `\` is kept, with one leading `/`.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n)).unwrap_or("").to_string()
}

fn is_local_path(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() <= MAX_NEXT_CHARS
        && b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && b.iter().all(|&c| (0x21..0x7f).contains(&c) && c != b'\\')
}

pub async fn form(
    State(st): State<AppState>,
    headers: HeaderMap,
    MaybeStaff(staff): MaybeStaff,
    Query(q): Query<SignInQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let page = SignIn {
        layout: Layout::new("Se connecter", staff.as_ref(), &csrf, "/connexion"),
        proconnect: st.proconnect.is_some(),
        email: String::new(),
        next: safe_next(q.suite.as_deref()),
        expired: q.expiree.is_some(),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub fn home_of(actor: Actor) -> &'static str {
    match actor {
        Actor::Operator => "/operateur",
        Actor::Funder(_) => "/commanditaire",
        Actor::Venue(_) => "/lieu",
        Actor::Distributor(_) => "/structure",
        Actor::Observer(_) => "/observatoire/chiffres",
        Actor::Referent(_) => "/territoire",
    }
}

pub async fn submit(
    State(st): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Submitted { form: f, token_ok }: Submitted<SignInForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = SignIn {
        layout: Layout::new("Se connecter", None, &csrf, "/connexion"),
        proconnect: st.proconnect.is_some(),
        email: kept(&f.email, MAX_EMAIL_CHARS),
        next: safe_next(Some(&f.next)),
        expired: false,
        errors: FieldErrors::default(),
    };
    if !token_ok {
        page.errors.add("email", "Le formulaire a expiré pour des raisons de sécurité. Votre adresse est conservée : saisissez à nouveau le mot de passe.");
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if f.email.trim().is_empty() {
        page.errors
            .add("email", "Saisissez votre adresse électronique.");
    }
    if f.password.is_empty() {
        page.errors.add("password", "Saisissez votre mot de passe.");
    }
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let now = st.clock.now();
    let member = match sign_in(
        &st.store,
        &st.password_checks,
        &f.email,
        &f.password,
        client,
        now,
    )
    .await
    {
        Ok(m) => m,
        Err(SignInError::Refused(r)) => {
            let (field, status) = match r {
                SignInRefusal::Wrong => ("password", StatusCode::UNPROCESSABLE_ENTITY),
                SignInRefusal::TooManyOnAccount { .. }
                | SignInRefusal::TooManyFromClient { .. }
                | SignInRefusal::Busy => ("email", StatusCode::TOO_MANY_REQUESTS),
            };
            page.errors.add(field, r.to_string());
            let mut answer = render(status, &page, &csrf);
            if let Some(ms) = r.retry_after_ms() {
                // Whole seconds, rounded up, for clients and proxies that honour it.
                answer
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from((ms + 999) / 1000));
            }
            return answer;
        }
        Err(SignInError::Store(e)) => {
            return super::PageError::unavailable(e, "connexion").into_response();
        }
    };
    let token = match st
        .store
        .create_session(member.id, now, SESSION_TTL_MS)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "ouverture de session");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                &csrf,
                "Connexion impossible",
                "Réessayez dans un instant.",
            );
        }
    };
    let target = if page.next.is_empty() {
        home_of(member.actor).to_string()
    } else {
        page.next
    };
    let mut r = Redirect::to(&target).into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, &token, SESSION_TTL_MS / 1000))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn sign_out(
    State(st): State<AppState>,
    headers: HeaderMap,
    Submitted { .. }: Submitted<NoFields>,
) -> Response {
    // Always ends the session on the server, whatever the form's token: a sign-out that only
    // clears the cookie would leave a stolen copy of it working. A page of another site
    // cannot use this (the session cookie is not sent with its forms, and the cross-site
    // check refuses them).
    let mut provider_url = None;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        // A session opened through ProConnect ends there too (its ID token as the hint).
        if let (Some(pc), Ok(Some(id_token))) =
            (&st.proconnect, st.store.session_id_token(&token).await)
        {
            provider_url = pc.logout_url(&id_token);
        }
        let _ = st.store.delete_session(&token).await;
    }
    let mut r = match provider_url {
        // A page, not a redirect: the form's own navigation may not leave this site (CSP
        // form-action 'self'); the page goes on to the provider by itself.
        Some(provider_url) => {
            let csrf = Csrf::from_headers(&headers);
            let page = SignedOutPage {
                layout: Layout::new("Déconnexion", None, &csrf, ""),
                provider_url,
            };
            render(StatusCode::OK, &page, &csrf)
        }
        None => Redirect::to("/").into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", 0)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Template)]
#[template(path = "deconnexion_proconnect.html")]
struct SignedOutPage {
    layout: Layout,
    provider_url: String,
}

#[derive(Template)]
#[template(path = "reinitialiser.html")]
struct ResetPage {
    layout: Layout,
    /// The invitation's token, when ProConnect is offered to link the account instead.
    proconnect_invitation: Option<String>,
    errors: FieldErrors,
}

pub async fn reset_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    if !st
        .store
        .password_reset_valid(&token, st.clock.now())
        .await
        .unwrap_or(false)
    {
        return message(
            StatusCode::NOT_FOUND,
            None,
            &csrf,
            "Lien expiré",
            "Ce lien n'est plus valable. Demandez-en un nouveau à l'opérateur.",
        );
    }
    let page = ResetPage {
        layout: Layout::new("Choisir un mot de passe", None, &csrf, ""),
        proconnect_invitation: st.proconnect.is_some().then_some(token),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page, &csrf)
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

pub async fn reset_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Submitted { form: f, token_ok }: Submitted<ResetForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = ResetPage {
        layout: Layout::new("Choisir un mot de passe", None, &csrf, ""),
        proconnect_invitation: st.proconnect.is_some().then(|| token.clone()),
        errors: FieldErrors::default(),
    };
    if !token_ok {
        page.errors.add("password", "Le formulaire a expiré pour des raisons de sécurité : saisissez à nouveau votre mot de passe.");
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if let Some(p) = password_problem(&f.password) {
        page.errors.add("password", p);
    } else if f.password != f.confirmation {
        page.errors
            .add("confirmation", "Les deux saisies ne sont pas identiques.");
    }
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let Ok(hash) = hash_password(f.password).await else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            &csrf,
            "Erreur",
            "Réessayez dans un instant.",
        );
    };
    match st.store.reset_password(&token, &hash, st.clock.now()).await {
        Ok(()) => message(
            StatusCode::OK,
            None,
            &csrf,
            "Mot de passe enregistré",
            "Vous pouvez maintenant vous connecter.",
        ),
        Err(StoreError::NotFound) => message(
            StatusCode::NOT_FOUND,
            None,
            &csrf,
            "Lien expiré",
            "Ce lien n'est plus valable. Demandez-en un nouveau à l'opérateur.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "réinitialisation");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                &csrf,
                "Erreur",
                "Réessayez dans un instant.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        for ok in ["/lieu", "/operateur/virements?page=2", "/a/b#c"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "",
            "lieu",
            "//evil.example",
            "/\\evil.example/x",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "https://evil.example",
            "/é",
            &format!("/{}", "a".repeat(300)),
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
