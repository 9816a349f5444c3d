//! Redeeming and cancelling a cheque, shared by the API and the venue's scan page. The scanned
//! text is checked first by [`crate::keys::parse_scanned`] (check symbol, or the QR payload's
//! signature, before any lookup); the idempotency key is checked and bound to one canonical
//! form of the request, so that the same scan sent twice, from either door, is one redemption.

use passnum_core::{ChequeCode, RedemptionId, Timestamp, VenueId};
use passnum_store::{
    Actor, Answer, IdempotencyKey, RedeemRequest, RollbackRequest, Store, StoreError,
};
use sha2::{Digest, Sha256};

/// The longest idempotency key a client may send (API header or the scan form's hidden key).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// A client's idempotency key: 1 to [`MAX_IDEMPOTENCY_KEY_CHARS`] visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn parse(s: &str) -> Option<Self> {
        (!s.is_empty()
            && s.len() <= MAX_IDEMPOTENCY_KEY_CHARS
            && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored key: scoped by the caller, bound to a hash of the canonical request.
    fn bind(self, actor: Actor, canonical_request: &str) -> IdempotencyKey {
        IdempotencyKey {
            actor: actor.key(),
            key: self.0,
            request_hash: hex::encode(Sha256::digest(canonical_request.as_bytes())),
        }
    }
}

/// A venue's scan: the cheque (from [`crate::keys::parse_scanned`]) and the service given.
pub struct Scan<'a> {
    pub actor: Actor,
    pub venue: VenueId,
    pub code: ChequeCode,
    pub service_code: &'a str,
    /// The workshop it is scanned for, if any.
    pub workshop: Option<i64>,
    pub key: Option<ClientKey>,
    pub now: Timestamp,
}

/// Redeems a scanned cheque. Business refusals are in the [`Answer`].
pub async fn redeem(store: &Store, scan: Scan<'_>) -> Result<Answer, StoreError> {
    let code = scan.code;
    let service_code = scan.service_code.trim().to_string();
    let idempotency = scan.key.map(|k| {
        k.bind(
            scan.actor,
            // Without a workshop, the canonical form of the keys stored before workshops.
            &match scan.workshop {
                None => format!("redeem\n{}\n{}", code.as_compact(), service_code),
                Some(w) => format!(
                    "redeem\n{}\n{}\nworkshop {w}",
                    code.as_compact(),
                    service_code
                ),
            },
        )
    });
    store
        .redeem(RedeemRequest {
            venue_id: scan.venue,
            code,
            service_code,
            workshop_id: scan.workshop,
            now: scan.now,
            idempotency,
        })
        .await
}

/// Cancels a venue's own redemption, within the rollback window.
pub async fn rollback(
    store: &Store,
    actor: Actor,
    venue: VenueId,
    redemption: RedemptionId,
    key: Option<ClientKey>,
    now: Timestamp,
) -> Result<Answer, StoreError> {
    let idempotency = key.map(|k| k.bind(actor, &format!("rollback\n{}", redemption.0)));
    store
        .rollback(RollbackRequest {
            venue_id: venue,
            redemption_id: redemption,
            now,
            idempotency,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_two_hundred_visible_ascii_characters() {
        assert!(ClientKey::parse("").is_none());
        assert!(ClientKey::parse("a b").is_none());
        assert!(ClientKey::parse("clé").is_none());
        assert!(ClientKey::parse(&"k".repeat(201)).is_none());
        assert_eq!(
            ClientKey::parse(&"k".repeat(200)).map(|k| k.as_str().len()),
            Some(200)
        );
    }

    #[test]
    fn the_same_request_binds_to_the_same_hash_and_another_does_not() {
        let k = || ClientKey::parse("k1").unwrap();
        let a = k().bind(Actor::Operator, "redeem\nA\n1");
        assert_eq!(a, k().bind(Actor::Operator, "redeem\nA\n1"));
        assert_ne!(
            a.request_hash,
            k().bind(Actor::Operator, "redeem\nA\n2").request_hash
        );
    }
}
