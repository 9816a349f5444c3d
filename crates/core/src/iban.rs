//! IBAN (ISO 13616), checked with the mod-97 rule.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Iban(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    #[error("Un IBAN commence par deux lettres de pays puis deux chiffres de contrôle.")]
    WrongFormat,
    #[error("Un IBAN {country} comporte {expected} caractères.")]
    WrongLength { country: String, expected: usize },
    #[error("Cet IBAN n'est pas valide : un caractère semble faux.")]
    BadChecksum,
}

/// Lengths for the SEPA countries a French programme is likely to pay into; others are
/// checked by the generic rules (15 to 34 characters) and the checksum.
fn expected_length(country: &str) -> Option<usize> {
    Some(match country {
        "FR" | "MC" | "IT" | "SM" => 27,
        "BE" => 16,
        "DE" => 22,
        "ES" => 24,
        "LU" => 20,
        "CH" => 21,
        "NL" => 18,
        "PT" => 25,
        "GB" | "IE" => 22,
        _ => return None,
    })
}

impl Iban {
    pub fn parse(input: &str) -> Result<Self, IbanError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = compact.as_bytes();
        if b.len() < 15
            || b.len() > 34
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..4].iter().all(u8::is_ascii_digit)
            || !b.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(IbanError::WrongFormat);
        }
        if let Some(expected) = expected_length(&compact[..2])
            && expected != b.len()
        {
            return Err(IbanError::WrongLength {
                country: compact[..2].to_string(),
                expected,
            });
        }
        let rearranged = b[4..].iter().chain(&b[..4]);
        let mut rem: u32 = 0;
        for &c in rearranged {
            let v = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        if rem != 1 {
            return Err(IbanError::BadChecksum);
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four characters, which pages show to name an account without printing it.
    pub fn last_four(&self) -> &str {
        // A parsed IBAN is ASCII and at least 15 characters long.
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<&str> = self
            .0
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        f.write_str(&groups.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_ibans() {
        let i = Iban::parse("fr76 3000 6000 0112 3456 7890 189").unwrap();
        assert_eq!(i.as_str(), "FR7630006000011234567890189");
        assert_eq!(i.to_string(), "FR76 3000 6000 0112 3456 7890 189");
        assert!(Iban::parse("DE89370400440532013000").is_ok());
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
    }

    #[test]
    fn refuses_bad_ones() {
        assert_eq!(
            Iban::parse("FR7630006000011234567890188"),
            Err(IbanError::BadChecksum)
        );
        assert_eq!(
            Iban::parse("FR76300060000112345678901"),
            Err(IbanError::WrongLength {
                country: "FR".into(),
                expected: 27
            })
        );
        assert_eq!(
            Iban::parse("7630006000011234567890189"),
            Err(IbanError::WrongFormat)
        );
        assert_eq!(Iban::parse("FR76-3000"), Err(IbanError::WrongFormat));
    }

    #[test]
    fn catches_every_single_digit_error_of_a_french_iban() {
        let good = "FR7630006000011234567890189";
        for pos in 4..good.len() {
            for d in b'0'..=b'9' {
                let mut bad = good.as_bytes().to_vec();
                if bad[pos] == d {
                    continue;
                }
                bad[pos] = d;
                let bad = String::from_utf8(bad).unwrap();
                assert_eq!(Iban::parse(&bad), Err(IbanError::BadChecksum), "{bad}");
            }
        }
    }
}
