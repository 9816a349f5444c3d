//! Corrections of confirmed payment runs. A confirmed run is never changed: a cheque paid
//! wrongly is recorded here, then undone when the venue's next run is confirmed. Each party
//! gives back exactly what it received for the cheque: the venue its net (its next payment is
//! smaller by the amount less the fee), the operator its fee; the funder is refunded the whole
//! amount. Two 'correction' transfers (venue → outside, operator → outside) record it.

use passnum_core::{FunderId, Money, Timestamp, VenueId};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::rows::{get_i64, get_opt_i64, get_string};
use crate::{Store, StoreError};

/// What one run refunds to one funder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FunderRefund {
    pub funder_id: FunderId,
    pub cheques: i64,
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub id: i64,
    pub redemption_id: i64,
    pub cheque_code: String,
    pub venue_id: VenueId,
    pub funder_id: FunderId,
    /// The cheque's amount, refunded to the funder.
    pub amount_cents: i64,
    /// The operator's fee on the cheque in the run that paid it, given back by the operator.
    pub fee_cents: i64,
    pub reason: String,
    /// The confirmed run that paid the cheque.
    pub corrected_run_id: i64,
    /// The later run that recovers it; `None` while it waits for one.
    pub run_id: Option<i64>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "pc.id, pc.redemption_id, c.code, pc.venue_id, pc.funder_id, pc.amount_cents, pc.fee_cents, pc.reason, \
                       pc.corrected_run_id, pc.run_id, pc.created_at";

fn row(r: &AnyRow) -> Result<Correction, StoreError> {
    let code = get_string(r, "code")?;
    Ok(Correction {
        id: get_i64(r, "id")?,
        redemption_id: get_i64(r, "redemption_id")?,
        cheque_code: passnum_core::ChequeCode::parse(&code)
            .map_err(StoreError::corrupt)?
            .grouped(),
        venue_id: VenueId(get_i64(r, "venue_id")?),
        funder_id: FunderId(get_i64(r, "funder_id")?),
        amount_cents: get_i64(r, "amount_cents")?,
        fee_cents: get_i64(r, "fee_cents")?,
        reason: get_string(r, "reason")?,
        corrected_run_id: get_i64(r, "corrected_run_id")?,
        run_id: get_opt_i64(r, "run_id")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
    })
}

impl Correction {
    /// What the venue received for the cheque, and gives back from its next run.
    pub fn recovered_cents(&self) -> i64 {
        self.amount_cents - self.fee_cents
    }
}

fn invalid(code: &'static str, message: &str) -> StoreError {
    StoreError::Invalid {
        code,
        message: message.into(),
    }
}

impl Store {
    /// Records that a paid cheque must be recovered from its venue. Only a redemption paid by
    /// a confirmed run can be corrected, once.
    pub async fn create_correction(
        &self,
        redemption_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<Correction, StoreError> {
        let reason = reason.trim();
        if !(3..=500).contains(&reason.chars().count()) {
            return Err(invalid(
                "invalid_reason",
                "Indiquez le motif de la correction (3 à 500 caractères).",
            ));
        }
        let mut tx = self.begin_write().await?;
        let paid = sqlx::query(
            "SELECT i.run_id, i.cheque_id, i.venue_id, i.amount_cents, i.fee_cents, o.funder_id, o.id AS order_id \
             FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
             JOIN cheques c ON c.id = i.cheque_id JOIN orders o ON o.id = c.order_id \
             WHERE i.cheque_id = (SELECT r.cheque_id FROM redemptions r WHERE r.id = $1) \
             AND i.redemption_id = $1 AND i.cancelled = 0 AND p.status = 'confirmed'",
        )
        .bind(redemption_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            invalid(
                "not_paid",
                "Cet encaissement n'a pas été payé par un virement confirmé : s'il est encore dans son délai, le lieu peut l'annuler ; sinon, il n'est pas encore payé.",
            )
        })?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO payment_corrections (redemption_id, cheque_id, venue_id, funder_id, order_id, amount_cents, fee_cents, reason, corrected_run_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(redemption_id)
        .bind(get_i64(&paid, "cheque_id")?)
        .bind(get_i64(&paid, "venue_id")?)
        .bind(get_i64(&paid, "funder_id")?)
        .bind(get_i64(&paid, "order_id")?)
        .bind(get_i64(&paid, "amount_cents")?)
        .bind(get_i64(&paid, "fee_cents")?)
        .bind(reason)
        .bind(get_i64(&paid, "run_id")?)
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict {
                    code: "already_corrected",
                    message: "Cet encaissement fait déjà l'objet d'une correction.".into(),
                }
            } else {
                e
            }
        })?;
        tx.commit().await?;
        self.correction(id).await
    }

    /// The active redemption of a cheque, by its code (what a statement shows).
    pub async fn active_redemption_of(
        &self,
        code: &passnum_core::ChequeCode,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT r.id FROM redemptions r JOIN cheques c ON c.id = r.cheque_id \
             WHERE c.code = $1 AND r.rolled_back_at IS NULL",
        )
        .bind(code.as_compact())
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn correction(&self, id: i64) -> Result<Correction, StoreError> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payment_corrections pc JOIN cheques c ON c.id = pc.cheque_id WHERE pc.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row(&r)
    }

    /// A funder's refunds: the corrections of its cheques recovered by runs confirmed in
    /// `[from, to)`, oldest first (a few per month at most).
    pub async fn funder_refunds(
        &self,
        funder: FunderId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Correction>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payment_corrections pc JOIN cheques c ON c.id = pc.cheque_id \
             JOIN payment_runs p ON p.id = pc.run_id \
             WHERE pc.funder_id = $1 AND p.status = 'confirmed' AND p.confirmed_at >= $2 AND p.confirmed_at < $3 \
             ORDER BY pc.id"
        )))
        .bind(funder.0)
        .bind(from.unix_ms())
        .bind(to.unix_ms())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// What run `run` refunds to each funder: the whole amount of every cheque it corrects
    /// (the venue's net recovered plus the operator's fee given back), by funder id.
    pub async fn run_refunds(&self, run: i64) -> Result<Vec<FunderRefund>, StoreError> {
        sqlx::query(
            "SELECT funder_id, COUNT(*) AS cheques, CAST(SUM(amount_cents) AS BIGINT) AS cents \
             FROM payment_corrections WHERE run_id = $1 GROUP BY funder_id ORDER BY funder_id",
        )
        .bind(run)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(FunderRefund {
                funder_id: FunderId(get_i64(r, "funder_id")?),
                cheques: get_i64(r, "cheques")?,
                amount: Money::from_cents(get_i64(r, "cents")?),
            })
        })
        .collect()
    }

    /// Corrections waiting for a run (`run: None`) or recovered by a run, oldest first.
    pub async fn corrections(&self, run: Option<i64>) -> Result<Vec<Correction>, StoreError> {
        let q = match run {
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM payment_corrections pc JOIN cheques c ON c.id = pc.cheque_id \
                 WHERE pc.run_id IS NULL AND $1 = 0 ORDER BY pc.id"
            )))
            .bind(0i64),
            Some(r) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM payment_corrections pc JOIN cheques c ON c.id = pc.cheque_id \
                 WHERE pc.run_id = $1 ORDER BY pc.id"
            )))
            .bind(r),
        };
        q.fetch_all(self.pool()).await?.iter().map(row).collect()
    }
}
