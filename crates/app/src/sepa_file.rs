//! A confirmed payment run's SEPA credit-transfer file, built once for the operator's page and
//! for `passnum payments export`: one transfer per venue, the net it is owed, to the account
//! the run was prepared with; and one per funder refunded by the run's corrections, to the
//! funder's refund account (the file is refused while one is missing, so that no refund is
//! forgotten).

use passnum_core::sepa::{Debtor, Transfer, credit_transfer};
use passnum_core::{Money, Timestamp, paris};
use passnum_store::{PaymentRun, RunStatus, Store, StoreError, VenueLine};
use time::Date;

#[derive(Debug, thiserror::Error)]
pub enum SepaFileError {
    #[error("Le virement n° {0} est annulé : il n'y a rien à payer.")]
    Cancelled(i64),
    #[error(
        "Le virement n° {0} n'est pas confirmé : confirmez-le avant d'en télécharger le fichier SEPA."
    )]
    NotConfirmed(i64),
    #[error(
        "Le virement n° {run} rembourse {funder} (cheques corrigés) mais ce commanditaire n'a pas de compte de remboursement : saisissez-le dans sa fiche (Commanditaires), puis produisez le fichier."
    )]
    FunderAccountMissing { run: i64, funder: String },
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
    let r = exportable(store, run, drafts).await?;
    let lines = store.payment_run_lines(run).await?;
    build(store, &r, &lines, debtor, execution, now).await
}

/// The same file from the run's lines already read: `passnum payments export` reads them once
/// for the file and the statements (at 2,000 venues and a million cheques, 1.4 s a read on
/// PostgreSQL).
pub async fn sepa_file_of(
    store: &Store,
    run: i64,
    lines: &[VenueLine],
    debtor: &Debtor,
    execution: Date,
    now: Timestamp,
    drafts: bool,
) -> Result<String, SepaFileError> {
    let r = exportable(store, run, drafts).await?;
    build(store, &r, lines, debtor, execution, now).await
}

async fn exportable(store: &Store, run: i64, drafts: bool) -> Result<PaymentRun, SepaFileError> {
    let r = store.payment_run(run).await?;
    match r.status {
        RunStatus::Cancelled => Err(SepaFileError::Cancelled(run)),
        RunStatus::Draft if !drafts => Err(SepaFileError::NotConfirmed(run)),
        _ => Ok(r),
    }
}

async fn build(
    store: &Store,
    r: &PaymentRun,
    lines: &[VenueLine],
    debtor: &Debtor,
    execution: Date,
    now: Timestamp,
) -> Result<String, SepaFileError> {
    let run = r.id;
    let mut transfers: Vec<Transfer> = lines
        .iter()
        .map(|l| Transfer {
            end_to_end_id: format!("PASSNUM-{run}-{}", l.venue_id.0),
            amount: Money::from_cents(l.net_cents),
            creditor_name: l.holder.clone(),
            creditor_iban: l.iban.clone(),
            creditor_bic: l.bic.clone(),
            remittance: format!(
                "Pass Numerique virement {run} arrete au {} {} cheques",
                paris::format_date(r.cutoff),
                l.cheques
            ),
        })
        .collect();
    transfers.extend(refund_transfers(store, run).await?);
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

/// The run's refunds to funders, one transfer each, to their current refund account.
async fn refund_transfers(store: &Store, run: i64) -> Result<Vec<Transfer>, SepaFileError> {
    let refunds = store.run_refunds(run).await?;
    if refunds.is_empty() {
        return Ok(Vec::new());
    }
    let accounts = store.current_funder_accounts().await?;
    let mut out = Vec::with_capacity(refunds.len());
    for r in refunds {
        let Some(account) = accounts.get(&r.funder_id) else {
            let funder = store.get_funder(r.funder_id).await?.name;
            return Err(SepaFileError::FunderAccountMissing { run, funder });
        };
        out.push(Transfer {
            end_to_end_id: format!("PASSNUM-{run}-F{}", r.funder_id.0),
            amount: r.amount,
            creditor_name: account.holder.clone(),
            creditor_iban: account.iban.clone(),
            creditor_bic: account.bic.clone(),
            remittance: format!(
                "Pass Numerique remboursement virement {run} {} cheques corriges",
                r.cheques
            ),
        });
    }
    Ok(out)
}
