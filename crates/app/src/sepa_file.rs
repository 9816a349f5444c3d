//! A confirmed payment run's SEPA credit-transfer file, built once for the operator's page and
//! for `passnum payments export`: one transfer per venue, the net it is owed, to the account
//! the run was prepared with.

use passnum_core::sepa::{Debtor, Transfer, credit_transfer};
use passnum_core::{Money, Timestamp, paris};
use passnum_store::{RunStatus, Store, StoreError};
use time::Date;

#[derive(Debug, thiserror::Error)]
pub enum SepaFileError {
    #[error("Le virement n° {0} est annulé : il n'y a rien à payer.")]
    Cancelled(i64),
    #[error(
        "Le virement n° {0} n'est pas confirmé : confirmez-le avant d'en télécharger le fichier SEPA."
    )]
    NotConfirmed(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Montant hors limites : {0}")]
    Money(#[from] passnum_core::MoneyError),
}

/// The XML file of run `run`, executed on `execution`, created at `now` (Paris time with its
/// offset). `drafts`: whether a run not yet confirmed may be exported (the command line
/// allows it to check a file with the bank before confirming; the page does not).
pub async fn sepa_file(
    store: &Store,
    run: i64,
    debtor: &Debtor,
    execution: Date,
    now: Timestamp,
    drafts: bool,
) -> Result<String, SepaFileError> {
    let r = store.payment_run(run).await?;
    match r.status {
        RunStatus::Cancelled => return Err(SepaFileError::Cancelled(run)),
        RunStatus::Draft if !drafts => return Err(SepaFileError::NotConfirmed(run)),
        _ => {}
    }
    let transfers: Vec<Transfer> = store
        .payment_run_lines(run)
        .await?
        .into_iter()
        .map(|l| Transfer {
            end_to_end_id: format!("PASSNUM-{run}-{}", l.venue_id.0),
            amount: Money::from_cents(l.net_cents),
            creditor_name: l.holder,
            creditor_iban: l.iban,
            creditor_bic: l.bic,
            remittance: format!(
                "Pass Numerique virement {run} arrete au {} {} cheques",
                paris::format_date(r.cutoff),
                l.cheques
            ),
        })
        .collect();
    Ok(credit_transfer(
        &format!("PASSNUM-{run}"),
        &paris::iso_with_offset(now),
        &format!(
            "{:04}-{:02}-{:02}",
            execution.year(),
            u8::from(execution.month()),
            execution.day()
        ),
        debtor,
        &transfers,
    )?)
}
