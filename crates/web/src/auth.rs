//! Bearer tokens → actors. Deny by default: every API route but the OpenAPI document needs one.

use parking_lot::Mutex;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use passnum_store::Actor;
use passnum_store::tokens_hash;

use crate::AppState;
use crate::error::ApiError;

/// How long a token lookup is remembered. Revoking a token takes effect within this delay.
const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: NonZeroUsize = NonZeroUsize::new(10_000).expect("not zero");

/// Caches token lookups so a busy front desk does not cost one database read per scan: the
/// most recently used valid tokens, at most [`MAX_ENTRIES`]. Unknown tokens are never cached
/// (a client sending random tokens cannot push the real ones out), and a full cache drops the
/// least recently used entry, not all of them.
pub struct TokenCache {
    entries: Mutex<lru::LruCache<String, (Actor, Instant)>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self {
            entries: Mutex::new(lru::LruCache::new(MAX_ENTRIES)),
        }
    }
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Actor> {
        let mut map = self.entries.lock();
        match map.get(hash) {
            Some((actor, at)) if at.elapsed() < TTL => Some(*actor),
            Some(_) => {
                map.pop(hash);
                None
            }
            None => None,
        }
    }

    fn put(&self, hash: String, actor: Actor) {
        self.entries.lock().put(hash, (actor, Instant::now()));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().len()
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
                let actor = state
                    .store
                    .authenticate(token)
                    .await?
                    .ok_or_else(ApiError::unauthenticated)?;
                state.tokens.put(hash.clone(), actor);
                actor
            }
        };
        crate::audit::Caller::set(parts, || crate::audit::CallerId::token(&hash, actor));
        Ok(Auth(actor))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_drops_the_least_recently_used_token_only() {
        let cache = TokenCache::default();
        for i in 0..MAX_ENTRIES.get() {
            cache.put(format!("t{i}"), Actor::Operator);
        }
        assert!(
            cache.get("t0").is_some(),
            "t0 is now the most recently used"
        );
        cache.put("new".into(), Actor::Operator);
        assert_eq!(cache.len(), MAX_ENTRIES.get());
        assert!(cache.get("t0").is_some());
        assert!(cache.get("t1").is_none(), "the least recently used went");
        assert!(cache.get("new").is_some());
    }
}
