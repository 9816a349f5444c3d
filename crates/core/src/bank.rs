//! A venue's bank details, parsed once: IBAN, BIC of the same country, and the holder's name
//! as the bank knows it (SEPA allows 70 characters).

use crate::refusal::Refusal;
use crate::{Bic, BicError, Iban, IbanError};

/// The longest account holder's name a SEPA transfer carries.
pub const MAX_HOLDER_CHARS: usize = 70;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankDetails {
    pub iban: Iban,
    pub bic: Bic,
    holder: String,
}

/// Why bank details are refused, in the order of the form's fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BankDetailsError {
    #[error(transparent)]
    Iban(IbanError),
    #[error(transparent)]
    Bic(BicError),
    #[error("Le pays du BIC ne correspond pas à celui de l'IBAN : vérifiez les deux.")]
    CountryMismatch,
    #[error(
        "Indiquez le titulaire du compte, tel que la banque le connaît (de 1 à {MAX_HOLDER_CHARS} caractères)."
    )]
    Holder,
}

impl Refusal for BankDetailsError {
    fn code(&self) -> &'static str {
        match self {
            Self::Iban(_) => "invalid_iban",
            Self::Bic(_) => "invalid_bic",
            Self::CountryMismatch => "bic_country_mismatch",
            Self::Holder => "invalid_holder",
        }
    }
}

impl BankDetails {
    /// Every problem of the typed details, in field order (a form shows them all at once).
    pub fn parse(iban: &str, bic: &str, holder: &str) -> Result<Self, Vec<BankDetailsError>> {
        let mut errors = vec![];
        let iban = Iban::parse(iban)
            .map_err(|e| errors.push(BankDetailsError::Iban(e)))
            .ok();
        let bic = Bic::parse(bic)
            .map_err(|e| errors.push(BankDetailsError::Bic(e)))
            .ok();
        if let (Some(i), Some(b)) = (&iban, &bic)
            && !i.as_str().starts_with(b.country())
        {
            errors.push(BankDetailsError::CountryMismatch);
        }
        let holder = holder.trim();
        if holder.is_empty() || holder.chars().count() > MAX_HOLDER_CHARS {
            errors.push(BankDetailsError::Holder);
        }
        match (iban, bic) {
            (Some(iban), Some(bic)) if errors.is_empty() => Ok(Self {
                iban,
                bic,
                holder: holder.to_string(),
            }),
            _ => Err(errors),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IBAN: &str = "FR7630006000011234567890189";

    #[test]
    fn good_details_parse_with_the_holder_trimmed() {
        let d = BankDetails::parse(IBAN, "AGRIFRPP", "  Lieu A ").unwrap();
        assert_eq!(
            (d.iban.as_str(), d.bic.as_str(), d.holder()),
            (IBAN, "AGRIFRPP", "Lieu A")
        );
    }

    #[test]
    fn every_problem_is_reported_in_field_order_with_its_code() {
        let e = BankDetails::parse("FR76", "X", "").unwrap_err();
        let codes: Vec<_> = e.iter().map(|e| e.code()).collect();
        assert_eq!(codes, ["invalid_iban", "invalid_bic", "invalid_holder"]);
        let e = BankDetails::parse(IBAN, "COBADEFF", &"x".repeat(71)).unwrap_err();
        assert_eq!(
            e,
            [BankDetailsError::CountryMismatch, BankDetailsError::Holder]
        );
        assert!(BankDetails::parse(IBAN, "AGRIFRPP", &"x".repeat(70)).is_ok());
    }

    #[test]
    fn messages_are_whole_sentences() {
        for e in BankDetails::parse("FR00", "1", "").unwrap_err() {
            let m = e.to_string();
            assert!(m.starts_with(char::is_uppercase) && m.ends_with('.'), "{m}");
        }
    }
}
