//! Staff sign-in: throttled per account and client before any password is checked, with a
//! bounded number of password checks in flight.
//!
//! Limits are per client (an IP address; an IPv6 client counts as its /64, what one household
//! or office gets), never per account alone: an attacker can slow themselves down, not lock
//! the owner out from elsewhere. Past a few free attempts, each further attempt must wait
//! after the previous one, twice as long each time (1, 2, 4… minutes, at most an hour): a
//! person who mistyped waits a minute, a guessing program gets a few dozen tries a day.

use std::net::IpAddr;
use std::sync::Arc;

use passnum_core::Timestamp;
use passnum_store::{PastAttempt, StaffMember, Store, StoreError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::passwords::{hash_password, verify_password};

/// Attempts one client may make on one account without waiting.
pub const FREE_PER_ACCOUNT: usize = 5;
/// Attempts one client may make on all accounts without waiting (password spraying).
pub const FREE_PER_CLIENT: usize = 20;
/// The wait before the first attempt past the free ones; each further one doubles it.
pub const FIRST_DELAY_MS: i64 = 60_000;
pub const LONGEST_DELAY_MS: i64 = 3_600_000;
/// Attempts older than this are forgotten by the policy (and may be purged).
pub const WINDOW_MS: i64 = 24 * 3_600_000;

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
        "Trop de tentatives pour ce compte depuis votre connexion. Réessayez dans {}, ou demandez un lien de réinitialisation à l'opérateur.",
        in_minutes(*.wait_ms)
    )]
    TooManyOnAccount { wait_ms: i64 },
    #[error(
        "Trop de tentatives de connexion depuis votre connexion. Réessayez dans {}.",
        in_minutes(*.wait_ms)
    )]
    TooManyFromClient { wait_ms: i64 },
    #[error("Le service est très sollicité : réessayez dans quelques secondes.")]
    Busy,
    #[error("Adresse ou mot de passe incorrect.")]
    Wrong,
}

impl SignInRefusal {
    /// How long the client should wait before trying again, when that is known.
    pub fn retry_after_ms(self) -> Option<i64> {
        match self {
            Self::TooManyOnAccount { wait_ms } | Self::TooManyFromClient { wait_ms } => {
                Some(wait_ms)
            }
            Self::Busy => Some(1_000),
            Self::Wrong => None,
        }
    }
}

/// "1 minute", "4 minutes": whole minutes, rounded up.
fn in_minutes(ms: i64) -> String {
    let minutes = (ms.max(1) + 59_999) / 60_000;
    if minutes == 1 {
        "1 minute".into()
    } else {
        format!("{minutes} minutes")
    }
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
    // Read first: a client that must wait writes nothing more.
    let seen = store.sign_in_attempts(email, &client, since).await?;
    if let Some(r) = must_wait(&seen, now) {
        return refused(r);
    }
    let Some(_permit) = checks.try_start() else {
        return refused(SignInRefusal::Busy);
    };
    let mut counted = store
        .record_sign_in_attempt(email, &client, now, since)
        .await?;
    // Decide as if before this attempt, on every other one, parallel ones included.
    if let Some(mine) = counted.iter().rposition(|a| a.on_account && a.at == now) {
        counted.remove(mine);
    }
    if let Some(r) = must_wait(&counted, now) {
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

/// Whether an attempt made `now` must wait, given the client's other recent attempts.
///
/// The `n`-th attempt past the free ones must come at least `delay(n)` after the latest
/// other attempt; parallel attempts, seeing each other, all wait (the first to commit may
/// still go on alone).
pub fn must_wait(others: &[PastAttempt], now: Timestamp) -> Option<SignInRefusal> {
    let wait = |attempts: &mut dyn Iterator<Item = &PastAttempt>, free: usize| {
        let (count, latest) = attempts.fold((0usize, i64::MIN), |(n, latest), a| {
            (n + 1, latest.max(a.at.unix_ms()))
        });
        if count < free {
            return None;
        }
        let doublings = u32::try_from(count - free).unwrap_or(u32::MAX).min(16);
        let delay = (FIRST_DELAY_MS << doublings).min(LONGEST_DELAY_MS);
        let left = latest.saturating_add(delay) - now.unix_ms();
        (left > 0).then_some(left)
    };
    if let Some(wait_ms) = wait(
        &mut others.iter().filter(|a| a.on_account),
        FREE_PER_ACCOUNT,
    ) {
        Some(SignInRefusal::TooManyOnAccount { wait_ms })
    } else {
        wait(&mut others.iter(), FREE_PER_CLIENT)
            .map(|wait_ms| SignInRefusal::TooManyFromClient { wait_ms })
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

    fn attempts(on_account: &[i64], elsewhere: &[i64]) -> Vec<PastAttempt> {
        let at = |ms: &i64| Timestamp::from_unix_ms(*ms);
        let mut v: Vec<_> = on_account
            .iter()
            .map(|ms| PastAttempt {
                on_account: true,
                at: at(ms),
            })
            .chain(elsewhere.iter().map(|ms| PastAttempt {
                on_account: false,
                at: at(ms),
            }))
            .collect();
        v.sort_by_key(|a| a.at);
        v
    }

    const MIN: i64 = 60_000;

    #[test]
    fn five_attempts_are_free_then_each_waits_twice_as_long_as_the_one_before() {
        let now = |ms| Timestamp::from_unix_ms(ms);
        assert_eq!(must_wait(&attempts(&[0, 1, 2, 3], &[]), now(4)), None);
        // The sixth comes a minute after the fifth.
        let five = attempts(&[0, 1, 2, 3, 4], &[]);
        assert_eq!(
            must_wait(&five, now(4 + MIN - 10)),
            Some(SignInRefusal::TooManyOnAccount { wait_ms: 10 })
        );
        assert_eq!(must_wait(&five, now(4 + MIN)), None);
        // The seventh two minutes after the sixth, the eighth four after the seventh.
        let six = attempts(&[0, 1, 2, 3, 4, 4 + MIN], &[]);
        assert_eq!(
            must_wait(&six, now(4 + 2 * MIN)),
            Some(SignInRefusal::TooManyOnAccount { wait_ms: MIN })
        );
        assert_eq!(must_wait(&six, now(4 + 3 * MIN)), None);
        let seven = attempts(&[0, 1, 2, 3, 4, 4 + MIN, 4 + 3 * MIN], &[]);
        assert_eq!(
            must_wait(&seven, now(4 + 3 * MIN)),
            Some(SignInRefusal::TooManyOnAccount { wait_ms: 4 * MIN })
        );
        // Never more than an hour, however many attempts.
        let many: Vec<i64> = (0..40).collect();
        assert_eq!(
            must_wait(&attempts(&many, &[]), now(39)),
            Some(SignInRefusal::TooManyOnAccount {
                wait_ms: LONGEST_DELAY_MS
            })
        );
    }

    #[test]
    fn attempts_on_other_accounts_count_for_the_client_only() {
        let now = Timestamp::from_unix_ms(100);
        let others: Vec<i64> = (0..19).collect();
        assert_eq!(must_wait(&attempts(&[], &others), now), None);
        let all: Vec<i64> = (0..20).collect();
        assert_eq!(
            must_wait(&attempts(&[], &all), now),
            Some(SignInRefusal::TooManyFromClient {
                wait_ms: MIN - 100 + 19
            })
        );
        // The account's own limit comes first.
        assert!(matches!(
            must_wait(&attempts(&[0, 1, 2, 3, 4], &others[..15]), now),
            Some(SignInRefusal::TooManyOnAccount { .. })
        ));
    }

    #[test]
    fn the_wait_is_told_in_whole_minutes() {
        let told = |wait_ms| SignInRefusal::TooManyOnAccount { wait_ms }.to_string();
        assert!(told(1).contains("Réessayez dans 1 minute,"), "{}", told(1));
        assert!(told(MIN + 1).contains("dans 2 minutes"));
        assert!(
            SignInRefusal::TooManyFromClient { wait_ms: 4 * MIN }
                .to_string()
                .ends_with("Réessayez dans 4 minutes.")
        );
    }
}
