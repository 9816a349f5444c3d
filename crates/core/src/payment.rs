//! Paying venues: the operator's fee and the split of a redemption into fee and net amount.

use time::Date;

use crate::{Money, MoneyError};

/// A payment run takes the cheques redeemed up to the end of its cutoff day (Paris), which
/// must be over: a run never pays a day that can still get redemptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("La date d'arrêté doit être passée (au plus tard hier).")]
pub struct CutoffNotPast;

impl crate::Refusal for CutoffNotPast {
    fn code(&self) -> &'static str {
        "cutoff_not_past"
    }
}

pub fn check_cutoff(cutoff: Date, today: Date) -> Result<(), CutoffNotPast> {
    if cutoff >= today {
        return Err(CutoffNotPast);
    }
    Ok(())
}

/// A fee in basis points (1/100 of a percent): 400 is 4 %. At most 20 %.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FeeRate(i64);

pub const MAX_FEE_BASIS_POINTS: i64 = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "La commission doit être comprise entre 0 et 20 % (0 à {MAX_FEE_BASIS_POINTS} points de base)."
)]
pub struct FeeError;

impl FeeRate {
    pub fn from_basis_points(bp: i64) -> Result<Self, FeeError> {
        if (0..=MAX_FEE_BASIS_POINTS).contains(&bp) {
            Ok(Self(bp))
        } else {
            Err(FeeError)
        }
    }

    pub fn basis_points(self) -> i64 {
        self.0
    }

    /// The fee on one cheque, rounded half up to the cent. Fees are computed per cheque so
    /// that a statement's lines add up exactly to its totals.
    pub fn fee_on(self, amount: Money) -> Result<Money, MoneyError> {
        let product = amount
            .cents()
            .checked_mul(self.0)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::from_cents((product + 5_000) / 10_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_stops_at_a_day_that_is_over() {
        use time::macros::date;
        assert_eq!(
            check_cutoff(date!(2026 - 06 - 14), date!(2026 - 06 - 15)),
            Ok(())
        );
        assert_eq!(
            check_cutoff(date!(2026 - 06 - 15), date!(2026 - 06 - 15)),
            Err(CutoffNotPast)
        );
        assert_eq!(
            check_cutoff(date!(2026 - 06 - 16), date!(2026 - 06 - 15)),
            Err(CutoffNotPast)
        );
    }
    use proptest::prelude::*;

    #[test]
    fn four_percent_of_ten_euros() {
        let r = FeeRate::from_basis_points(400).unwrap();
        assert_eq!(r.fee_on(Money::from_cents(1000)), Ok(Money::from_cents(40)));
        assert_eq!(r.fee_on(Money::from_cents(1012)), Ok(Money::from_cents(40)));
        assert_eq!(r.fee_on(Money::from_cents(1013)), Ok(Money::from_cents(41)));
        assert_eq!(
            FeeRate::default().fee_on(Money::from_cents(1000)),
            Ok(Money::ZERO)
        );
        assert_eq!(FeeRate::from_basis_points(2_001), Err(FeeError));
        assert_eq!(FeeRate::from_basis_points(-1), Err(FeeError));
    }

    proptest! {
        #[test]
        fn fee_never_exceeds_the_amount_and_is_within_half_a_cent(cents in 1i64..10_000_000, bp in 0i64..=2_000) {
            let fee = FeeRate::from_basis_points(bp).unwrap().fee_on(Money::from_cents(cents)).unwrap().cents();
            prop_assert!(fee >= 0 && fee <= cents);
            let exact = cents as f64 * bp as f64 / 10_000.0;
            prop_assert!((fee as f64 - exact).abs() <= 0.5 + 1e-9);
        }
    }
}
