//! The end-of-validity process of orders, run by `passnum jobs run` (cron-friendly):
//! J-30 alert to the funder, J-15 stop of distribution, and after the tolerance the expiry of
//! what is left with a credit note for its face value. Each step is dated and happens once per
//! order (primary key), whoever runs the job and however often.

use passnum_core::ledger::Posting;
use passnum_core::{ClosingStep, FunderId, Money, OrderId, Timestamp, Validity, paris};
use serde::Serialize;

use crate::ledger::{NewTransfer, post};
use crate::rows::{date_from_sql, get_i64, get_string};
use crate::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepDone {
    pub order_id: OrderId,
    pub step: &'static str,
    pub done_at: Timestamp,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreditNote {
    pub order_id: OrderId,
    pub expired_cheques: i64,
    pub amount_cents: i64,
    pub issued_at: Timestamp,
}

impl Store {
    /// Runs every step due today on every open order; returns what was done.
    pub async fn run_closing_steps(&self, now: Timestamp) -> Result<Vec<StepDone>, StoreError> {
        let today = paris::local_date(now);
        let orders = sqlx::query(
            "SELECT id, funder_id, valid_from, valid_until, tolerance_days, face_value_cents FROM orders WHERE status = 'issued' ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut done = vec![];
        for o in &orders {
            let order = OrderId(get_i64(o, "id")?);
            let validity = Validity {
                valid_from: date_from_sql(&get_string(o, "valid_from")?)?,
                valid_until: date_from_sql(&get_string(o, "valid_until")?)?,
                tolerance_days: get_i64(o, "tolerance_days")?,
            };
            let funder = FunderId(get_i64(o, "funder_id")?);
            let face = get_i64(o, "face_value_cents")?;
            for step in validity.due_steps(today) {
                // Each step is its own transaction, retried alone on a serialization failure
                // (SERIALIZABLE, issue 18): a step already done is never redone or forgotten.
                let step_done =
                    crate::retry::retrying(&self.inner.telemetry, "closing_step", || {
                        self.closing_step(order, funder, face, &validity, step, now)
                    })
                    .await?;
                if let Some(d) = step_done {
                    done.push(d);
                }
            }
        }
        Ok(done)
    }

    async fn closing_step(
        &self,
        order: OrderId,
        funder: FunderId,
        face_cents: i64,
        validity: &Validity,
        step: ClosingStep,
        now: Timestamp,
    ) -> Result<Option<StepDone>, StoreError> {
        let mut tx = self.begin_write().await?;
        // Claim the step first: a second job runner finds it taken and does nothing.
        let claimed = sqlx::query(
            "INSERT INTO order_steps (order_id, step, done_at, summary) VALUES ($1, $2, $3, '') ON CONFLICT (order_id, step) DO NOTHING",
        )
        .bind(order.0)
        .bind(step.as_str())
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let summary = match step {
            ClosingStep::AlertJ30 => alert_j30(&mut tx, order, validity).await?,
            ClosingStep::StopJ15 => stop_j15(&mut tx, order, validity, now).await?,
            ClosingStep::Expiry => {
                let caches = &self.inner.caches;
                expire(
                    &mut tx,
                    caches,
                    self.engine(),
                    order,
                    funder,
                    face_cents,
                    now,
                )
                .await?
            }
        };
        sqlx::query("UPDATE order_steps SET summary = $1 WHERE order_id = $2 AND step = $3")
            .bind(&summary)
            .bind(order.0)
            .bind(step.as_str())
            .execute(&mut *tx)
            .await?;
        // The funder's staff are told by e-mail, in the step's own transaction.
        let notice = passnum_core::notice::Notice::OrderStep {
            order: order.0,
            step: step.as_str().to_string(),
            summary: summary.clone(),
        };
        crate::outbox::queue_mail_to_org(
            &mut tx,
            now,
            &format!("order:{}:{}", order.0, step.as_str()),
            crate::Role::Funder,
            funder.0,
            &notice,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(StepDone {
            order_id: order,
            step: step.as_str(),
            done_at: now,
            summary,
        }))
    }

    /// The steps done for an order, in order.
    pub async fn closing_steps(&self, order: OrderId) -> Result<Vec<StepDone>, StoreError> {
        sqlx::query("SELECT step, done_at, summary FROM order_steps WHERE order_id = $1 ORDER BY done_at, step")
            .bind(order.0)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let step = match get_string(r, "step")?.as_str() {
                    "alert_j30" => "alert_j30",
                    "stop_j15" => "stop_j15",
                    _ => "expiry",
                };
                Ok(StepDone {
                    order_id: order,
                    step,
                    done_at: Timestamp::from_unix_ms(get_i64(r, "done_at")?),
                    summary: get_string(r, "summary")?,
                })
            })
            .collect()
    }

    pub async fn credit_note(&self, order: OrderId) -> Result<Option<CreditNote>, StoreError> {
        let row = sqlx::query(
            "SELECT expired_cheques, amount_cents, issued_at FROM credit_notes WHERE order_id = $1",
        )
        .bind(order.0)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(CreditNote {
                order_id: order,
                expired_cheques: get_i64(&r, "expired_cheques")?,
                amount_cents: get_i64(&r, "amount_cents")?,
                issued_at: Timestamp::from_unix_ms(get_i64(&r, "issued_at")?),
            })
        })
        .transpose()
    }
}

/// J-30: the figures the funder is sent.
async fn alert_j30(
    tx: &mut sqlx::AnyConnection,
    order: OrderId,
    validity: &Validity,
) -> Result<String, StoreError> {
    let row = sqlx::query(
            "SELECT COUNT(*) AS booklets, \
             CAST(COALESCE(SUM(handed_out), 0) AS BIGINT) AS handed_out, \
             CAST(COALESCE(SUM(CASE WHEN used > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS started, \
             CAST(COALESCE(SUM(used), 0) AS BIGINT) AS cheques_used FROM \
             (SELECT b.id, MAX(CASE WHEN b.handed_out_at IS NULL THEN 0 ELSE 1 END) AS handed_out, SUM(CASE WHEN c.state IN ('redeemed', 'paid') THEN 1 ELSE 0 END) AS used \
              FROM booklets b JOIN cheques c ON c.booklet_id = b.id WHERE b.order_id = $1 GROUP BY b.id) AS per_booklet",
        )
        .bind(order.0)
        .fetch_one(&mut *tx)
        .await?;
    let (booklets, started) = (get_i64(&row, "booklets")?, get_i64(&row, "started")?);
    Ok(format!(
        "J-30 : les chèques sont valables jusqu'au {}. {booklets} carnets émis, {} remis, {started} entamés, {} intacts ; \
             {} chèques utilisés. La distribution s'arrêtera 15 jours avant la fin de validité.",
        paris::format_date(validity.valid_until),
        get_i64(&row, "handed_out")?,
        booklets - started,
        get_i64(&row, "cheques_used")?
    ))
}

/// J-15: distribution stops; the cheques handed out stay accepted.
async fn stop_j15(
    tx: &mut sqlx::AnyConnection,
    order: OrderId,
    validity: &Validity,
    now: Timestamp,
) -> Result<String, StoreError> {
    sqlx::query("UPDATE orders SET distribution_stopped_at = $1 WHERE id = $2")
        .bind(now.unix_ms())
        .bind(order.0)
        .execute(&mut *tx)
        .await?;
    Ok(format!(
        "J-15 : distribution arrêtée. Les chèques déjà remis restent acceptés jusqu'au {}.",
        paris::format_date(validity.last_accepted_day())
    ))
}

/// End of validity: unused cheques expire and their value returns to the funder.
async fn expire(
    tx: &mut sqlx::AnyConnection,
    caches: &crate::rows::Caches,
    engine: crate::Engine,
    order: OrderId,
    funder: FunderId,
    face_cents: i64,
    now: Timestamp,
) -> Result<String, StoreError> {
    let expired = sqlx::query(
        "UPDATE cheques SET state = 'expired' WHERE order_id = $1 AND state = 'issued'",
    )
    .bind(order.0)
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    // Cheques of booklets declared lost or stolen were never used either: their
    // value returns with the credit note too.
    let blocked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cheques WHERE order_id = $1 AND state = 'blocked'",
    )
    .bind(order.0)
    .fetch_one(&mut *tx)
    .await?;
    let expired = expired + blocked;
    let amount = Money::from_cents(face_cents)
        .checked_mul(expired)
        .map_err(StoreError::corrupt)?;
    if amount.cents() > 0 {
        post(
            &mut *tx,
            caches,
            engine,
            &[NewTransfer {
                posting: Posting::credit_note(funder, amount),
                order_id: Some(order.0),
                redemption_id: None,
                reverses_id: None,
                payment_run_id: None,
            }],
            now,
        )
        .await?;
    }
    sqlx::query("INSERT INTO credit_notes (order_id, expired_cheques, amount_cents, issued_at) VALUES ($1, $2, $3, $4)")
            .bind(order.0)
            .bind(expired)
            .bind(amount.cents())
            .bind(now.unix_ms())
            .execute(&mut *tx)
            .await?;
    sqlx::query("UPDATE orders SET status = 'closed' WHERE id = $1")
        .bind(order.0)
        .execute(&mut *tx)
        .await?;
    Ok(format!(
        "Fin de validité : {expired} chèques non utilisés ont expiré. Avoir de {amount} au commanditaire. \
             Les chèques encaissés et non encore payés restent dus aux lieux."
    ))
}
