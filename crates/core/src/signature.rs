//! Signed cheques: what the QR code of a printed cheque carries, so that a venue can tell a
//! genuine cheque from an invented one without asking the server.
//!
//! The payload is `PN1:<code>:<cents>:<valid until YYYYMMDD>:<order>:<key id>:<signature>`.
//! Everything before the last colon is signed with Ed25519; the signature is written in the
//! same Crockford base 32 as the code. Every character is in the QR "alphanumeric" set
//! (digits, capitals, colon), so the payload (about 150 characters) fits a version 7 QR code
//! at error correction level M, readable by a phone on a 25 mm square.

use ed25519_dalek::{Signature, Signer, Verifier};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use time::Date;

use crate::cheque_code::ALPHABET;
use crate::{ChequeCode, Money, OrderId};

pub const PAYLOAD_PREFIX: &str = "PN1";

/// A key id: four Crockford symbols derived from the public key, so servers that create keys
/// independently (several servers on one database) do not need to coordinate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_uppercase();
        (s.len() == 4 && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(Self(s))
    }

    pub fn of(public: &VerifyingKey) -> Self {
        // The first 20 bits of the key's encoding: keys are uniformly random, and the store
        // refuses a second key with the same id.
        Self(base32(&public.to_bytes())[..4].to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the signature covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheque {
    pub code: ChequeCode,
    pub face_value: Money,
    pub valid_until: Date,
    pub order: OrderId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("Ce n'est pas le QR code d'un chèque Pass Numérique.")]
    NotAPayload,
    #[error("Le QR code est incomplet ou abîmé : tapez le code imprimé sous le QR code.")]
    Malformed,
    #[error(
        "Ce chèque est signé par une clé inconnue ou révoquée : ce n'est pas un chèque authentique."
    )]
    UnknownKey,
    #[error("La signature ne correspond pas : ce n'est pas un chèque authentique.")]
    BadSignature,
}

impl PayloadError {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAPayload | Self::Malformed => "malformed_payload",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
        }
    }
}

impl SignedCheque {
    fn signed_part(&self, kid: &KeyId) -> String {
        format!(
            "{PAYLOAD_PREFIX}:{}:{}:{:04}{:02}{:02}:{}:{}",
            self.code.as_compact(),
            self.face_value.cents(),
            self.valid_until.year(),
            u8::from(self.valid_until.month()),
            self.valid_until.day(),
            self.order.0,
            kid.as_str()
        )
    }

    /// The text to put in the QR code.
    pub fn payload(&self, key: &SigningKey) -> String {
        let kid = KeyId::of(&key.verifying_key());
        let signed = self.signed_part(&kid);
        let sig = key.sign(signed.as_bytes());
        format!("{signed}:{}", base32(&sig.to_bytes()))
    }

    /// Parses a scanned payload and checks its signature with the key it names.
    /// `key` returns the public key of a known, unrevoked key id.
    pub fn verify(
        text: &str,
        key: impl Fn(&KeyId) -> Option<VerifyingKey>,
    ) -> Result<(Self, KeyId), PayloadError> {
        let text = text.trim().to_ascii_uppercase();
        if !text.starts_with("PN1:") {
            return Err(PayloadError::NotAPayload);
        }
        let (signed, sig) = text.rsplit_once(':').ok_or(PayloadError::Malformed)?;
        let parts: Vec<&str> = signed.split(':').collect();
        let [_, code, cents, until, order, kid] = parts[..] else {
            return Err(PayloadError::Malformed);
        };
        let bad = |_| PayloadError::Malformed;
        let cheque = Self {
            code: ChequeCode::parse(code).map_err(bad)?,
            face_value: cents
                .parse::<i64>()
                .ok()
                .and_then(|c| Money::positive(c).ok())
                .ok_or(PayloadError::Malformed)?,
            valid_until: parse_compact_date(until).ok_or(PayloadError::Malformed)?,
            order: OrderId(order.parse().map_err(|_| PayloadError::Malformed)?),
        };
        let kid = KeyId::parse(kid).ok_or(PayloadError::Malformed)?;
        let sig_bytes: [u8; 64] = unbase32(sig)
            .and_then(|b| b.try_into().ok())
            .ok_or(PayloadError::Malformed)?;
        // The text must be exactly what we would have printed (no leading zeros, no other case).
        if cheque.signed_part(&kid) != signed {
            return Err(PayloadError::Malformed);
        }
        let public = key(&kid).ok_or(PayloadError::UnknownKey)?;
        public
            .verify(signed.as_bytes(), &Signature::from_bytes(&sig_bytes))
            .map_err(|_| PayloadError::BadSignature)?;
        Ok((cheque, kid))
    }
}

fn parse_compact_date(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month = time::Month::try_from(s[4..6].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(s[..4].parse().ok()?, month, s[6..].parse().ok()?).ok()
}

/// Crockford base 32, most significant bit first, no padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The inverse of [`base32`]; `None` on a symbol outside the alphabet or non-zero padding bits.
pub fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = ((acc << 5) | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (acc & ((1 << bits) - 1) == 0).then_some(out)
}

/// A new signing key from 32 random bytes.
pub fn generate_key<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> SigningKey {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn cheque() -> SignedCheque {
        SignedCheque {
            code: ChequeCode::generate(&mut rand::rngs::StdRng::seed_from_u64(7)),
            face_value: Money::from_cents(1000),
            valid_until: date!(2027 - 12 - 31),
            order: OrderId(42),
        }
    }

    fn known(k: &SigningKey) -> impl Fn(&KeyId) -> Option<VerifyingKey> + '_ {
        move |id| (*id == KeyId::of(&k.verifying_key())).then(|| k.verifying_key())
    }

    use rand::SeedableRng;

    #[test]
    fn a_payload_verifies_and_carries_the_cheque() {
        let k = key(1);
        let c = cheque();
        let p = c.payload(&k);
        assert!(p.len() < 160, "{} characters: {p}", p.len());
        assert!(
            p.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b':'),
            "QR alphanumeric set only: {p}"
        );
        let (back, kid) = SignedCheque::verify(&p, known(&k)).unwrap();
        assert_eq!(back, c);
        assert_eq!(kid, KeyId::of(&k.verifying_key()));
        // Scanners sometimes lower-case or pad: still the same payload.
        assert!(SignedCheque::verify(&format!(" {} ", p.to_lowercase()), known(&k)).is_ok());
    }

    #[test]
    fn tampered_truncated_or_foreign_payloads_are_refused() {
        let k = key(1);
        let p = cheque().payload(&k);
        let other = cheque();
        let raised = SignedCheque {
            face_value: Money::from_cents(5000),
            ..other
        };
        // Same signature on a higher value.
        let forged = format!(
            "{}:{}",
            raised.signed_part(&KeyId::of(&k.verifying_key())),
            p.rsplit_once(':').unwrap().1
        );
        assert_eq!(
            SignedCheque::verify(&forged, known(&k)),
            Err(PayloadError::BadSignature)
        );
        for cut in [p.len() - 1, p.len() - 20, 40, 4] {
            assert_eq!(
                SignedCheque::verify(&p[..cut], known(&k)).map(|_| ()),
                Err(PayloadError::Malformed),
                "cut at {cut}"
            );
        }
        let stranger = cheque().payload(&key(2));
        assert_eq!(
            SignedCheque::verify(&stranger, known(&k)).map(|_| ()),
            Err(PayloadError::UnknownKey)
        );
        assert_eq!(
            SignedCheque::verify(&cheque().code.grouped(), known(&k)).map(|_| ()),
            Err(PayloadError::NotAPayload)
        );
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(unbase32(&base32(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn any_changed_character_is_refused(pos in 0usize..150, sym in 0usize..32) {
            let k = key(3);
            let p = cheque().payload(&k);
            let pos = pos % p.len();
            let mut b = p.clone().into_bytes();
            if b[pos] == b':' || b[pos] == ALPHABET[sym] { return Ok(()); }
            b[pos] = ALPHABET[sym];
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(SignedCheque::verify(&changed, known(&k)).is_err());
        }
    }
}
