//! Paying venues: bank details with their history, and payment runs.
//!
//! A run takes every redeemed, unpaid cheque redeemed before the cutoff (and out of its
//! rollback window) whose venue has confirmed bank details. It is a draft until the operator
//! confirms it; a draft can be cancelled. Confirmation posts the payments in the ledger; from
//! then on its cheques read as paid ([`CHEQUE_STATE`]). A confirmed run is never changed.
//!
//! Paid once: a cheque (so its redemption too) has at most one run item that is not cancelled
//! (unique partial index `payment_items_cheque_once`); items are cancelled only with their draft
//! run, so a cheque's item in a confirmed run is its one payout, ever. Runs are built with set-based SQL so a million cheques stay fast and memory stays
//! bounded.

use passnum_core::ledger::Posting;
use passnum_core::payment::FeeRate;
use passnum_core::{BankDetails, Bic, FunderId, Iban, Money, Timestamp, VenueId, paris};
use serde::Serialize;
use sqlx::any::AnyRow;
use time::Date;

use crate::ledger::{NewTransfer, post};
use crate::rows::{date_from_sql, date_to_sql, get_i64, get_opt_i64, get_string};
use crate::{Engine, Store, StoreError};

/// "Paid" in SQL: cheque `$cheque`'s run item that is not cancelled (found through
/// `payment_items_cheque_once`), with `$also` on that item `i`, belongs to a confirmed run (`p`).
/// One text for the cheque's state and the payment marks, so that they never disagree.
macro_rules! paid {
    ($cheque:literal, $also:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
             WHERE i.cheque_id = ",
            $cheque,
            $also,
            " AND i.cancelled = 0 AND p.status = 'confirmed')"
        )
    };
}

mod bank;
mod funder_accounts;
pub(crate) mod marks;
pub(crate) mod runs;
mod statements;

pub use funder_accounts::FunderAccount;
pub use statements::RawStatementLine;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankAccount {
    pub id: i64,
    pub venue_id: VenueId,
    pub iban: Iban,
    pub bic: Bic,
    pub holder: String,
    pub created_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
    pub superseded_at: Option<Timestamp>,
}

/// Bank details are checked before they are written: one that does not parse back was not
/// written by passnum.
fn iban_of(r: &AnyRow) -> Result<Iban, StoreError> {
    Iban::parse(&get_string(r, "iban")?).map_err(StoreError::corrupt)
}

fn bic_of(r: &AnyRow) -> Result<Bic, StoreError> {
    Bic::parse(&get_string(r, "bic")?).map_err(StoreError::corrupt)
}

fn bank_account(r: &AnyRow) -> Result<BankAccount, StoreError> {
    Ok(BankAccount {
        id: get_i64(r, "id")?,
        venue_id: VenueId(get_i64(r, "venue_id")?),
        iban: iban_of(r)?,
        bic: bic_of(r)?,
        holder: get_string(r, "holder")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        confirmed_at: get_opt_i64(r, "confirmed_at")?.map(Timestamp::from_unix_ms),
        superseded_at: get_opt_i64(r, "superseded_at")?.map(Timestamp::from_unix_ms),
    })
}

/// The two kinds of bank accounts passnum records, each with its history.
#[derive(Clone, Copy)]
enum AccountTable {
    Venue,
    Funder,
}

const BANK_COLUMNS: &str =
    "id, venue_id, iban, bic, holder, created_at, confirmed_at, superseded_at";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Draft,
    Confirmed,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentRun {
    pub id: i64,
    pub cutoff: Date,
    pub status: RunStatus,
    pub fee_basis_points: i64,
    pub created_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
    pub cheques: i64,
    pub gross_cents: i64,
    pub fee_cents: i64,
    /// Cheques paid wrongly by earlier runs, recovered in this one.
    pub corrections_cents: i64,
    /// gross − fee − corrections: what the bank transfers.
    pub net_cents: i64,
}

/// What one venue receives in a run (or would, in a preview).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueLine {
    pub venue_id: VenueId,
    pub venue_name: String,
    pub holder: String,
    pub iban: Iban,
    pub bic: Bic,
    pub cheques: i64,
    pub gross_cents: i64,
    pub fee_cents: i64,
    /// Recovered in this run for cheques paid wrongly before (0 in a preview).
    pub corrections_cents: i64,
    pub net_cents: i64,
}

/// A venue whose cheques wait for a later run, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitingLine {
    pub venue_id: VenueId,
    pub venue_name: String,
    pub cheques: i64,
    pub gross_cents: i64,
    /// "no_bank_details" or "bank_details_unconfirmed".
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPreview {
    pub cutoff: Date,
    pub fee_basis_points: i64,
    pub venues: Vec<VenueLine>,
    pub waiting: Vec<WaitingLine>,
}

/// One cheque of a venue's statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementLine {
    pub redeemed_at: Timestamp,
    pub cheque_code: String,
    pub service_code: String,
    pub service_name: String,
    pub funder_name: String,
    pub amount_cents: i64,
    pub fee_cents: i64,
}

fn conflict(code: &'static str, message: &str) -> StoreError {
    StoreError::Conflict {
        code,
        message: message.into(),
    }
}

/// The instant a cutoff date ends: midnight in Paris at the end of that day.
fn end_of(cutoff: Date) -> Timestamp {
    let next = cutoff.next_day().unwrap_or(cutoff);
    let utc_midnight = time::PrimitiveDateTime::new(next, time::Time::MIDNIGHT).assume_utc();
    // The Paris offset at that moment (±1 h around it is the same day-change rule).
    let offset = paris::offset_at(utc_midnight);
    Timestamp::from_offset_datetime(
        time::PrimitiveDateTime::new(next, time::Time::MIDNIGHT).assume_offset(offset),
    )
}

/// The fee on one cheque in SQL: `FeeRate::fee_on` (per cheque, half up), written once for
/// the preview and the run so both always agree; a test checks it against the core.
fn fee_sql(fee: FeeRate) -> String {
    format!("(r.amount_cents * {} + 5000) / 10000", fee.basis_points())
}

/// A cheque's state as people read it (`c` is the cheque). "Paid" is not written on the cheque:
/// rewriting a million cheques was a third of confirming a national run on PostgreSQL
/// (migration 31, issue 18). A cheque is paid when its run item that is not cancelled belongs
/// to a confirmed run; the item is found through `payment_items_cheque_once`.
pub(crate) const CHEQUE_STATE: &str = concat!(
    "CASE WHEN c.state = 'redeemed' AND ",
    paid!("c.id", ""),
    " THEN 'paid' ELSE c.state END"
);

/// Redemptions a run may take: active, before the cutoff, out of the rollback window, and whose
/// cheque is in no live run (a paid cheque's item is in a confirmed one). An active
/// redemption's cheque is redeemed (`passnum ledger check` proves it), so the cheque is not
/// read. `$1` = end of cutoff, `$2` = end of rollback window; `v` is the venue, `b` its bank
/// details, `r` the redemption (id, cheque_id, venue_id, amount_cents).
///
/// Each venue's redemptions are read from its payment mark on (`marks`) along
/// `redemptions_venue (venue_id, id)`, venue after venue, so that a run does not reread every
/// redemption ever paid: SQLite keeps the order a `CROSS JOIN` gives; PostgreSQL is held to it by
/// a `LATERAL` subquery it may not flatten (`OFFSET 0`), since from its statistics it would
/// rather hash-join a scan of every redemption. The check that a cheque is in no live run sits
/// inside that subquery: outside it, PostgreSQL hashed every run item ever written (1.1 million
/// in the growth benchmark, 240 ms of a 570 ms choice) instead of looking each candidate's cheque
/// up in `payment_items_cheque_once` (BENCHMARKS.md, twenty-second session).
fn eligible(engine: Engine) -> String {
    const CANDIDATE: &str = "r.venue_id = v.id AND r.id >= COALESCE(m.below_id, 0) \
         AND r.rolled_back_at IS NULL AND r.redeemed_at < $1 AND r.redeemed_at <= $2 \
         AND NOT EXISTS (SELECT 1 FROM payment_run_items i WHERE i.cheque_id = r.cheque_id AND i.cancelled = 0)";
    let (join, filter) = match engine {
        Engine::Postgres => (
            format!(
                "CROSS JOIN LATERAL (SELECT r.id, r.cheque_id, r.venue_id, r.amount_cents FROM redemptions r \
                 WHERE {CANDIDATE} OFFSET 0) r"
            ),
            "1 = 1",
        ),
        Engine::Sqlite => ("CROSS JOIN redemptions r".to_string(), CANDIDATE),
    };
    format!(
        "FROM venues v LEFT JOIN venue_payment_marks m ON m.venue_id = v.id {join} \
         LEFT JOIN venue_bank_accounts b ON b.venue_id = v.id AND b.superseded_at IS NULL \
         WHERE {filter}"
    )
}
