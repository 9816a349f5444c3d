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

use passnum_core::cheque::{self, ChequeView, RedemptionView, check_redemption, check_rollback};
use passnum_core::ledger::Posting;
use passnum_core::{
    ChequeCode, ChequeState, FunderId, Money, OrderId, RedemptionId, Timestamp, Validity, VenueId,
    VenueView,
};
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

use crate::idempotency::{Claim, IdempotencyKey, claim, record};
use crate::ledger::{NewTransfer, post};
use crate::orders::perimeter;
use crate::rows::{
    Caches, get_date, get_i64, get_opt_i64, get_string, page_limit, placeholders, value_rows,
};
use crate::venues::venue;
use crate::{Engine, Store, StoreError, begin_write};

#[derive(Clone, Debug)]
pub struct RedeemRequest {
    pub venue_id: VenueId,
    pub code: ChequeCode,
    pub service_code: String,
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
}

/// A business refusal: a stable code for programs and a French sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
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

struct Job {
    req: RedeemRequest,
    reply: oneshot::Sender<Result<Answer, StoreError>>,
}

pub(crate) struct Redeemer {
    sender: mpsc::Sender<Job>,
    #[cfg(feature = "test-support")]
    ctx: Arc<Ctx>,
}

struct Ctx {
    engine: Engine,
    pool: AnyPool,
    caches: Caches,
    /// Tests make the next batch panic, to prove the writer survives it.
    #[cfg(feature = "test-support")]
    panic_next_batch: std::sync::atomic::AtomicBool,
}

impl Redeemer {
    pub fn start(
        engine: Engine,
        pool: AnyPool,
        caches: Caches,
        workers: usize,
        max_batch: usize,
    ) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>(16_384);
        let receiver = Arc::new(AsyncMutex::new(receiver));
        let ctx = Arc::new(Ctx {
            engine,
            pool,
            caches,
            #[cfg(feature = "test-support")]
            panic_next_batch: Default::default(),
        });
        for _ in 0..workers {
            let receiver = receiver.clone();
            let ctx = ctx.clone();
            tokio::spawn(async move {
                loop {
                    let batch = {
                        let mut rx = receiver.lock().await;
                        let Some(first) = rx.recv().await else { break };
                        let mut batch = vec![first];
                        while batch.len() < max_batch.max(1) {
                            match rx.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                        batch
                    };
                    // Supervision: each batch runs in its own task, so a panic (a bug) ends
                    // that batch only. Its transaction is dropped uncommitted, its callers'
                    // reply channels close (they get `StoreError::Interrupted`, safe to retry
                    // with the same idempotency key) and this writer takes the next batch.
                    // Without it, one panic ended the writer and, on SQLite where there is
                    // one, every later redemption failed until restart.
                    let task_ctx = ctx.clone();
                    let batch_task = tokio::spawn(async move { process(&task_ctx, batch).await });
                    if let Err(e) = batch_task.await {
                        tracing::error!(error = %e, "lot d'encaissements interrompu ; l'écrivain continue");
                    }
                }
            });
        }
        #[cfg(feature = "test-support")]
        return Self { sender, ctx };
        #[cfg(not(feature = "test-support"))]
        Self { sender }
    }
}

async fn process(ctx: &Ctx, batch: Vec<Job>) {
    #[cfg(feature = "test-support")]
    if ctx
        .panic_next_batch
        .swap(false, std::sync::atomic::Ordering::SeqCst)
    {
        panic!("panne simulée d'un lot d'encaissements");
    }
    let (reqs, replies): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.req, j.reply)).unzip();
    match run_batch(ctx, &reqs).await {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) if reqs.len() > 1 => {
            tracing::warn!(error = %e, size = reqs.len(), "lot d'encaissements rejoué un par un");
            for (req, reply) in reqs.into_iter().zip(replies) {
                let result = match run_batch(ctx, std::slice::from_ref(&req)).await {
                    Ok(mut v) => v.pop().unwrap_or(Err(StoreError::Stopped)),
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
    }
}

/// A cheque as read at the start of the batch, updated as the batch decides.
struct Slot {
    id: i64,
    order_id: OrderId,
    funder_id: FunderId,
    view: ChequeView,
}

enum Pending {
    Done(Result<Answer, StoreError>),
    Decided(Outcome),
    /// Accepted; the redemption id is known once the batch's rows are inserted.
    Accepted {
        cheque_id: i64,
        draft: Redemption,
    },
    /// Same idempotency key as an earlier request of this batch.
    Follower,
}

fn refusal(code: &str, message: String) -> Outcome {
    Outcome::Refused(Refusal {
        code: code.to_string(),
        message,
    })
}

fn cheque_slot(row: &sqlx::any::AnyRow) -> Result<Slot, StoreError> {
    let state = get_string(row, "state")?;
    Ok(Slot {
        id: get_i64(row, "id")?,
        order_id: OrderId(get_i64(row, "order_id")?),
        funder_id: FunderId(get_i64(row, "funder_id")?),
        view: ChequeView {
            state: ChequeState::parse(&state)
                .ok_or_else(|| StoreError::corrupt(format!("état {state}")))?,
            face_value: Money::from_cents(get_i64(row, "face_value_cents")?),
            validity: Validity {
                valid_from: get_date(row, "valid_from")?,
                valid_until: get_date(row, "valid_until")?,
                tolerance_days: get_i64(row, "tolerance_days")?,
            },
            redeemed_at: get_opt_i64(row, "redeemed_at")?.map(Timestamp::from_unix_ms),
        },
    })
}

const CHEQUE_SELECT: &str = "SELECT c.id, c.code, c.state, c.face_value_cents, c.order_id, o.funder_id, o.valid_from, \
     o.valid_until, o.tolerance_days, \
     (SELECT r.redeemed_at FROM redemptions r WHERE r.cheque_id = c.id AND r.rolled_back_at IS NULL) AS redeemed_at \
     FROM cheques c JOIN orders o ON o.id = c.order_id";

async fn run_batch(
    ctx: &Ctx,
    reqs: &[RedeemRequest],
) -> Result<Vec<Result<Answer, StoreError>>, StoreError> {
    let mut tx = begin_write(&ctx.pool, ctx.engine).await?;
    let lock = if ctx.engine == Engine::Postgres {
        " FOR UPDATE OF c"
    } else {
        ""
    };

    // 1. Every cheque of the batch, locked, in id order (the same order on every server).
    let mut codes: Vec<String> = reqs.iter().map(|r| r.code.as_compact()).collect();
    codes.sort();
    codes.dedup();
    let sql = format!(
        "{CHEQUE_SELECT} WHERE c.code IN ({}) ORDER BY c.id{lock}",
        placeholders(ctx.engine, 0, codes.len())
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for c in &codes {
        q = q.bind(c.as_str());
    }
    let mut slots: HashMap<String, Slot> = HashMap::with_capacity(codes.len());
    for row in q.fetch_all(&mut *tx).await? {
        let code = get_string(&row, "code")?;
        slots.insert(code, cheque_slot(&row)?);
    }

    // 2. The venues that scan.
    let mut venue_ids: Vec<i64> = reqs.iter().map(|r| r.venue_id.0).collect();
    venue_ids.sort_unstable();
    venue_ids.dedup();
    let sql = format!(
        "SELECT {}, \
         (SELECT COUNT(*) FROM venue_services s WHERE s.venue_id = venues.id) AS catalogue_size \
         FROM venues WHERE id IN ({})",
        crate::venues::COLUMNS,
        placeholders(ctx.engine, 0, venue_ids.len())
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for v in &venue_ids {
        q = q.bind(*v);
    }
    let mut venues: HashMap<VenueId, VenueView> = HashMap::new();
    let mut with_catalogue: Vec<VenueId> = vec![];
    for row in q.fetch_all(&mut *tx).await? {
        let v = venue(&row)?;
        if get_i64(&row, "catalogue_size")? > 0 {
            with_catalogue.push(v.id);
        }
        venues.insert(v.id, v.view()?);
    }
    // The catalogues of the venues that declared one (an empty catalogue offers everything).
    let mut offered: HashSet<(VenueId, String)> = HashSet::new();
    if !with_catalogue.is_empty() {
        let sql = format!(
            "SELECT venue_id, service_code FROM venue_services WHERE venue_id IN ({})",
            placeholders(ctx.engine, 0, with_catalogue.len())
        );
        let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
        for v in &with_catalogue {
            q = q.bind(v.0);
        }
        for row in q.fetch_all(&mut *tx).await? {
            offered.insert((
                VenueId(get_i64(&row, "venue_id")?),
                get_string(&row, "service_code")?,
            ));
        }
    }

    // 3. Decide, in arrival order.
    let services = ctx.caches.services.lock().clone();
    let mut pending: Vec<Pending> = Vec::with_capacity(reqs.len());
    let mut leaders: HashMap<(String, String), usize> = HashMap::new();
    for (i, req) in reqs.iter().enumerate() {
        if let Some(k) = &req.idempotency {
            if leaders.contains_key(&(k.actor.clone(), k.key.clone())) {
                pending.push(Pending::Follower);
                continue;
            }
            match claim(&mut tx, k, req.now.unix_ms()).await {
                Ok(Claim::New) => {
                    leaders.insert((k.actor.clone(), k.key.clone()), i);
                }
                Ok(Claim::Replay(json)) => {
                    let outcome: Outcome =
                        serde_json::from_str(&json).map_err(StoreError::corrupt)?;
                    pending.push(Pending::Done(Ok(Answer {
                        outcome,
                        replayed: true,
                    })));
                    continue;
                }
                Err(StoreError::IdempotencyMismatch) => {
                    pending.push(Pending::Done(Err(StoreError::IdempotencyMismatch)));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let Some(venue) = venues.get(&req.venue_id) else {
            pending.push(Pending::Done(Err(StoreError::NotFound)));
            continue;
        };
        if !services.contains(&req.service_code) {
            pending.push(Pending::Decided(refusal(
                "service_unknown",
                "Ce service n'existe pas dans le référentiel : choisissez-le dans la liste.".into(),
            )));
            continue;
        }
        if with_catalogue.contains(&req.venue_id)
            && !offered.contains(&(req.venue_id, req.service_code.clone()))
        {
            pending.push(Pending::Decided(refusal(
                "service_not_offered",
                "Ce service ne figure pas au catalogue de votre lieu : choisissez-en un de la liste, ou \
                 demandez à l'opérateur de l'ajouter."
                    .into(),
            )));
            continue;
        }
        let code = req.code.as_compact();
        let slot = slots.get_mut(&code);
        let perim = match &slot {
            Some(s) => Some(perimeter(&mut tx, &ctx.caches, s.order_id).await?),
            None => None,
        };
        let everywhere = Default::default();
        let perim_ref = perim.as_deref().unwrap_or(&everywhere);
        match check_redemption(slot.as_ref().map(|s| &s.view), perim_ref, venue, req.now) {
            Err(r) => pending.push(Pending::Decided(refusal(r.code(), r.message()))),
            Ok(()) => {
                let s =
                    slot.ok_or_else(|| StoreError::corrupt("chèque accepté sans enregistrement"))?;
                s.view.state = cheque::transition(s.view.state, cheque::ChequeEvent::Redeem)
                    .ok_or_else(|| StoreError::corrupt("transition refusée"))?;
                s.view.redeemed_at = Some(req.now);
                pending.push(Pending::Accepted {
                    cheque_id: s.id,
                    draft: Redemption {
                        id: RedemptionId(0),
                        cheque_code: req.code.grouped(),
                        venue_id: req.venue_id,
                        funder_id: s.funder_id,
                        order_id: s.order_id,
                        service_code: req.service_code.clone(),
                        amount_cents: s.view.face_value.cents(),
                        redeemed_at: req.now,
                        rolled_back_at: None,
                    },
                });
            }
        }
    }

    // 4. Write the accepted ones with a handful of statements.
    let accepted: Vec<(i64, &Redemption)> = pending
        .iter()
        .filter_map(|p| match p {
            Pending::Accepted { cheque_id, draft } => Some((*cheque_id, draft)),
            _ => None,
        })
        .collect();
    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(accepted.len());
    if !accepted.is_empty() {
        let sql = format!(
            "INSERT INTO redemptions (cheque_id, venue_id, service_code, amount_cents, redeemed_at) VALUES {} RETURNING id, cheque_id",
            value_rows(ctx.engine, accepted.len(), 5)
        );
        let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
        for (cheque_id, d) in &accepted {
            q = q
                .bind(*cheque_id)
                .bind(d.venue_id.0)
                .bind(d.service_code.as_str())
                .bind(d.amount_cents)
                .bind(d.redeemed_at.unix_ms());
        }
        for row in q.fetch_all(&mut *tx).await? {
            ids.insert(get_i64(&row, "cheque_id")?, get_i64(&row, "id")?);
        }
        let sql = format!(
            "UPDATE cheques SET state = 'redeemed' WHERE state = 'issued' AND id IN ({})",
            placeholders(ctx.engine, 0, accepted.len())
        );
        let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
        for (cheque_id, _) in &accepted {
            q = q.bind(*cheque_id);
        }
        let updated = q.execute(&mut *tx).await?.rows_affected();
        if updated != accepted.len() as u64 || ids.len() != accepted.len() {
            return Err(StoreError::corrupt(
                "un chèque a changé d'état pendant l'encaissement",
            ));
        }
        let transfers: Vec<NewTransfer> = accepted
            .iter()
            .map(|(cheque_id, d)| NewTransfer {
                posting: Posting::redemption(
                    d.funder_id,
                    d.venue_id,
                    Money::from_cents(d.amount_cents),
                ),
                order_id: Some(d.order_id.0),
                redemption_id: ids.get(cheque_id).copied(),
                reverses_id: None,
                payment_run_id: None,
            })
            .collect();
        let latest = reqs
            .iter()
            .map(|r| r.now)
            .max()
            .unwrap_or(Timestamp::from_unix_ms(0));
        post(&mut tx, &ctx.caches, ctx.engine, &transfers, latest).await?;
    }

    // 5. Final outcomes, stored under their idempotency keys before the commit.
    let mut results: Vec<Option<Result<Answer, StoreError>>> = Vec::with_capacity(reqs.len());
    for p in pending {
        results.push(match p {
            Pending::Done(r) => Some(r),
            Pending::Decided(outcome) => Some(Ok(Answer {
                outcome,
                replayed: false,
            })),
            Pending::Accepted {
                cheque_id,
                mut draft,
            } => {
                draft.id = RedemptionId(ids[&cheque_id]);
                Some(Ok(Answer {
                    outcome: Outcome::Accepted(draft),
                    replayed: false,
                }))
            }
            Pending::Follower => None,
        });
    }
    for (i, req) in reqs.iter().enumerate() {
        if let (Some(k), Some(Ok(a))) = (&req.idempotency, &results[i])
            && leaders.get(&(k.actor.clone(), k.key.clone())) == Some(&i)
        {
            let json = serde_json::to_string(&a.outcome).map_err(StoreError::corrupt)?;
            record(&mut tx, k, &json).await?;
        }
    }
    tx.commit().await?;

    let mut out = Vec::with_capacity(reqs.len());
    for (i, req) in reqs.iter().enumerate() {
        let r = match &results[i] {
            Some(Ok(a)) => Ok(a.clone()),
            Some(Err(StoreError::IdempotencyMismatch)) => Err(StoreError::IdempotencyMismatch),
            Some(Err(StoreError::NotFound)) => Err(StoreError::NotFound),
            Some(Err(e)) => Err(StoreError::Corrupt(e.to_string())),
            None => {
                // A retry inside the same batch: the leader's answer, if the body matches.
                let k = req.idempotency.as_ref().expect("followers have keys");
                let leader = leaders[&(k.actor.clone(), k.key.clone())];
                let lk = reqs[leader]
                    .idempotency
                    .as_ref()
                    .expect("leaders have keys");
                match &results[leader] {
                    Some(Ok(a)) if lk.request_hash == k.request_hash => Ok(Answer {
                        outcome: a.outcome.clone(),
                        replayed: true,
                    }),
                    Some(Ok(_)) => Err(StoreError::IdempotencyMismatch),
                    _ => Err(StoreError::NotFound),
                }
            }
        };
        out.push(r);
    }
    Ok(out)
}

const REDEMPTION_SELECT: &str = "SELECT r.id, c.code, r.venue_id, o.funder_id, c.order_id, r.service_code, r.amount_cents, \
     r.redeemed_at, r.rolled_back_at, c.state AS cheque_state, c.id AS cheque_id FROM redemptions r \
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
    })
}

/// Whose redemptions a caller may list.
#[derive(Clone, Copy, Debug)]
pub enum RedemptionScope {
    All,
    Funder(FunderId),
    Venue(VenueId),
}

impl Store {
    /// Redeems one cheque. Business refusals are an [`Outcome::Refused`], not an error.
    pub async fn redeem(&self, req: RedeemRequest) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .redeemer
            .sender
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
            Some(r) => {
                let red = redemption_row(r)?;
                let state = get_string(r, "cheque_state")?;
                // Being paid (taken by a live run) matters only here, so listings do not pay for it.
                let in_run: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM payment_run_items WHERE redemption_id = $1 AND cancelled = 0",
                )
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
                Some((red, view, get_i64(r, "cheque_id")?))
            }
            None => None,
        };
        let outcome = match check_rollback(
            found.as_ref().map(|(_, v, _)| v),
            req.venue_id,
            req.now,
            self.options().rollback_window_ms,
        ) {
            Err(r) => refusal(r.code(), r.message()),
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
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(redemption_row)
        .collect()
    }
}
