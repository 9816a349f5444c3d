//! Rows written by plain SQL for `passnum bench`, where the measured path is not the one that
//! would write them (the figures read handouts; the handout path has its own measurement, and
//! 100,000 handouts through it would take minutes).

use passnum_core::{OrderId, Timestamp};

use crate::{Store, StoreError};

impl Store {
    /// Records a handout for every booklet of `order` already allocated: communes and publics
    /// taken in turn from the lists, instants spread over `span_ms` after `since`. Returns the
    /// handouts written. Only for benchmarks: no diagnostic, no household, no staff.
    pub async fn bench_hand_out_order(
        &self,
        order: OrderId,
        communes: &[&str],
        publics: &[&str],
        since: Timestamp,
        span_ms: i64,
    ) -> Result<i64, StoreError> {
        // The lists come from the embedded commune data and the code: checked, then inlined.
        let safe = |v: &str| {
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ',')
        };
        if communes.is_empty()
            || publics.is_empty()
            || !communes.iter().chain(publics).all(|v| safe(v))
        {
            return Err(StoreError::corrupt("listes du banc d'essai"));
        }
        let case_of = |list: &[&str]| -> String {
            let arms: Vec<String> = list
                .iter()
                .enumerate()
                .map(|(i, v)| format!("WHEN {i} THEN '{v}'"))
                .collect();
            format!("CASE b.number % {} {} END", list.len(), arms.join(" "))
        };
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO handouts (booklet_id, order_id, distributor_id, commune_insee, publics, needs, equipment, level, \
             language_need, disability_need, handed_out_at) \
             SELECT b.id, b.order_id, b.distributor_id, {}, {}, 'online_procedures', 'phone_only', 'beginner', 0, 0, \
             $1 + (b.number * 7919) % $2 FROM booklets b \
             WHERE b.order_id = $3 AND b.distributor_id IS NOT NULL AND b.handed_out_at IS NULL",
            case_of(communes),
            case_of(publics)
        )))
        .bind(since.unix_ms())
        .bind(span_ms.max(1))
        .bind(order.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let updated = sqlx::query(
            "UPDATE booklets SET handed_out_at = (SELECT h.handed_out_at FROM handouts h WHERE h.booklet_id = booklets.id) \
             WHERE order_id = $1 AND handed_out_at IS NULL AND distributor_id IS NOT NULL",
        )
        .bind(order.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != n {
            return Err(StoreError::corrupt("remises du banc d'essai"));
        }
        crate::usage::add_handed_out(&mut tx, order.0, n as i64).await?;
        tx.commit().await?;
        Ok(n as i64)
    }
}
