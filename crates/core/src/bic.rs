//! BIC (ISO 9362): the bank's identifier in a SEPA transfer.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Bic(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Un BIC comporte 8 ou 11 caractères : 4 lettres (banque), 2 lettres (pays), 2 lettres ou chiffres (lieu), puis éventuellement 3 pour l'agence."
)]
pub struct BicError;

impl Bic {
    pub fn parse(input: &str) -> Result<Self, BicError> {
        let s: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = s.as_bytes();
        let ok = (b.len() == 8 || b.len() == 11)
            && b[..6].iter().all(u8::is_ascii_uppercase)
            && b[6..].iter().all(u8::is_ascii_alphanumeric);
        if ok { Ok(Self(s)) } else { Err(BicError) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two letters of the bank's country, which must match the IBAN's for a SEPA payment.
    pub fn country(&self) -> &str {
        &self.0[4..6]
    }
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bics() {
        assert_eq!(Bic::parse("bnpa frpp").unwrap().as_str(), "BNPAFRPP");
        assert_eq!(Bic::parse("CEPAFRPP751").unwrap().country(), "FR");
        for bad in ["BNPAFRP", "BNPA1RPP", "BNPAFRPP75", "BNPAFRPP7512", ""] {
            assert_eq!(Bic::parse(bad), Err(BicError), "{bad}");
        }
    }
}
