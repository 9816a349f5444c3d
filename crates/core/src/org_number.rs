//! How a venue's organisation is identified: its SIRET, or for an association without one its
//! number in the Répertoire national des associations (RNA), "W" then nine characters. Either
//! is the national venue standard's `pivot`.

use std::fmt;

use crate::siret::{Siret, SiretError};

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum OrgNumber {
    Siret(Siret),
    /// "W751234567": "W", the prefecture's three characters (digits, or 2A/2B), six digits.
    Rna(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNumberError {
    #[error(
        "Indiquez le SIRET (14 chiffres) ou, pour une association sans SIRET, son numéro RNA (W suivi de 9 caractères)."
    )]
    WrongFormat,
    #[error("Ce SIRET n'est pas valide : vérifiez les chiffres.")]
    BadChecksum,
    #[error(
        "Ce numéro RNA n'est pas valide : il s'écrit W suivi de 9 caractères, par exemple W751234567."
    )]
    BadRna,
}

fn rna_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[0] == b'W'
        && b[1..4].iter().all(u8::is_ascii_alphanumeric)
        && b[4..].iter().all(u8::is_ascii_digit)
}

impl OrgNumber {
    pub fn parse(input: &str) -> Result<Self, OrgNumberError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if compact.starts_with('W') {
            return if rna_ok(&compact) {
                Ok(Self::Rna(compact))
            } else {
                Err(OrgNumberError::BadRna)
            };
        }
        match Siret::parse(&compact) {
            Ok(s) => Ok(Self::Siret(s)),
            Err(SiretError::WrongFormat) => Err(OrgNumberError::WrongFormat),
            Err(SiretError::BadChecksum) => Err(OrgNumberError::BadChecksum),
        }
    }

    /// As stored and exchanged: 14 digits, or W and nine characters.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Siret(s) => s.as_str(),
            Self::Rna(r) => r,
        }
    }
}

impl From<Siret> for OrgNumber {
    fn from(s: Siret) -> Self {
        Self::Siret(s)
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Siret(s) => write!(f, "SIRET {s}"),
            Self::Rna(r) => write!(f, "RNA {r}"),
        }
    }
}

/// A stored number shown to a person ("SIRET 732 829 320 00074", "RNA W751234567").
pub fn display_stored(stored: &str) -> String {
    OrgNumber::parse(stored)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| stored.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_siret_or_an_rna_number() {
        assert_eq!(
            OrgNumber::parse("732 829 320 00074").unwrap().as_str(),
            "73282932000074"
        );
        assert_eq!(
            OrgNumber::parse("w751234567").unwrap(),
            OrgNumber::Rna("W751234567".into())
        );
        assert!(OrgNumber::parse("W2A1234567").is_ok());
        assert_eq!(OrgNumber::parse("W75123456"), Err(OrgNumberError::BadRna));
        assert_eq!(OrgNumber::parse("W75123456X"), Err(OrgNumberError::BadRna));
        assert_eq!(
            OrgNumber::parse("73282932000075"),
            Err(OrgNumberError::BadChecksum)
        );
        assert_eq!(OrgNumber::parse("123"), Err(OrgNumberError::WrongFormat));
        assert_eq!(display_stored("W751234567"), "RNA W751234567");
        assert_eq!(display_stored("73282932000074"), "SIRET 732 829 320 00074");
    }
}
