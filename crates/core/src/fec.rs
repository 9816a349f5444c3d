//! The ledger as a FEC (Fichier des Écritures Comptables, article A47 A-1 of the Livre des
//! procédures fiscales): 18 tab-separated columns, one line per debit or credit, each transfer
//! an écriture of two lines that balance.

use crate::ledger::AccountKey;
use crate::{Timestamp, paris};

pub const HEADER: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// General ledger account, auxiliary account and their labels (plan comptable général).
pub fn account(key: AccountKey) -> (&'static str, &'static str, String, String) {
    match key {
        AccountKey::World => ("512000", "Banque", String::new(), String::new()),
        AccountKey::Operator => (
            "706000",
            "Prestations de services (commission)",
            String::new(),
            String::new(),
        ),
        AccountKey::FunderHeld(f) => (
            "467000",
            "Fonds prépayés des commanditaires",
            format!("C{f}"),
            format!("Commanditaire {f}"),
        ),
        AccountKey::VenuePayable(v) => (
            "401000",
            "Lieux de médiation à payer",
            format!("L{v}"),
            format!("Lieu {v}"),
        ),
    }
}

fn date(t: Timestamp) -> String {
    let d = paris::local_date(t);
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

fn amount(cents: i64) -> String {
    format!("{},{:02}", cents / 100, cents % 100)
}

/// Label of a transfer kind, as an accountant reads it.
pub fn label(kind: &str) -> &'static str {
    match kind {
        "prepayment" => "Prépaiement d'une commande",
        "redemption" => "Encaissement d'un chèque",
        "redemption_reversal" => "Annulation d'un encaissement",
        "venue_payment" => "Virement à un lieu",
        "operator_fee" => "Commission de l'opérateur",
        "credit_note" => "Avoir au commanditaire",
        "correction" => "Correction d'un paiement, remboursée au commanditaire",
        _ => "Écriture",
    }
}

/// The two lines of one transfer.
pub fn lines(
    transfer_id: i64,
    debit: AccountKey,
    credit: AccountKey,
    amount_cents: i64,
    kind: &str,
    piece: &str,
    at: Timestamp,
) -> [[String; 18]; 2] {
    let d = date(at);
    let line = |key: AccountKey, is_debit: bool| {
        let (num, lib, aux, auxlib) = account(key);
        [
            "PN".to_string(),
            "Pass Numérique".to_string(),
            transfer_id.to_string(),
            d.clone(),
            num.to_string(),
            lib.to_string(),
            aux,
            auxlib,
            piece.to_string(),
            d.clone(),
            label(kind).to_string(),
            if is_debit {
                amount(amount_cents)
            } else {
                amount(0)
            },
            if is_debit {
                amount(0)
            } else {
                amount(amount_cents)
            },
            String::new(),
            String::new(),
            d.clone(),
            String::new(),
            String::new(),
        ]
    };
    // The ledger's debit is the accountant's debit: receiving a prepayment debits the bank
    // (512, an asset that grows) and credits the funds held (467, a debt that grows).
    [line(debit, true), line(credit, false)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FunderId, VenueId};

    #[test]
    fn a_transfer_is_two_balanced_lines_of_18_columns() {
        let at = Timestamp::from_offset_datetime(time::macros::datetime!(2026-03-12 23:30 UTC));
        let [d, c] = lines(
            7,
            AccountKey::FunderHeld(FunderId(1)),
            AccountKey::VenuePayable(VenueId(2)),
            1000,
            "redemption",
            "R3",
            at,
        );
        assert_eq!(d.len(), HEADER.len());
        assert_eq!(HEADER.len(), 18);
        assert_eq!(
            (d[4].as_str(), d[6].as_str(), d[11].as_str(), d[12].as_str()),
            ("467000", "C1", "10,00", "0,00")
        );
        assert_eq!(
            (c[4].as_str(), c[6].as_str(), c[11].as_str(), c[12].as_str()),
            ("401000", "L2", "0,00", "10,00")
        );
        // 23:30 UTC on 12 March is already the 13th in Paris.
        assert_eq!(d[3], "20260313");
        assert!(
            d.iter()
                .chain(c.iter())
                .all(|f| !f.contains('\t') && !f.contains('\n'))
        );
    }
}
