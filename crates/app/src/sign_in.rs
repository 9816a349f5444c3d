//! Staff sign-in: throttled per account and client before any password is checked, with a
//! bounded number of password checks in flight.
//!
//! Limits are per client (an IP address; an IPv6 client counts as its /64, what one household
//! or office gets), never per account alone: an attacker can slow themselves down, not lock
//! the owner out from elsewhere.

use std::net::IpAddr;
use std::sync::Arc;

use passnum_core::Timestamp;
use passnum_store::{StaffMember, Store, StoreError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::passwords::{hash_password, verify_password};

/// Attempts one client may make on one account within the window.
pub const ATTEMPTS_PER_ACCOUNT: i64 = 5;
/// Attempts one client may make on all accounts within the window (password spraying).
pub const ATTEMPTS_PER_CLIENT: i64 = 20;
pub const WINDOW_MS: i64 = 15 * 60_000;

/// Password checks allowed at once. Each argon2 check holds 19 MiB and a core for a few
/// tens of milliseconds: more at once only queue, and without a bound a burst of sign-ins
/// takes the server's memory.
#[derive(Clone)]
pub struct PasswordChecks(Arc<Semaphore>);

impl PasswordChecks {
    pub fn new(at_once: usize) -> Self {
        Self(Arc::new(Semaphore::new(at_once.max(1))))
    }

    /// As many as the machine has cores (at least 2).
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get().max(2)))
    }

    /// A permit now, or none when all are taken: the caller answers "busy" at once.
    pub fn try_start(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

impl Default for PasswordChecks {
    fn default() -> Self {
        Self::for_this_machine()
    }
}

/// Why a sign-in did not open a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignInRefusal {
    #[error(
        "Trop de tentatives pour ce compte depuis votre connexion. Attendez 15 minutes, ou demandez un lien de réinitialisation à l'opérateur."
    )]
    TooManyOnAccount,
    #[error("Trop de tentatives de connexion depuis votre connexion. Attendez 15 minutes.")]
    TooManyFromClient,
    #[error("Le service est très sollicité : réessayez dans quelques secondes.")]
    Busy,
    #[error("Adresse ou mot de passe incorrect.")]
    Wrong,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Refused(SignInRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key a client's attempts are counted under.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Checks a password, within the limits; the member on success.
pub async fn sign_in(
    store: &Store,
    checks: &PasswordChecks,
    email: &str,
    password: &str,
    client: IpAddr,
    now: Timestamp,
) -> Result<StaffMember, SignInError> {
    let refused = |r| Err(SignInError::Refused(r));
    // What is counted is bounded: no address is longer, and a 64 KiB "e-mail" is not stored.
    let email = &passnum_core::text::kept(email.trim(), passnum_core::text::MAX_EMAIL_CHARS);
    let client = client_key(client);
    let since = now.plus_ms(-WINDOW_MS);
    // Read first: a client already over its limit writes nothing more.
    let seen = store.sign_in_attempts(email, &client, since).await?;
    if let Some(r) = over_limit(seen.on_account, seen.from_client, false) {
        return refused(r);
    }
    let Some(_permit) = checks.try_start() else {
        return refused(SignInRefusal::Busy);
    };
    let counted = store
        .record_sign_in_attempt(email, &client, now, since)
        .await?;
    if let Some(r) = over_limit(counted.on_account, counted.from_client, true) {
        return refused(r);
    }
    let found = store.staff_for_sign_in(email).await?;
    let ok = match &found {
        Some((m, hash)) if !m.disabled => verify_password(password.into(), hash.clone()).await,
        _ => {
            // Same work whether or not the account exists: timing tells nothing.
            let _ = hash_password(password.into()).await;
            false
        }
    };
    match found {
        Some((member, _)) if ok => {
            store.clear_sign_in_attempts(email, &client).await?;
            Ok(member)
        }
        _ => refused(SignInRefusal::Wrong),
    }
}

/// Before recording, the limit is reached at `limit` attempts; after, this attempt is
/// counted too and may be the `limit`-th.
fn over_limit(on_account: i64, from_client: i64, recorded: bool) -> Option<SignInRefusal> {
    let allowed = |limit: i64| if recorded { limit } else { limit - 1 };
    if on_account > allowed(ATTEMPTS_PER_ACCOUNT) {
        Some(SignInRefusal::TooManyOnAccount)
    } else if from_client > allowed(ATTEMPTS_PER_CLIENT) {
        Some(SignInRefusal::TooManyFromClient)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_as_its_64_and_a_mapped_ipv4_as_itself() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa::1")),
            client_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(client_key(ip("::ffff:192.0.2.4")), "192.0.2.4");
    }

    #[test]
    fn the_fifth_attempt_is_checked_and_the_sixth_is_not() {
        assert_eq!(over_limit(4, 4, false), None);
        assert_eq!(
            over_limit(5, 5, false),
            Some(SignInRefusal::TooManyOnAccount)
        );
        assert_eq!(over_limit(5, 5, true), None);
        assert_eq!(
            over_limit(6, 6, true),
            Some(SignInRefusal::TooManyOnAccount)
        );
        assert_eq!(
            over_limit(1, 21, true),
            Some(SignInRefusal::TooManyFromClient)
        );
    }
}
