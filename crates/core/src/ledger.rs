//! Double-entry ledger: every movement of money is a transfer of a positive amount from one
//! account (debit) to another (credit).
//!
//! An account's balance is `credits − debits`. Money enters the programme from the outside
//! world, so the `World` account is the only one that goes negative; the sum of all balances
//! is always zero. Posted transfers are never changed: a correction is a new transfer in the
//! opposite direction that names the one it reverses.
//!
//! | event                | debit            | credit           |
//! |----------------------|------------------|------------------|
//! | prepayment received  | World            | FunderHeld(f)    |
//! | redemption           | FunderHeld(f)    | VenuePayable(v)  |
//! | rollback (reversal)  | VenuePayable(v)  | FunderHeld(f)    |
//! | venue paid           | VenuePayable(v)  | World            |
//! | operator's fee       | VenuePayable(v)  | Operator         |
//! | credit note (avoir)  | FunderHeld(f)    | World            |

use std::collections::BTreeMap;

use crate::{FunderId, Money, VenueId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "kind", content = "owner_id", rename_all = "snake_case")]
pub enum AccountKey {
    /// Banks, funders' treasuries, venues' bank accounts: everything outside the programme.
    World,
    /// The operator's own revenue (fees).
    Operator,
    /// Money a funder has prepaid and that is not yet owed to any venue: ring-fenced per funder.
    FunderHeld(FunderId),
    /// Money owed to a venue for cheques it redeemed and that is not yet paid.
    VenuePayable(VenueId),
}

impl AccountKey {
    /// (kind, owner id) as stored.
    pub fn parts(self) -> (&'static str, i64) {
        match self {
            Self::World => ("world", 0),
            Self::Operator => ("operator", 0),
            Self::FunderHeld(f) => ("funder_held", f.0),
            Self::VenuePayable(v) => ("venue_payable", v.0),
        }
    }

    pub fn from_parts(kind: &str, owner: i64) -> Option<Self> {
        Some(match kind {
            "world" => Self::World,
            "operator" => Self::Operator,
            "funder_held" => Self::FunderHeld(FunderId(owner)),
            "venue_payable" => Self::VenuePayable(VenueId(owner)),
            _ => return None,
        })
    }

    pub fn may_go_negative(self) -> bool {
        self == Self::World
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    Prepayment,
    Redemption,
    RedemptionReversal,
    VenuePayment,
    OperatorFee,
    CreditNote,
    /// A cheque paid wrongly, recovered from the venue's next payment and refunded to its
    /// funder.
    Correction,
}

impl TransferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prepayment => "prepayment",
            Self::Redemption => "redemption",
            Self::RedemptionReversal => "redemption_reversal",
            Self::VenuePayment => "venue_payment",
            Self::OperatorFee => "operator_fee",
            Self::CreditNote => "credit_note",
            Self::Correction => "correction",
        }
    }
}

/// A transfer about to be posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    pub debit: AccountKey,
    pub credit: AccountKey,
    pub amount: Money,
    pub kind: TransferKind,
}

impl Posting {
    pub fn prepayment(funder: FunderId, amount: Money) -> Self {
        Self {
            debit: AccountKey::World,
            credit: AccountKey::FunderHeld(funder),
            amount,
            kind: TransferKind::Prepayment,
        }
    }

    pub fn redemption(funder: FunderId, venue: VenueId, amount: Money) -> Self {
        Self {
            debit: AccountKey::FunderHeld(funder),
            credit: AccountKey::VenuePayable(venue),
            amount,
            kind: TransferKind::Redemption,
        }
    }

    pub fn venue_payment(venue: VenueId, amount: Money) -> Self {
        Self {
            debit: AccountKey::VenuePayable(venue),
            credit: AccountKey::World,
            amount,
            kind: TransferKind::VenuePayment,
        }
    }

    /// The operator's fee, kept from what a venue is owed.
    pub fn operator_fee(venue: VenueId, amount: Money) -> Self {
        Self {
            debit: AccountKey::VenuePayable(venue),
            credit: AccountKey::Operator,
            amount,
            kind: TransferKind::OperatorFee,
        }
    }

    /// The operator's fee charged to a funder on top of an order's face value: paid in by the
    /// funder with its prepayment, straight to the operator's revenue.
    pub fn funder_fee(amount: Money) -> Self {
        Self {
            debit: AccountKey::World,
            credit: AccountKey::Operator,
            amount,
            kind: TransferKind::OperatorFee,
        }
    }

    /// Unused face value returned to the funder after its order expired.
    pub fn credit_note(funder: FunderId, amount: Money) -> Self {
        Self {
            debit: AccountKey::FunderHeld(funder),
            credit: AccountKey::World,
            amount,
            kind: TransferKind::CreditNote,
        }
    }

    /// A cheque paid wrongly: what the venue received for it (its net), deducted from what it
    /// is owed and refunded to the funder.
    pub fn correction(venue: VenueId, amount: Money) -> Self {
        Self {
            debit: AccountKey::VenuePayable(venue),
            credit: AccountKey::World,
            amount,
            kind: TransferKind::Correction,
        }
    }

    /// A cheque paid wrongly: the fee the operator kept on it, given back to the funder. An
    /// operator-fee transfer the other way round (the ledger keeps one transfer of each kind
    /// per redemption: the venue's part of the correction is the 'correction' one).
    pub fn fee_refund(amount: Money) -> Self {
        Self {
            debit: AccountKey::Operator,
            credit: AccountKey::World,
            amount,
            kind: TransferKind::OperatorFee,
        }
    }

    /// The transfer that undoes this one.
    pub fn reversal(&self) -> Self {
        let kind = match self.kind {
            TransferKind::Redemption => TransferKind::RedemptionReversal,
            other => other,
        };
        Self {
            debit: self.credit,
            credit: self.debit,
            amount: self.amount,
            kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("Un virement doit porter sur un montant strictement positif.")]
    NotPositive,
    #[error("Un virement doit relier deux comptes différents.")]
    SameAccount,
    #[error("Le compte {0:?} n'a pas les fonds nécessaires.")]
    InsufficientFunds(AccountKey),
    #[error("Dépassement de capacité.")]
    Overflow,
}

/// An in-memory ledger: the reference model that the stored ledger is checked against, and
/// the rules every posting obeys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    balances: BTreeMap<AccountKey, Money>,
}

impl Ledger {
    pub fn balance(&self, account: AccountKey) -> Money {
        self.balances.get(&account).copied().unwrap_or(Money::ZERO)
    }

    /// Checks a posting against the current balances without applying it.
    pub fn check(&self, p: &Posting) -> Result<(), LedgerError> {
        if p.amount.cents() <= 0 {
            return Err(LedgerError::NotPositive);
        }
        if p.debit == p.credit {
            return Err(LedgerError::SameAccount);
        }
        let after = self
            .balance(p.debit)
            .checked_sub(p.amount)
            .map_err(|_| LedgerError::Overflow)?;
        if after.cents() < 0 && !p.debit.may_go_negative() {
            return Err(LedgerError::InsufficientFunds(p.debit));
        }
        self.balance(p.credit)
            .checked_add(p.amount)
            .map_err(|_| LedgerError::Overflow)?;
        Ok(())
    }

    pub fn post(&mut self, p: &Posting) -> Result<(), LedgerError> {
        self.check(p)?;
        let d = self
            .balance(p.debit)
            .checked_sub(p.amount)
            .map_err(|_| LedgerError::Overflow)?;
        let c = self
            .balance(p.credit)
            .checked_add(p.amount)
            .map_err(|_| LedgerError::Overflow)?;
        self.balances.insert(p.debit, d);
        self.balances.insert(p.credit, c);
        Ok(())
    }

    pub fn balances(&self) -> impl Iterator<Item = (AccountKey, Money)> + '_ {
        self.balances.iter().map(|(k, v)| (*k, *v))
    }
}

/// The trial balance of a set of account balances: they must sum to zero, and only the world
/// may be negative.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TrialBalance {
    pub total_cents: i64,
    pub negative_accounts: Vec<AccountKey>,
}

impl TrialBalance {
    pub fn of(balances: impl IntoIterator<Item = (AccountKey, Money)>) -> Self {
        let mut total: i128 = 0;
        let mut negative = vec![];
        for (k, m) in balances {
            total += i128::from(m.cents());
            if m.cents() < 0 && !k.may_go_negative() {
                negative.push(k);
            }
        }
        Self {
            total_cents: total.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            negative_accounts: negative,
        }
    }

    pub fn is_balanced(&self) -> bool {
        self.total_cents == 0 && self.negative_accounts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_redemption_and_its_reversal_cancel_out() {
        let mut l = Ledger::default();
        let f = FunderId(1);
        let v = VenueId(2);
        l.post(&Posting::prepayment(f, Money::from_cents(10_000)))
            .unwrap();
        let r = Posting::redemption(f, v, Money::from_cents(1000));
        l.post(&r).unwrap();
        assert_eq!(
            l.balance(AccountKey::VenuePayable(v)),
            Money::from_cents(1000)
        );
        l.post(&r.reversal()).unwrap();
        assert_eq!(l.balance(AccountKey::VenuePayable(v)), Money::ZERO);
        assert_eq!(
            l.balance(AccountKey::FunderHeld(f)),
            Money::from_cents(10_000)
        );
        assert_eq!(r.reversal().kind, TransferKind::RedemptionReversal);
        assert!(TrialBalance::of(l.balances()).is_balanced());
    }

    #[test]
    fn only_the_world_goes_negative() {
        let mut l = Ledger::default();
        let e = l.post(&Posting::redemption(
            FunderId(1),
            VenueId(1),
            Money::from_cents(1),
        ));
        assert_eq!(
            e,
            Err(LedgerError::InsufficientFunds(AccountKey::FunderHeld(
                FunderId(1)
            )))
        );
        assert_eq!(
            l.post(&Posting::prepayment(FunderId(1), Money::ZERO)),
            Err(LedgerError::NotPositive)
        );
        assert!(
            !TrialBalance::of([
                (AccountKey::Operator, Money::from_cents(-1)),
                (AccountKey::World, Money::from_cents(1))
            ])
            .is_balanced()
        );
        assert!(!TrialBalance::of([(AccountKey::World, Money::from_cents(1))]).is_balanced());
    }

    proptest! {
        #[test]
        fn any_sequence_of_postings_keeps_the_books_balanced(ops in proptest::collection::vec((0u8..4, 1i64..3, 1i64..3, 1i64..5000), 1..200)) {
            let mut l = Ledger::default();
            for (op, f, v, amount) in ops {
                let (f, v, m) = (FunderId(f), VenueId(v), Money::from_cents(amount));
                let p = match op {
                    0 => Posting::prepayment(f, m),
                    1 => Posting::redemption(f, v, m),
                    2 => Posting::redemption(f, v, m).reversal(),
                    _ => Posting::venue_payment(v, m),
                };
                let before = l.clone();
                if l.post(&p).is_err() {
                    prop_assert_eq!(&l, &before);
                }
                let tb = TrialBalance::of(l.balances());
                prop_assert!(tb.is_balanced(), "{:?}", tb);
            }
        }
    }
}
