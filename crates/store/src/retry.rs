//! Writes that PostgreSQL may ask to run again: at `SERIALIZABLE` isolation (or on a
//! distributed PostgreSQL-compatible engine) a transaction can fail with a serialization
//! failure (SQLSTATE 40001) or a deadlock (40P01) although nothing is wrong with it. Such a
//! transaction was rolled back whole, so running it again is safe; this helper does, a bounded
//! number of times, with a growing, jittered wait, and counts each retry. When the budget is
//! spent the caller gets [`StoreError::Contention`] (a stable code, never half-written data).

use std::time::Duration;

use rand::Rng;

use crate::StoreError;
use crate::telemetry::TelemetrySlot;

/// Attempts in all (the first and eleven retries: at most about 2 s of waiting). Eight were
/// not enough when forty rollbacks of one booklet's cheques raced from two servers, all
/// updating the same counters: the last in line spent its budget while the others went
/// through one at a time.
pub(crate) const MAX_ATTEMPTS: u32 = 12;

/// Runs `f` again while it fails with a retryable error, at most [`MAX_ATTEMPTS`] times.
pub(crate) async fn retrying<T, F, Fut>(
    telemetry: &TelemetrySlot,
    operation: &'static str,
    mut f: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if e.is_retryable() => {
                if attempt >= MAX_ATTEMPTS {
                    tracing::warn!(operation, attempts = attempt, error = %e, "écriture abandonnée après plusieurs conflits");
                    return Err(StoreError::Contention);
                }
                telemetry.with(|t| t.write_retry(operation));
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// 5, 10, 20… 320 ms, each somewhere between half and the whole: transactions that collided
/// do not collide again at the same instant.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 5u64 << (attempt - 1).min(6);
    let ms = rand::rng().random_range(ceiling / 2..=ceiling);
    Duration::from_millis(ms.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retryable_failures_are_tried_again_then_given_up_with_a_stable_error() {
        let slot = TelemetrySlot::default();
        let mut calls = 0;
        let r: Result<(), StoreError> = retrying(&slot, "test", || {
            calls += 1;
            async { Err(StoreError::Contention) }
        })
        .await;
        assert!(matches!(r, Err(StoreError::Contention)));
        assert_eq!(calls, MAX_ATTEMPTS);
        let mut calls = 0;
        let r = retrying(&slot, "test", || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(StoreError::Contention)
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<(), StoreError> = retrying(&slot, "test", || {
            calls += 1;
            async { Err(StoreError::NotFound) }
        })
        .await;
        assert!(matches!(r, Err(StoreError::NotFound)));
        assert_eq!(calls, 1, "other errors are not retried");
    }

    #[test]
    fn waits_grow_and_stay_short() {
        for a in 1..=MAX_ATTEMPTS {
            let d = backoff(a).as_millis() as u64;
            let ceiling = 5u64 << (a - 1).min(6);
            assert!(d >= (ceiling / 2).max(1) && d <= ceiling, "{a}: {d}");
        }
    }
}
