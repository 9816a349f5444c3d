//! Cheque signatures on the server: the published public keys (cached), the check of a
//! scanned QR payload, and the signing key of this server (when it prints booklets).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use passnum_core::signature::{KeyId, PayloadError, SignedCheque, VerifyingKey};
use passnum_core::{ChequeCode, CodeError, RedeemRefusal};
use passnum_store::{PublicKeyRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
        *self.cache.lock() = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// The unrevoked public keys, from the cache when it is fresh.
    pub async fn keys(
        &self,
        store: &Store,
        wanted: Option<&KeyId>,
    ) -> Result<HashMap<KeyId, VerifyingKey>, StoreError> {
        let cached = self.cache.lock().clone();
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
        *self.cache.lock() = None;
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
            message: e.to_string(),
        }))
}

/// One public key, as a JSON Web Key (RFC 8037: OKP, Ed25519).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub kid: String,
    /// The 32-byte public key, base64url without padding.
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
    /// How to read a QR code and what is signed.
    pub payload_format: String,
}

const PAYLOAD_FORMAT: &str = "PN1:<code>:<centimes>:<fin de validité AAAAMMJJ>:<commande>:<kid>:<signature Ed25519 en base 32 Crockford> ; la signature porte sur tout ce qui précède le dernier « : »";

/// The document published at /.well-known/passnum-keys.json (revoked keys are left out).
pub fn well_known_document(keys: &[PublicKeyRecord]) -> KeySet {
    KeySet {
        keys: keys
            .iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                kid: k.kid.as_str().into(),
                x: URL_SAFE_NO_PAD.encode(k.public_key),
                retired: k.retired_at.map(|_| true),
            })
            .collect(),
        payload_format: PAYLOAD_FORMAT.into(),
    }
}

/// Reads a published document back (for `passnum verify --keys`).
pub fn parse_well_known(text: &str) -> Option<HashMap<KeyId, VerifyingKey>> {
    let set: KeySet = serde_json::from_str(text).ok()?;
    set.keys
        .into_iter()
        .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
        .map(|k| {
            let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&k.x).ok()?.try_into().ok()?;
            Some((
                KeyId::parse(&k.kid)?,
                VerifyingKey::from_bytes(&bytes).ok()?,
            ))
        })
        .collect()
}
