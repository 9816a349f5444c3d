//! SIRET: the 14-digit identifier of a French establishment (SIREN + NIC).

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Siret(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiretError {
    #[error("Un SIRET comporte 14 chiffres.")]
    WrongFormat,
    #[error("Ce SIRET n'est pas valide : vérifiez les chiffres.")]
    BadChecksum,
}

/// La Poste's establishments share one SIREN and do not follow Luhn: for them the sum of the
/// 14 digits must be a multiple of 5 (INSEE rule).
const LA_POSTE_SIREN: &str = "356000000";

fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl Siret {
    pub fn parse(input: &str) -> Result<Self, SiretError> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() != 14 || !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SiretError::WrongFormat);
        }
        let digits: Vec<u8> = compact.bytes().map(|b| b - b'0').collect();
        let ok = if compact.starts_with(LA_POSTE_SIREN) {
            digits
                .iter()
                .map(|&d| u32::from(d))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_ok(&digits)
        };
        if ok {
            Ok(Self(compact))
        } else {
            Err(SiretError::BadChecksum)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "123 456 789 00012", the way it appears on invoices.
        write!(
            f,
            "{} {} {} {}",
            &self.0[0..3],
            &self.0[3..6],
            &self.0[6..9],
            &self.0[9..14]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_sirets() {
        // Luhn-valid SIRETs.
        assert!(Siret::parse("130 026 032 00008").is_ok());
        assert!(Siret::parse("73282932000074").is_ok());
        // La Poste, siège: an establishment where Luhn fails but the La Poste rule holds.
        assert!(Siret::parse("35600000000001").is_ok());
    }

    #[test]
    fn refuses_bad_ones() {
        assert_eq!(Siret::parse("7328293200007"), Err(SiretError::WrongFormat));
        assert_eq!(Siret::parse("7328293200007A"), Err(SiretError::WrongFormat));
        assert_eq!(Siret::parse("73282932000075"), Err(SiretError::BadChecksum));
        assert_eq!(Siret::parse("35600000000048"), Err(SiretError::BadChecksum));
    }

    #[test]
    fn displays_grouped() {
        assert_eq!(
            Siret::parse("73282932000074").unwrap().to_string(),
            "732 829 320 00074"
        );
    }
}
