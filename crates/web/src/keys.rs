//! Cheque signatures on the server: the published public keys (cached), the check of a
//! scanned QR payload, and the signing key of this server (when it prints booklets).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use passnum_core::signature::{KeyId, PayloadError, SignedCheque, VerifyingKey};
use passnum_core::{ChequeCode, CodeError, RedeemRefusal};
use passnum_store::{Store, StoreError};

/// How long a key list is trusted: a revoked key stops verifying within this time on every
/// server.
const FRESH_FOR: Duration = Duration::from_secs(30);
/// An unknown key id triggers a reload at most this often, so that forged payloads naming
/// random ids cannot turn every scan into a database query.
const UNKNOWN_RELOAD_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct KeyRing {
    cache: Mutex<Option<(Instant, HashMap<KeyId, VerifyingKey>)>>,
}

impl KeyRing {
    async fn reload(&self, store: &Store) -> Result<HashMap<KeyId, VerifyingKey>, StoreError> {
        let keys = store.verifying_keys().await?;
        *self.cache.lock().expect("key cache") = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// The unrevoked public keys, from the cache when it is fresh.
    pub async fn keys(
        &self,
        store: &Store,
        wanted: Option<&KeyId>,
    ) -> Result<HashMap<KeyId, VerifyingKey>, StoreError> {
        let cached = self.cache.lock().expect("key cache").clone();
        match cached {
            Some((at, keys)) if at.elapsed() < FRESH_FOR => {
                let missing = wanted.is_some_and(|k| !keys.contains_key(k));
                if missing && at.elapsed() >= UNKNOWN_RELOAD_EVERY {
                    self.reload(store).await
                } else {
                    Ok(keys)
                }
            }
            _ => self.reload(store).await,
        }
    }

    /// Forgets the cache (after a rotation or revocation on this server).
    pub fn invalidate(&self) {
        *self.cache.lock().expect("key cache") = None;
    }
}

/// What a venue scanned or typed: the printed code, or the whole QR payload, whose signature
/// is then checked before anything else.
pub enum Scanned {
    Code(ChequeCode),
    Signed(SignedCheque),
}

impl Scanned {
    pub fn code(&self) -> ChequeCode {
        match self {
            Scanned::Code(c) => *c,
            Scanned::Signed(s) => s.code,
        }
    }
}

/// A refusal of scanned text: a stable code and a French sentence.
pub struct ScanRefusal {
    pub code: &'static str,
    pub message: String,
}

pub fn payload_message(e: PayloadError) -> String {
    crate::api::capitalize(&e.to_string())
}

pub async fn parse_scanned(
    ring: &KeyRing,
    store: &Store,
    text: &str,
) -> Result<Result<Scanned, ScanRefusal>, StoreError> {
    if !text.trim().to_ascii_uppercase().starts_with("PN1:") {
        return Ok(ChequeCode::parse(text)
            .map(Scanned::Code)
            .map_err(|e: CodeError| {
                let r = RedeemRefusal::Malformed(e);
                ScanRefusal {
                    code: r.code(),
                    message: r.message(),
                }
            }));
    }
    let kid = text.trim().split(':').nth(5).and_then(KeyId::parse);
    let keys = ring.keys(store, kid.as_ref()).await?;
    Ok(SignedCheque::verify(text, |k| keys.get(k).copied())
        .map(|(c, _)| Scanned::Signed(c))
        .map_err(|e| ScanRefusal {
            code: match e {
                PayloadError::NotAPayload | PayloadError::Malformed => "payload_malformed",
                PayloadError::UnknownKey | PayloadError::BadSignature => "not_genuine",
            },
            message: payload_message(e),
        }))
}
