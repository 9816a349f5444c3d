//! Bearer tokens → actors. Deny by default: every API route but the OpenAPI document needs one.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use passnum_store::Actor;
use passnum_store::tokens_hash;

use crate::AppState;
use crate::error::ApiError;

/// How long a token lookup is remembered. Revoking a token takes effect within this delay.
const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

/// Caches token lookups so a busy front desk does not cost one database read per scan.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Option<Actor>, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Option<Actor>> {
        let map = self.entries.lock();
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(a, _)| *a)
    }

    fn put(&self, hash: String, actor: Option<Actor>) {
        let mut map = self.entries.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(hash, (actor, Instant::now()));
    }
}

/// The authenticated caller.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(ApiError::unauthenticated)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(ApiError::unauthenticated)?;
        let hash = tokens_hash(token);
        let actor = match state.tokens.get(&hash) {
            Some(a) => a,
            None => {
                let a = state.store.authenticate(token).await?;
                state.tokens.put(hash, a);
                a
            }
        };
        actor.map(Auth).ok_or_else(ApiError::unauthenticated)
    }
}

impl Auth {
    pub fn operator(&self) -> Result<(), ApiError> {
        match self.0 {
            Actor::Operator => Ok(()),
            _ => Err(ApiError::forbidden()),
        }
    }
}

/// Role checks that run before the request body is read, so a caller with the wrong role gets
/// 403 whatever it sent, and nothing is parsed for it.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, |$actor:ident| $check:expr) => {
        $(#[$doc])*
        pub struct $name(pub Actor);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                let Auth($actor) = Auth::from_request_parts(parts, state).await?;
                if $check { Ok(Self($actor)) } else { Err(ApiError::forbidden()) }
            }
        }
    };
}

role_extractor!(
    /// The operator.
    OperatorAuth,
    |actor| actor == Actor::Operator
);
role_extractor!(
    /// A venue.
    VenueAuth,
    |actor| matches!(actor, Actor::Venue(_))
);
role_extractor!(
    /// The operator or a funder: who may order.
    OrderingAuth,
    |actor| matches!(actor, Actor::Operator | Actor::Funder(_))
);
/// An agent of a distributing structure, with the structure (checked before the body is read,
/// like the role extractors above).
pub struct DistributorAuth(pub passnum_store::DistributorId);

impl FromRequestParts<AppState> for DistributorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Auth::from_request_parts(parts, state).await? {
            Auth(Actor::Distributor(d)) => Ok(Self(d)),
            _ => Err(ApiError::forbidden()),
        }
    }
}
