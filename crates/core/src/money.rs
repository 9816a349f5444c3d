//! Money as integer cents. Never a float: public money must add up to the cent.

use std::fmt;

/// An amount of euros, in cents. Arithmetic is checked: an overflow is an error, never a wrap.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Le montant doit être strictement positif.")]
    NotPositive,
    #[error("Le montant dépasse la capacité de calcul.")]
    Overflow,
    #[error("« {0} » n'est pas un montant en euros (par exemple 10 ou 12,50).")]
    NotAnAmount(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    /// For amounts that must be strictly positive: face values, ledger transfers.
    pub fn positive(cents: i64) -> Result<Self, MoneyError> {
        if cents > 0 {
            Ok(Self(cents))
        } else {
            Err(MoneyError::NotPositive)
        }
    }

    /// An amount typed by a person: "10", "12,50", "1 234.5 €". At most two decimals.
    pub fn parse_euros(input: &str) -> Result<Money, MoneyError> {
        let cleaned: String = input
            .trim()
            .trim_end_matches('€')
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
            .collect();
        crate::order_options::parse_percent(&cleaned)
            .filter(|_| !cleaned.contains('%'))
            .map(Money)
            .ok_or_else(|| MoneyError::NotAnAmount(input.trim().to_string()))
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(factor)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }
}

/// French notation: "1 234,50 €" (narrow no-break space between thousands, no-break space
/// before the sign), the way amounts are printed on cheques and statements.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let euros = (abs / 100).to_string();
        let cents = abs % 100;
        let mut grouped = String::with_capacity(euros.len() + euros.len() / 3 * 3);
        for (i, ch) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push('\u{202F}');
            }
            grouped.push(ch);
        }
        write!(
            f,
            "{}{grouped},{cents:02}\u{A0}€",
            if negative { "-" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amounts_typed_by_people() {
        assert_eq!(Money::parse_euros("10"), Ok(Money(1000)));
        assert_eq!(Money::parse_euros("12,5 €"), Ok(Money(1250)));
        assert_eq!(Money::parse_euros("1 234.56"), Ok(Money(123_456)));
        assert!(Money::parse_euros("12,345").is_err());
        assert!(Money::parse_euros("-3").is_err());
        assert!(Money::parse_euros("dix").is_err());
        assert!(Money::parse_euros("10 %").is_err());
    }
    use proptest::prelude::*;

    #[test]
    fn displays_french_euros() {
        assert_eq!(Money::from_cents(1000).to_string(), "10,00\u{A0}€");
        assert_eq!(Money::from_cents(5).to_string(), "0,05\u{A0}€");
        assert_eq!(
            Money::from_cents(123_456_789).to_string(),
            "1\u{202F}234\u{202F}567,89\u{A0}€"
        );
        assert_eq!(Money::from_cents(-250).to_string(), "-2,50\u{A0}€");
        assert_eq!(
            Money::from_cents(100_000).to_string(),
            "1\u{202F}000,00\u{A0}€"
        );
    }

    #[test]
    fn refuses_non_positive_and_overflow() {
        assert_eq!(Money::positive(0), Err(MoneyError::NotPositive));
        assert_eq!(Money::positive(-1), Err(MoneyError::NotPositive));
        assert_eq!(
            Money::from_cents(i64::MAX).checked_add(Money::from_cents(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::from_cents(i64::MAX / 2 + 1).checked_mul(2),
            Err(MoneyError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn display_round_trips_to_cents(c in -10_000_000_000i64..10_000_000_000) {
            let s = Money::from_cents(c).to_string();
            let digits: String = s.chars().filter(|ch| ch.is_ascii_digit()).collect();
            let parsed: i64 = digits.parse().unwrap();
            prop_assert_eq!(if c < 0 { -parsed } else { parsed }, c);
        }
    }
}
