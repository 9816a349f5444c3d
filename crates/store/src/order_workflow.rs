//! The life of an order: draft → confirmed → paid → issued, or cancelled before payment.
//!
//! Each step is one conditional UPDATE (`WHERE status = …`), so two people pressing the same
//! button at once move the order once; the loser gets a clear conflict. Money moves only on
//! payment (the prepayment held for the funder) and codes are drawn only on issue.

use std::collections::HashSet;

use passnum_core::ledger::Posting;
use passnum_core::order_options::LogoKind;
use passnum_core::payment::FeeRate;
use passnum_core::{ChequeCode, FunderId, Money, NewOrder, OrderId, OrderStatus, Timestamp};
use sqlx::{Any, Transaction};

use crate::ledger::{NewTransfer, post};
use crate::orders::{ORDER_COLUMNS, Order, order_row};
use crate::rows::{date_to_sql, get_i64, get_string, value_rows};
use crate::{Engine, Store, StoreError};

/// Rows per multi-row INSERT of cheques (3 parameters each, well under both engines' limits).
const CHEQUE_CHUNK: usize = 2000;

fn wrong_state(status: OrderStatus, wanted: &str) -> StoreError {
    StoreError::Conflict {
        code: "order_state",
        message: format!(
            "Cette commande est à l'état « {} » : elle ne peut pas être {wanted}.",
            status.label().to_lowercase()
        ),
    }
}

impl Store {
    /// Records a draft: nothing is committed, no money moves, no code exists yet.
    pub async fn create_draft_order(
        &self,
        funder: FunderId,
        order: &NewOrder,
        now: Timestamp,
    ) -> Result<Order, StoreError> {
        let mut tx = self.begin_write().await?;
        check_budget(&mut tx, self.engine(), funder, order.total, false).await?;
        let v = order.validity;
        let publics: Vec<&str> = order
            .options
            .target_publics
            .iter()
            .map(|p| p.as_str())
            .collect();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO orders (funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents, \
             valid_from, valid_until, tolerance_days, created_at, target_publics, cover_text) \
             VALUES ($1, 'draft', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {ORDER_COLUMNS}"
        )))
        .bind(funder.0)
        .bind(order.booklet_count)
        .bind(order.cheques_per_booklet)
        .bind(order.face_value.cents())
        .bind(order.total.cents())
        .bind(date_to_sql(v.valid_from))
        .bind(date_to_sql(v.valid_until))
        .bind(v.tolerance_days)
        .bind(now.unix_ms())
        .bind(publics.join(","))
        .bind(&order.options.cover_text)
        .fetch_one(&mut *tx)
        .await?;
        let created = order_row(&row, &order.perimeter, order.options.funding.clone())?;
        let order_id = created.id.0;

        let places: Vec<(&str, &str)> = order
            .perimeter
            .entries()
            .into_iter()
            .map(|(level, code)| (level.slug(), code))
            .collect();
        for chunk in places.chunks(500) {
            let sql = format!(
                "INSERT INTO order_perimeter (order_id, kind, code) VALUES {}",
                value_rows(self.engine(), chunk.len(), 3)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (kind, code) in chunk {
                q = q.bind(order_id).bind(*kind).bind(*code);
            }
            q.execute(&mut *tx).await?;
        }
        for (position, line) in order.options.funding.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_funding (order_id, position, source, basis_points) VALUES ($1, $2, $3, $4)",
            )
            .bind(order_id)
            .bind(position as i64 + 1)
            .bind(&line.source)
            .bind(line.basis_points)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Moves an order from one of `from` to `to`, stamping `stamp`, inside `tx`.
    async fn advance(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: OrderId,
        from: OrderStatus,
        to: OrderStatus,
        wanted: &str,
        now: Timestamp,
    ) -> Result<(FunderId, Money), StoreError> {
        let stamp = match to {
            OrderStatus::Confirmed => "confirmed_at",
            OrderStatus::Paid => "paid_at",
            OrderStatus::Issued => "issued_at",
            OrderStatus::Cancelled => "cancelled_at",
            _ => unreachable!("no transition stamps {to:?}"),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE orders SET status = $1, {stamp} = $2 WHERE id = $3 AND status = $4 RETURNING funder_id, total_cents"
        )))
        .bind(to.as_str())
        .bind(now.unix_ms())
        .bind(id.0)
        .bind(from.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(r) => Ok((
                FunderId(get_i64(&r, "funder_id")?),
                Money::from_cents(get_i64(&r, "total_cents")?),
            )),
            None => Err(wrong_state(status_of(tx, id).await?, wanted)),
        }
    }

    /// The funder commits to the order (the prepayment invoice becomes due). Checked against
    /// the funder's declared budget, with the funder locked so two confirmations cannot both
    /// fit in the same remaining budget.
    pub async fn confirm_order(&self, id: OrderId, now: Timestamp) -> Result<Order, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "order_confirmation", || {
            self.confirm_order_once(id, now)
        })
        .await
    }

    async fn confirm_order_once(&self, id: OrderId, now: Timestamp) -> Result<Order, StoreError> {
        let mut tx = self.begin_write().await?;
        let (funder, total) = self
            .advance(
                &mut tx,
                id,
                OrderStatus::Draft,
                OrderStatus::Confirmed,
                "confirmée",
                now,
            )
            .await?;
        check_budget(&mut tx, self.engine(), funder, total, true).await?;
        // The funder-side fee is frozen with the invoice: a later change of the programme's
        // fees does not change what this funder was asked to pay.
        let bp: i64 =
            sqlx::query_scalar("SELECT funder_fee_bp FROM programme_settings WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let fee = FeeRate::from_basis_points(bp)
            .unwrap_or_default()
            .fee_on(total)
            .map_err(|e| StoreError::corrupt(e.to_string()))?;
        sqlx::query("UPDATE orders SET funder_fee_bp = $1, funder_fee_cents = $2 WHERE id = $3")
            .bind(bp)
            .bind(fee.cents())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.get_order(id).await
    }

    /// The funder's payment has arrived: the whole face value is held for it in the ledger.
    pub async fn record_order_payment(
        &self,
        id: OrderId,
        now: Timestamp,
    ) -> Result<Order, StoreError> {
        let mut tx = self.begin_write().await?;
        let (funder, total) = self
            .advance(
                &mut tx,
                id,
                OrderStatus::Confirmed,
                OrderStatus::Paid,
                "marquée payée",
                now,
            )
            .await?;
        let fee: i64 = sqlx::query_scalar("SELECT funder_fee_cents FROM orders WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        let prepayment = NewTransfer {
            posting: Posting::prepayment(funder, total),
            order_id: Some(id.0),
            redemption_id: None,
            reverses_id: None,
            payment_run_id: None,
        };
        let mut transfers = vec![prepayment];
        if fee > 0 {
            transfers.push(NewTransfer {
                posting: Posting::funder_fee(Money::from_cents(fee)),
                ..prepayment
            });
        }
        post(&mut tx, &self.inner.caches, self.engine(), &transfers, now).await?;
        tx.commit().await?;
        self.get_order(id).await
    }

    /// Draws one code per cheque and creates the booklets, in one transaction.
    pub async fn issue_order(&self, id: OrderId, now: Timestamp) -> Result<Order, StoreError> {
        let order = self.get_order(id).await?;
        if order.status != OrderStatus::Paid {
            return Err(wrong_state(order.status, "émise (elle doit être payée)"));
        }
        let codes = draw_codes((order.booklet_count * order.cheques_per_booklet) as usize);
        let mut tx = self.begin_write().await?;
        self.advance(
            &mut tx,
            id,
            OrderStatus::Paid,
            OrderStatus::Issued,
            "émise",
            now,
        )
        .await?;
        insert_cheques(
            &mut tx,
            self.engine(),
            id.0,
            order.booklet_count,
            order.cheques_per_booklet as usize,
            order.face_value_cents,
            &codes,
        )
        .await?;
        tx.commit().await?;
        self.get_order(id).await
    }

    /// Cancels a draft or a confirmed order; no money has moved yet. A paid order is not
    /// cancelled: its unused value comes back through the end-of-validity credit note.
    pub async fn cancel_order(&self, id: OrderId, now: Timestamp) -> Result<Order, StoreError> {
        let mut tx = self.begin_write().await?;
        let status = status_of(&mut tx, id).await?;
        if !matches!(status, OrderStatus::Draft | OrderStatus::Confirmed) {
            return Err(wrong_state(
                status,
                "annulée (une fois payée, sa part inutilisée revient par l'avoir de fin de validité)",
            ));
        }
        self.advance(&mut tx, id, status, OrderStatus::Cancelled, "annulée", now)
            .await?;
        tx.commit().await?;
        self.get_order(id).await
    }

    /// Every step at once, for an operator who issues an order already paid outside passnum,
    /// and for the demo, tests and benchmarks.
    pub async fn create_order(
        &self,
        funder: FunderId,
        order: &NewOrder,
        now: Timestamp,
    ) -> Result<Order, StoreError> {
        let draft = self.create_draft_order(funder, order, now).await?;
        self.confirm_order(draft.id, now).await?;
        self.record_order_payment(draft.id, now).await?;
        self.issue_order(draft.id, now).await
    }

    /// Sets or replaces the logo printed on the booklets, until they are issued.
    pub async fn set_order_logo(
        &self,
        id: OrderId,
        kind: LogoKind,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let status = status_of(&mut tx, id).await?;
        if !matches!(
            status,
            OrderStatus::Draft | OrderStatus::Confirmed | OrderStatus::Paid
        ) {
            return Err(wrong_state(status, "modifiée"));
        }
        sqlx::query("DELETE FROM order_logos WHERE order_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO order_logos (order_id, media_type, bytes) VALUES ($1, $2, $3)")
            .bind(id.0)
            .bind(kind.media_type())
            .bind(bytes.to_vec())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn order_logo(&self, id: OrderId) -> Result<Option<(LogoKind, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT media_type, bytes FROM order_logos WHERE order_id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let kind = match get_string(&row, "media_type")?.as_str() {
            "image/png" => LogoKind::Png,
            _ => LogoKind::Svg,
        };
        let bytes: Vec<u8> = sqlx::Row::try_get(&row, "bytes")?;
        Ok(Some((kind, bytes)))
    }
}

/// An order's status, read inside `tx`.
async fn status_of(
    tx: &mut Transaction<'static, Any>,
    id: OrderId,
) -> Result<OrderStatus, StoreError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    let status = status.ok_or(StoreError::NotFound)?;
    OrderStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("statut {status}")))
}

/// Refuses when `this_order` does not fit in what the funder's declared budget leaves once
/// its other committed orders are counted. `counted`: this order is already committed.
async fn check_budget(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    funder: FunderId,
    this_order: Money,
    counted: bool,
) -> Result<(), StoreError> {
    let budget = crate::funders::lock_budget(tx, engine, funder).await?;
    // No declared budget: core would accept anything, so the sum of committed orders is not read.
    if budget.is_none() {
        return Ok(());
    }
    let committed = crate::funders::committed(tx, funder).await?.cents();
    let others = committed - if counted { this_order.cents() } else { 0 };
    passnum_core::order::check_budget(budget, Money::from_cents(others), this_order)
        .map_err(|r| StoreError::refused(&r))?;
    Ok(())
}

/// Codes are drawn before the transaction (the generator is not held across awaits).
fn draw_codes(n: usize) -> Vec<String> {
    let mut rng = rand::rng();
    let mut seen = HashSet::with_capacity(n);
    let mut codes = Vec::with_capacity(n);
    while codes.len() < n {
        let c = ChequeCode::generate(&mut rng);
        if seen.insert(c) {
            codes.push(c.as_compact());
        }
    }
    codes
}

async fn insert_cheques(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    order_id: i64,
    booklet_count: i64,
    per: usize,
    face: i64,
    codes: &[String],
) -> Result<(), StoreError> {
    let numbers: Vec<i64> = (1..=booklet_count).collect();
    // The booking code printed on each cover; drawn here, the generator is not held across
    // awaits.
    let booking_codes: Vec<String> = {
        use rand::Rng;
        let mut rng = rand::rng();
        numbers
            .iter()
            .map(|_| passnum_core::workshop::booking_code_from(rng.random()))
            .collect()
    };
    for (i, chunk) in numbers.chunks(5000).enumerate() {
        let sql = format!(
            "INSERT INTO booklets (order_id, number, booking_code) VALUES {}",
            value_rows(engine, chunk.len(), 3)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (j, n) in chunk.iter().enumerate() {
            q = q
                .bind(order_id)
                .bind(*n)
                .bind(booking_codes[i * 5000 + j].clone());
        }
        q.execute(&mut **tx).await?;
    }
    // The order's line of the funnel rollup (see `crate::usage`), bought from the start.
    sqlx::query("INSERT INTO order_funnel (order_id, bought) VALUES ($1, $2)")
        .bind(order_id)
        .bind(booklet_count)
        .execute(&mut **tx)
        .await?;
    let booklet_ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM booklets WHERE order_id = $1 ORDER BY number")
            .bind(order_id)
            .fetch_all(&mut **tx)
            .await?;
    for (chunk_index, chunk) in codes.chunks(CHEQUE_CHUNK).enumerate() {
        // order_id and face value are integers we produced: inlined to save parameters.
        // Both engines name the columns of a bare VALUES list column1, column2, ….
        let sql = format!(
            "INSERT INTO cheques (order_id, face_value_cents, state, booklet_id, number, code) SELECT {order_id}, {face}, 'issued', column1, column2, column3 FROM (VALUES {}) AS v",
            value_rows(engine, chunk.len(), 3)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, code) in chunk.iter().enumerate() {
            let k = chunk_index * CHEQUE_CHUNK + i;
            q = q
                .bind(booklet_ids[k / per])
                .bind((k % per + 1) as i64)
                .bind(code.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
