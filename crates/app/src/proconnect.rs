//! ProConnect, the State's sign-in for public servants and the staff of organisations
//! (OpenID Connect): discovery, the authorization code flow with PKCE, `state` and `nonce`, the
//! ID token checked (issuer, audience, signature, expiry, nonce), the user info that ProConnect
//! returns as a signed JWT checked the same way, and sign-out at the provider.
//!
//! Every check is the `openidconnect` crate's; this module chooses the settings (signed user
//! info required, the scopes ProConnect defines) and talks HTTP through passnum's own client
//! (no redirects followed, short time limits).

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
    UserInfoClaims,
};
use passnum_store::PendingLogin;
use serde::{Deserialize, Serialize};

/// The path ProConnect sends people back to (declared to ProConnect as the redirect URI).
pub const CALLBACK_PATH: &str = "/connexion/proconnect/retour";
/// Where the provider sends people back after signing out there.
pub const AFTER_LOGOUT_PATH: &str = "/connexion";
/// How long a sign-in may take at the provider.
pub const LOGIN_TTL_MS: i64 = 10 * 60_000;

/// The claims ProConnect adds to the standard ones.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ProConnectClaims {
    /// The SIRET of the establishment the person signs in for.
    pub siret: Option<String>,
    pub usual_name: Option<String>,
    pub idp_id: Option<String>,
}
impl AdditionalClaims for ProConnectClaims {}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[derive(Clone, Debug)]
pub struct Settings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// passnum's public address, without the final slash.
    pub public_url: String,
}

/// What a refused sign-in says in the log (never to the person: they get one sentence).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("découverte du fournisseur {0} impossible : {1}")]
    Discovery(String, String),
    #[error("réglage ProConnect invalide : {0}")]
    Settings(String),
    #[error("échange du code refusé : {0}")]
    Token(String),
    #[error("jeton d'identité refusé : {0}")]
    IdToken(String),
    #[error("informations d'utilisateur refusées : {0}")]
    UserInfo(String),
}

/// The person as ProConnect vouches for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The issuer and the provider's subject, which together name the person for good.
    pub subject: String,
    pub email: String,
    pub siret: Option<String>,
    pub name: String,
    /// Kept with the session, for signing out at the provider.
    pub id_token: String,
}

/// A sign-in to start: send the browser to `url`, keep `state` in its cookie and `pending`
/// in the store.
pub struct Start {
    pub url: String,
    pub state: String,
    pub pending: PendingLogin,
}

pub struct ProConnect {
    client: Client,
    http: reqwest::Client,
    end_session: Option<EndSessionUrl>,
    public_url: String,
    issuer: String,
}

fn http_client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        // Following redirects would let a provider's answer send passnum's requests elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| OidcError::Settings(e.to_string()))
}

/// openidconnect's HTTP calls through reqwest (the crate's own adapter is for another reqwest).
async fn call(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
    let answer = http
        .execute(request)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut builder = openidconnect::http::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        builder = builder.header(name, value);
    }
    // Bounded: a provider's answer is a few kilobytes.
    let body = answer.bytes().await.map_err(|e| HttpError(e.to_string()))?;
    if body.len() > 1_000_000 {
        return Err(HttpError("réponse de plus d'un mégaoctet".into()));
    }
    builder
        .body(body.to_vec())
        .map_err(|e| HttpError(e.to_string()))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl ProConnect {
    /// Reads the provider's discovery document and keys.
    pub async fn discover(settings: &Settings) -> Result<Arc<Self>, OidcError> {
        let http = http_client()?;
        let issuer = IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| OidcError::Settings(format!("--proconnect-issuer : {e}")))?;
        let caller = |r: HttpRequest| call(http.clone(), r);
        // The crate checks that the document's issuer is the one configured.
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &caller)
            .await
            .map_err(|e| OidcError::Discovery(settings.issuer.clone(), chain(&e)))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", settings.public_url))
            .map_err(|e| OidcError::Settings(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect)
        // client_secret_post, as ProConnect's documentation shows.
        .set_auth_type(AuthType::RequestBody);
        Ok(Arc::new(Self {
            client,
            http,
            end_session,
            public_url: settings.public_url.clone(),
            issuer: settings.issuer.clone(),
        }))
    }

    /// The provider's issuer, as configured and confirmed by its discovery document.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A new sign-in: the provider's address with a fresh state, nonce and PKCE challenge.
    pub fn start(&self, invitation_hash: Option<String>) -> Start {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                // passnum's own random tokens (200 bits, letters and digits): the state
                // travels in a cookie, whose reader accepts nothing else.
                || CsrfToken::new(passnum_store::random_token(40)),
                Nonce::new_random,
            )
            .add_scopes(
                ["email", "given_name", "usual_name", "siret"].map(|s| Scope::new(s.into())),
            )
            .set_pkce_challenge(challenge)
            .url();
        Start {
            url: url.to_string(),
            state: state.secret().clone(),
            pending: PendingLogin {
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                invitation_hash,
            },
        }
    }

    /// Exchanges the code and checks what comes back; the identity, or why it is refused.
    pub async fn finish(&self, code: &str, pending: &PendingLogin) -> Result<Identity, OidcError> {
        let caller = |r: HttpRequest| call(self.http.clone(), r);
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Token(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&caller)
            .await
            .map_err(|e| OidcError::Token(chain(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::IdToken("absent de la réponse".into()))?;
        let claims = id_token
            .claims(
                &self.client.id_token_verifier(),
                &Nonce::new(pending.nonce.clone()),
            )
            .map_err(|e| OidcError::IdToken(chain(&e)))?;
        let sub = claims.subject().clone();
        let info: UserInfoClaims<ProConnectClaims, CoreGenderClaim> = self
            .client
            .user_info(tokens.access_token().clone(), Some(sub.clone()))
            .map_err(|e| OidcError::UserInfo(e.to_string()))?
            // ProConnect signs its user info: an unsigned answer is refused.
            .require_signed_response(true)
            .require_issuer_match(true)
            .require_audience_match(true)
            .request_async(&caller)
            .await
            .map_err(|e| OidcError::UserInfo(chain(&e)))?;
        let email = info
            .email()
            .map(|e| e.to_string())
            .ok_or_else(|| OidcError::UserInfo("pas d'adresse électronique".into()))?;
        let given = info
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .unwrap_or_default();
        let usual = info
            .additional_claims()
            .usual_name
            .clone()
            .unwrap_or_default();
        Ok(Identity {
            subject: format!("{} {}", self.issuer, sub.as_str()),
            email,
            siret: info.additional_claims().siret.clone(),
            name: format!("{given} {usual}").trim().to_string(),
            id_token: id_token.to_string(),
        })
    }

    /// Where to send the browser to sign out at the provider too, if it says how.
    pub fn logout_url(&self, id_token: &str) -> Option<String> {
        let end = self.end_session.clone()?;
        let token = serde_json::from_value::<openidconnect::core::CoreIdToken>(
            serde_json::Value::String(id_token.to_string()),
        )
        .ok()?;
        let after =
            PostLogoutRedirectUrl::new(format!("{}{AFTER_LOGOUT_PATH}", self.public_url)).ok()?;
        Some(
            LogoutRequest::from(end)
                .set_id_token_hint(&token)
                .set_post_logout_redirect_uri(after)
                .set_state(CsrfToken::new_random())
                .http_get_url()
                .to_string(),
        )
    }
}

/// An error with its causes, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(" : ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Whether ProConnect's SIRET is of the organisation's legal unit: the same SIREN (its first
/// nine digits). A town's agent may sign in for the town hall's establishment while the
/// médiathèque has its own SIRET; another organisation never shares the SIREN.
pub fn same_legal_unit(claimed: Option<&str>, organisation: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    match claimed.map(digits) {
        Some(c) if c.len() == 14 => {
            let o = digits(organisation);
            o.len() == 14 && c[..9] == o[..9]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_siret_must_name_the_same_legal_unit() {
        assert!(same_legal_unit(Some("21690123000005"), "21690123000005"));
        assert!(
            same_legal_unit(Some("216901230 00013"), "21690123000005"),
            "another establishment of the same town"
        );
        assert!(!same_legal_unit(Some("73282932000074"), "21690123000005"));
        assert!(!same_legal_unit(None, "21690123000005"));
        assert!(!same_legal_unit(Some("2169"), "21690123000005"));
        assert!(
            !same_legal_unit(Some("21690123000005"), "W123456789"),
            "an association without SIRET"
        );
    }
}
