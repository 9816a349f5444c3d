//! Redemption: one atomic operation, whatever the concurrency, with group commit.
//!
//! Requests queue to a writer task that takes as many as are waiting (up to a bound), decides
//! each in arrival order against state read inside one transaction (rows locked with
//! `FOR UPDATE` on PostgreSQL, the single write lock on SQLite), writes them with a few
//! multi-row statements, commits once, and only then acknowledges each. Throughput comes
//! from sharing the durable commit, never from weakening it.
//!
//! Should a batch fail as a whole (a deadlock between servers, say), each request of it is
//! replayed alone so that one bad request never sinks the others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use passnum_core::cheque::{
    self, ChequeView, RedemptionView, ServiceGiven, check_rollback, check_scan,
};
use passnum_core::ledger::Posting;
use passnum_core::{
    ChequeCode, ChequeState, FunderId, Money, OrderId, RedemptionId, Timestamp, Validity, VenueId,
    VenueView,
};
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

use crate::idempotency::{Claim, IdempotencyKey, claim, claim_all, record, record_all};
use crate::ledger::{AccountTotals, NewTransfer, apply_totals, insert_transfers, post};
use crate::orders::perimeter;
use crate::rows::{
    Caches, get_date, get_i64, get_opt_i64, get_string, page_limit, placeholders, value_rows,
};
use crate::venues::venue;
use crate::{Engine, Store, StoreError, begin_write};

mod batch;
mod worker;

use worker::Job;
pub(crate) use worker::Redeemer;

fn refusal(r: &impl passnum_core::Refusal) -> Outcome {
    Outcome::Refused(Refusal {
        code: r.code().to_string(),
        message: r.to_string(),
        kind: r.kind(),
    })
}

#[derive(Clone, Debug)]
pub struct RedeemRequest {
    pub venue_id: VenueId,
    pub code: ChequeCode,
    pub service_code: String,
    /// The workshop the cheque is scanned for, if the venue publishes workshops.
    pub workshop_id: Option<i64>,
    pub now: Timestamp,
    pub idempotency: Option<IdempotencyKey>,
}

#[derive(Clone, Debug)]
pub struct RollbackRequest {
    pub venue_id: VenueId,
    pub redemption_id: RedemptionId,
    pub now: Timestamp,
    pub idempotency: Option<IdempotencyKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub id: RedemptionId,
    /// The cheque's code in its printed form.
    pub cheque_code: String,
    pub venue_id: VenueId,
    pub funder_id: FunderId,
    pub order_id: OrderId,
    pub service_code: String,
    pub amount_cents: i64,
    pub redeemed_at: Timestamp,
    pub rolled_back_at: Option<Timestamp>,
    /// The workshop it was scanned for (absent in answers stored before workshops existed).
    #[serde(default)]
    pub workshop_id: Option<i64>,
}

/// A business refusal as stored with its answer: a stable code for programs, a French sentence
/// for people, and its kind (from which the HTTP status follows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredRefusal")]
pub struct Refusal {
    pub code: String,
    pub message: String,
    pub kind: passnum_core::RefusalKind,
}

/// A refusal as read back: answers stored before refusals carried their kind have none.
#[derive(Deserialize)]
struct StoredRefusal {
    code: String,
    message: String,
    kind: Option<passnum_core::RefusalKind>,
}

impl From<StoredRefusal> for Refusal {
    fn from(s: StoredRefusal) -> Self {
        let kind = s
            .kind
            .unwrap_or_else(|| passnum_core::RefusalKind::of_stored_code(&s.code));
        Self {
            code: s.code,
            message: s.message,
            kind,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted(Redemption),
    Refused(Refusal),
}

/// The outcome, and whether it is the stored answer to an earlier request with the same
/// idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub outcome: Outcome,
    pub replayed: bool,
}

const REDEMPTION_SELECT: &str = "SELECT r.id, c.code, r.venue_id, o.funder_id, c.order_id, r.service_code, r.amount_cents, \
     r.redeemed_at, r.rolled_back_at, r.workshop_id, c.state AS cheque_state, c.id AS cheque_id FROM redemptions r \
     JOIN cheques c ON c.id = r.cheque_id JOIN orders o ON o.id = c.order_id";

fn redemption_row(row: &sqlx::any::AnyRow) -> Result<Redemption, StoreError> {
    let code = get_string(row, "code")?;
    Ok(Redemption {
        id: RedemptionId(get_i64(row, "id")?),
        cheque_code: ChequeCode::parse(&code)
            .map_err(StoreError::corrupt)?
            .grouped(),
        venue_id: VenueId(get_i64(row, "venue_id")?),
        funder_id: FunderId(get_i64(row, "funder_id")?),
        order_id: OrderId(get_i64(row, "order_id")?),
        service_code: get_string(row, "service_code")?,
        amount_cents: get_i64(row, "amount_cents")?,
        redeemed_at: Timestamp::from_unix_ms(get_i64(row, "redeemed_at")?),
        rolled_back_at: get_opt_i64(row, "rolled_back_at")?.map(Timestamp::from_unix_ms),
        workshop_id: get_opt_i64(row, "workshop_id")?,
    })
}

/// A redemption as a rollback decides on it: the row, what core needs, and its cheque's id.
async fn rollback_view(
    tx: &mut sqlx::AnyConnection,
    r: &sqlx::any::AnyRow,
) -> Result<(Redemption, RedemptionView, i64), StoreError> {
    let red = redemption_row(r)?;
    let state = get_string(r, "cheque_state")?;
    // Being paid (taken by a live run) matters only here, so listings do not pay for it. A
    // cheque's live item, if any, is its active redemption's (`payment_items_cheque_once`).
    let cheque_id = get_i64(r, "cheque_id")?;
    let in_run: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM payment_run_items WHERE cheque_id = $1 AND redemption_id = $2 AND cancelled = 0",
    )
    .bind(cheque_id)
    .bind(red.id.0)
    .fetch_one(&mut *tx)
    .await?;
    let view = RedemptionView {
        venue_id: red.venue_id,
        redeemed_at: red.redeemed_at,
        rolled_back: red.rolled_back_at.is_some(),
        cheque_state: ChequeState::parse(&state)
            .ok_or_else(|| StoreError::corrupt(format!("état {state}")))?,
        in_payment_run: in_run > 0,
    };
    Ok((red, view, cheque_id))
}

/// Whose redemptions a caller may list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedemptionScope {
    All,
    Funder(FunderId),
    Venue(VenueId),
}

impl Store {
    /// Redeems one cheque. Business refusals are an [`Outcome::Refused`], not an error.
    pub async fn redeem(&self, req: RedeemRequest) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        let r = &self.inner.redeemer;
        let queue = match req.workshop_id {
            Some(w) => &r.lanes[w.unsigned_abs() as usize % r.lanes.len()],
            None => &r.sender,
        };
        queue
            .send(Job { req, reply })
            .await
            .map_err(|_| StoreError::Stopped)?;
        // The writer took the request but dropped its reply: its batch panicked before commit.
        answer.await.map_err(|_| StoreError::Interrupted)?
    }

    /// Makes the next redemption batch panic inside its writer (tests of supervision).
    #[cfg(feature = "test-support")]
    pub fn panic_next_redeem_batch(&self) {
        self.inner
            .redeemer
            .ctx
            .panic_next_batch
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Cancels a redemption: the cheque is usable again and the ledger gets a reversing transfer.
    pub async fn rollback(&self, req: RollbackRequest) -> Result<Answer, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "rollback", || {
            self.rollback_once(req.clone())
        })
        .await
    }

    async fn rollback_once(&self, req: RollbackRequest) -> Result<Answer, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(k) = &req.idempotency {
            match claim(&mut tx, k, req.now.unix_ms()).await? {
                Claim::New => {}
                Claim::Replay(json) => {
                    let outcome = serde_json::from_str(&json).map_err(StoreError::corrupt)?;
                    return Ok(Answer {
                        outcome,
                        replayed: true,
                    });
                }
            }
        }
        let lock = if self.engine() == Engine::Postgres {
            " FOR UPDATE OF r, c"
        } else {
            ""
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REDEMPTION_SELECT} WHERE r.id = $1{lock}"
        )))
        .bind(req.redemption_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let found = match &row {
            Some(r) => Some(rollback_view(&mut tx, r).await?),
            None => None,
        };
        let outcome = match check_rollback(
            found.as_ref().map(|(_, v, _)| v),
            req.venue_id,
            req.now,
            self.options().rollback_window_ms,
        ) {
            Err(r) => refusal(&r),
            Ok(()) => {
                let (mut red, _, cheque_id) =
                    found.ok_or_else(|| StoreError::corrupt("annulation sans encaissement"))?;
                let n = sqlx::query("UPDATE redemptions SET rolled_back_at = $1 WHERE id = $2 AND rolled_back_at IS NULL")
                    .bind(req.now.unix_ms())
                    .bind(red.id.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let m = sqlx::query(
                    "UPDATE cheques SET state = 'issued' WHERE id = $1 AND state = 'redeemed'",
                )
                .bind(cheque_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 || m != 1 {
                    return Err(StoreError::corrupt(
                        "encaissement modifié pendant l'annulation",
                    ));
                }
                let original: i64 = sqlx::query_scalar(
                    "SELECT id FROM transfers WHERE redemption_id = $1 AND kind = 'redemption'",
                )
                .bind(red.id.0)
                .fetch_one(&mut *tx)
                .await?;
                let posting = Posting::redemption(
                    red.funder_id,
                    red.venue_id,
                    Money::from_cents(red.amount_cents),
                );
                post(
                    &mut tx,
                    &self.inner.caches,
                    self.engine(),
                    &[NewTransfer {
                        posting: posting.reversal(),
                        order_id: Some(red.order_id.0),
                        redemption_id: Some(red.id.0),
                        reverses_id: Some(original),
                        payment_run_id: None,
                    }],
                    req.now,
                )
                .await?;
                if let Some(w) = red.workshop_id {
                    crate::workshop_scans::release(&mut tx, w, red.id.0, req.now).await?;
                }
                crate::usage::remove_redemption(&mut tx, &red, cheque_id).await?;
                red.rolled_back_at = Some(req.now);
                Outcome::Accepted(red)
            }
        };
        if let Some(k) = &req.idempotency {
            record(
                &mut tx,
                k,
                &serde_json::to_string(&outcome).map_err(StoreError::corrupt)?,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Answer {
            outcome,
            replayed: false,
        })
    }

    /// Redemptions newest first, `limit` at a time before redemption id `before` (0: from the newest).
    pub async fn list_redemptions(
        &self,
        scope: RedemptionScope,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Redemption>, StoreError> {
        let mut conn = self.may_lag().await?;
        let before = if before <= 0 { i64::MAX } else { before };
        let (filter, owner) = match scope {
            RedemptionScope::All => ("$1 = 0", 0),
            RedemptionScope::Funder(f) => ("o.funder_id = $1", f.0),
            RedemptionScope::Venue(v) => ("r.venue_id = $1", v.0),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REDEMPTION_SELECT} WHERE {filter} AND r.id < $2 ORDER BY r.id DESC LIMIT $3"
        )))
        .bind(owner)
        .bind(before)
        .bind(page_limit(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(redemption_row)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use passnum_core::RefusalKind;

    #[test]
    fn a_stored_refusal_is_read_back_with_its_kind() {
        let stored =
            serde_json::to_string(&refusal(&passnum_core::RollbackRefusal::AlreadyPaid)).unwrap();
        let Outcome::Refused(r) = serde_json::from_str::<Outcome>(&stored).unwrap() else {
            panic!("{stored}");
        };
        assert_eq!(r.kind, RefusalKind::Conflict);
        assert_eq!(r.code, "redemption_already_paid");
    }

    #[test]
    fn an_answer_stored_before_refusals_had_a_kind_keeps_its_status() {
        let old = |code: &str| {
            let json = format!(r#"{{"refused":{{"code":"{code}","message":"Ancien message."}}}}"#);
            match serde_json::from_str::<Outcome>(&json).unwrap() {
                Outcome::Refused(r) => r.kind,
                Outcome::Accepted(_) => panic!("{json}"),
            }
        };
        assert_eq!(old("cheque_unknown"), RefusalKind::NotFound);
        assert_eq!(old("cheque_already_redeemed"), RefusalKind::Conflict);
        assert_eq!(old("rollback_window_closed"), RefusalKind::Conflict);
        assert_eq!(old("cheque_expired"), RefusalKind::Invalid);
    }
}
