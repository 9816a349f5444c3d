//! The writer tasks: they take every redemption waiting (up to a bound) and run it as one
//! batch; a panic inside a batch ends that batch only.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use super::batch::run_batch;
use super::*;

pub(super) struct Job {
    pub(super) req: RedeemRequest,
    pub(super) reply: oneshot::Sender<Result<Answer, StoreError>>,
}

pub(crate) struct Redeemer {
    /// Scans without a workshop: any writer takes them.
    pub(super) sender: mpsc::Sender<Job>,
    /// Scans for a workshop: always the same writer for one workshop (its lane), so that two
    /// batches of one server never wait on each other's lock of that workshop's row. With a
    /// shared queue, four writers taking the scans of the same few workshops ran one after
    /// the other on PostgreSQL.
    pub(super) lanes: Vec<mpsc::Sender<Job>>,
    #[cfg(feature = "test-support")]
    pub(super) ctx: Arc<Ctx>,
}

pub(super) struct Ctx {
    pub(super) engine: Engine,
    pub(super) pool: AnyPool,
    pub(super) caches: Caches,
    pub(super) telemetry: crate::telemetry::TelemetrySlot,
    /// Tests make the next batch panic, to prove the writer survives it.
    #[cfg(feature = "test-support")]
    pub(super) panic_next_batch: std::sync::atomic::AtomicBool,
}

impl Redeemer {
    pub fn start(
        engine: Engine,
        pool: AnyPool,
        caches: Caches,
        telemetry: crate::telemetry::TelemetrySlot,
        workers: usize,
        max_batch: usize,
    ) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>(16_384);
        let receiver = Arc::new(AsyncMutex::new(receiver));
        let workers = workers.max(1);
        let mut lanes = Vec::with_capacity(workers);
        let ctx = Arc::new(Ctx {
            engine,
            pool,
            caches,
            telemetry,
            #[cfg(feature = "test-support")]
            panic_next_batch: Default::default(),
        });
        for _ in 0..workers {
            let receiver = receiver.clone();
            let ctx = ctx.clone();
            let (lane_sender, mut lane) = mpsc::channel::<Job>(16_384 / workers);
            lanes.push(lane_sender);
            tokio::spawn(async move {
                loop {
                    // Its own lane first, else whatever the shared queue holds. Both `recv`
                    // are cancel-safe: the branch that loses drops its wait, not a job.
                    let first = tokio::select! {
                        biased;
                        Some(job) = lane.recv() => Some(job),
                        job = async { receiver.lock().await.recv().await } => job,
                    };
                    let Some(first) = first else { break };
                    let mut batch = vec![first];
                    let max = max_batch.max(1);
                    while batch.len() < max {
                        match lane.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    if let Ok(mut rx) = receiver.try_lock() {
                        while batch.len() < max {
                            match rx.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                    }
                    // Supervision: a panic (a bug) ends this batch only. Its transaction is
                    // dropped uncommitted, its callers' reply channels close (they get
                    // `StoreError::Interrupted`, safe to retry with the same idempotency key)
                    // and this writer takes the next batch. Without it, one panic ended the
                    // writer and, on SQLite where there is one, every later redemption failed
                    // until restart. Caught in place rather than in a task of its own, so that
                    // a batch costs no hand-off between threads.
                    let batch_run = AssertUnwindSafe(process(&ctx, batch)).catch_unwind();
                    if batch_run.await.is_err() {
                        tracing::error!("lot d'encaissements interrompu ; l'écrivain continue");
                    }
                }
            });
        }
        #[cfg(feature = "test-support")]
        return Self { sender, lanes, ctx };
        #[cfg(not(feature = "test-support"))]
        Self { sender, lanes }
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
    match run_batch_retrying(ctx, &reqs).await {
        Ok(results) => {
            ctx.telemetry.with(|t| {
                t.redemption_batch(reqs.len());
                results.iter().for_each(|r| count(t, r));
            });
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) if reqs.len() > 1 => {
            tracing::warn!(error = %e, size = reqs.len(), "lot d'encaissements rejoué un par un");
            for (req, reply) in reqs.into_iter().zip(replies) {
                let result = match run_batch_retrying(ctx, std::slice::from_ref(&req)).await {
                    Ok(mut v) => v.pop().unwrap_or(Err(StoreError::Stopped)),
                    Err(e) => Err(e),
                };
                ctx.telemetry.with(|t| {
                    if result.is_ok() {
                        t.redemption_batch(1);
                    }
                    count(t, &result);
                });
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            ctx.telemetry.with(|t| t.redemption("error"));
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
    }
}

/// A batch run again while PostgreSQL reports a serialization failure or deadlock (a batch
/// that failed was rolled back whole).
async fn run_batch_retrying(
    ctx: &Ctx,
    reqs: &[RedeemRequest],
) -> Result<Vec<Result<Answer, StoreError>>, StoreError> {
    crate::retry::retrying(&ctx.telemetry, "redemption", || run_batch(ctx, reqs)).await
}

/// One redemption's answer for the metrics: accepted, refused (by code), or failed.
fn count(t: &dyn crate::telemetry::Telemetry, result: &Result<Answer, StoreError>) {
    t.redemption(match result {
        Ok(Answer {
            outcome: Outcome::Accepted(_),
            ..
        }) => "accepted",
        Ok(Answer {
            outcome: Outcome::Refused(r),
            ..
        }) => &r.code,
        Err(_) => "error",
    });
}
