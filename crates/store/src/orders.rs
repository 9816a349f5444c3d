//! Orders: issuing booklets and cheques, and reading them back.

use std::sync::Arc;

use passnum_core::order::Perimeter;
use passnum_core::order_options::{FundingLine, Public};
use passnum_core::{
    ChequeCode, ChequeState, DepartementCode, EpciCode, FunderId, InseeCode, OrderId, OrderStatus,
    RegionCode, Timestamp, Validity,
};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection};
use time::Date;

use crate::payments::CHEQUE_STATE;
use crate::rows::{Caches, get_date, get_i64, get_opt_i64, get_string, page_limit};
use crate::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: OrderId,
    pub funder_id: FunderId,
    pub status: OrderStatus,
    pub booklet_count: i64,
    pub cheques_per_booklet: i64,
    pub face_value_cents: i64,
    pub total_cents: i64,
    pub valid_from: Date,
    pub valid_until: Date,
    pub tolerance_days: i64,
    pub perimeter_communes: Vec<String>,
    pub perimeter_departements: Vec<String>,
    pub perimeter_epcis: Vec<String>,
    pub perimeter_regions: Vec<String>,
    pub created_at: Timestamp,
    pub target_publics: Vec<Public>,
    pub cover_text: String,
    pub funding: Vec<FundingLine>,
    pub has_logo: bool,
    pub confirmed_at: Option<Timestamp>,
    pub paid_at: Option<Timestamp>,
    pub issued_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    /// The operator's fee on top of the face value, frozen at confirmation (basis points, cents).
    pub funder_fee_bp: i64,
    pub funder_fee_cents: i64,
}

impl Order {
    /// The perimeter as the domain uses it (codes were checked when the order was made).
    pub fn perimeter(&self) -> Perimeter {
        Perimeter {
            communes: self
                .perimeter_communes
                .iter()
                .filter_map(|c| InseeCode::parse(c).ok())
                .collect(),
            departements: self
                .perimeter_departements
                .iter()
                .filter_map(|d| DepartementCode::parse(d).ok())
                .collect(),
            epcis: self
                .perimeter_epcis
                .iter()
                .filter_map(|e| EpciCode::parse_known(e).ok())
                .collect(),
            regions: self
                .perimeter_regions
                .iter()
                .filter_map(|r| RegionCode::parse_known(r).ok())
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrderCounts {
    pub issued: i64,
    pub redeemed: i64,
    pub paid: i64,
    pub blocked: i64,
    pub expired: i64,
    /// Face value of cheques still usable (issued).
    pub remaining_value_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChequeListItem {
    pub id: i64,
    pub booklet_number: i64,
    pub number: i64,
    pub code: String,
    pub state: ChequeState,
}

/// What a status lookup reveals: enough to tell a person whether the cheque is usable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChequeStatus {
    pub code: String,
    pub state: ChequeState,
    pub face_value_cents: i64,
    pub valid_from: Date,
    pub valid_until: Date,
    pub last_accepted_day: Date,
    pub order_id: OrderId,
    pub funder_id: FunderId,
    pub redeemed_at: Option<Timestamp>,
}

pub(crate) const ORDER_COLUMNS: &str = "id, funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, \
     total_cents, valid_from, valid_until, tolerance_days, created_at, target_publics, cover_text, \
     confirmed_at, paid_at, issued_at, cancelled_at, funder_fee_bp, funder_fee_cents, \
     (SELECT COUNT(*) FROM order_logos l WHERE l.order_id = orders.id) AS has_logo";

pub(crate) fn order_row(
    row: &AnyRow,
    perimeter: &Perimeter,
    funding: Vec<FundingLine>,
) -> Result<Order, StoreError> {
    let status = get_string(row, "status")?;
    let at = |col| Ok::<_, StoreError>(get_opt_i64(row, col)?.map(Timestamp::from_unix_ms));
    Ok(Order {
        id: OrderId(get_i64(row, "id")?),
        funder_id: FunderId(get_i64(row, "funder_id")?),
        status: OrderStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("statut de commande {status}")))?,
        target_publics: get_string(row, "target_publics")?
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| Public::parse(p).ok_or_else(|| StoreError::corrupt(format!("public {p}"))))
            .collect::<Result<_, _>>()?,
        cover_text: get_string(row, "cover_text")?,
        funding,
        has_logo: get_i64(row, "has_logo")? > 0,
        confirmed_at: at("confirmed_at")?,
        paid_at: at("paid_at")?,
        issued_at: at("issued_at")?,
        cancelled_at: at("cancelled_at")?,
        funder_fee_bp: get_i64(row, "funder_fee_bp")?,
        funder_fee_cents: get_i64(row, "funder_fee_cents")?,
        booklet_count: get_i64(row, "booklet_count")?,
        cheques_per_booklet: get_i64(row, "cheques_per_booklet")?,
        face_value_cents: get_i64(row, "face_value_cents")?,
        total_cents: get_i64(row, "total_cents")?,
        valid_from: get_date(row, "valid_from")?,
        valid_until: get_date(row, "valid_until")?,
        tolerance_days: get_i64(row, "tolerance_days")?,
        perimeter_communes: perimeter
            .communes
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        perimeter_departements: perimeter
            .departements
            .iter()
            .map(|d| d.as_str().to_string())
            .collect(),
        perimeter_epcis: perimeter
            .epcis
            .iter()
            .map(|e| e.as_str().to_string())
            .collect(),
        perimeter_regions: perimeter
            .regions
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        created_at: Timestamp::from_unix_ms(get_i64(row, "created_at")?),
    })
}

/// Locks an order that still takes changes (any state but cancelled) in the caller's
/// transaction: `FOR UPDATE` on PostgreSQL, SQLite's write transaction being the lock. A
/// cancelled order is refused with `when_cancelled`, an unknown one is not found.
pub(crate) async fn lock_open_order(
    engine: crate::Engine,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
    when_cancelled: &str,
) -> Result<(), StoreError> {
    let lock = engine.for_update();
    let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM orders WHERE id = $1{lock}"
    )))
    .bind(order.0)
    .fetch_optional(&mut **tx)
    .await?;
    match status.as_deref() {
        None => Err(StoreError::NotFound),
        Some("cancelled") => Err(StoreError::Conflict {
            code: "order_state",
            message: when_cancelled.into(),
        }),
        Some(_) => Ok(()),
    }
}

/// An order's perimeter, from the cache or the database (perimeters never change once issued).
pub(crate) async fn perimeter(
    conn: &mut AnyConnection,
    caches: &Caches,
    order: OrderId,
) -> Result<Arc<Perimeter>, StoreError> {
    if let Some(p) = caches.perimeters.lock().get(&order) {
        return Ok(p.clone());
    }
    let rows = sqlx::query::<Any>("SELECT kind, code FROM order_perimeter WHERE order_id = $1")
        .bind(order.0)
        .fetch_all(&mut *conn)
        .await?;
    let mut p = Perimeter::default();
    for r in &rows {
        let code = get_string(r, "code")?;
        match get_string(r, "kind")?.as_str() {
            "commune" => {
                p.communes
                    .insert(InseeCode::parse(&code).map_err(StoreError::corrupt)?);
            }
            "epci" => {
                p.epcis
                    .insert(EpciCode::parse_known(&code).map_err(StoreError::corrupt)?);
            }
            "region" => {
                p.regions
                    .insert(RegionCode::parse_known(&code).map_err(StoreError::corrupt)?);
            }
            _ => {
                p.departements
                    .insert(DepartementCode::parse(&code).map_err(StoreError::corrupt)?);
            }
        }
    }
    let p = Arc::new(p);
    caches.perimeters.lock().insert(order, p.clone());
    Ok(p)
}

impl Store {
    async fn load_perimeter(&self, order: OrderId) -> Result<Arc<Perimeter>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        perimeter(&mut conn, &self.inner.caches, order).await
    }

    pub async fn get_order(&self, id: OrderId) -> Result<Order, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        order_row(
            &row,
            &*self.load_perimeter(id).await?,
            self.order_funding(id).await?,
        )
    }

    pub async fn order_funding(&self, id: OrderId) -> Result<Vec<FundingLine>, StoreError> {
        sqlx::query(
            "SELECT source, basis_points FROM order_funding WHERE order_id = $1 ORDER BY position",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(FundingLine {
                source: get_string(r, "source")?,
                basis_points: get_i64(r, "basis_points")?,
            })
        })
        .collect()
    }

    /// Orders, newest first; only the funder's own when `funder` is given.
    pub async fn list_orders(
        &self,
        funder: Option<FunderId>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Order>, StoreError> {
        let mut conn = self.may_lag().await?;
        let rows = match funder {
            Some(f) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE funder_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
            )))
            .bind(f.0),
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE $1 = 0 ORDER BY id DESC LIMIT $2 OFFSET $3"
            )))
            .bind(0i64),
        }
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(&mut *conn)
        .await?;
        // Each order's perimeter and funding come from the primary pool: give this connection
        // back first, so that a pool of one kind never waits on itself.
        drop(conn);
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = OrderId(get_i64(r, "id")?);
            out.push(order_row(
                r,
                &*self.load_perimeter(id).await?,
                self.order_funding(id).await?,
            )?);
        }
        Ok(out)
    }

    pub async fn order_counts(&self, id: OrderId) -> Result<OrderCounts, StoreError> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n, CAST(COALESCE(SUM(face_value_cents), 0) AS BIGINT) AS v FROM cheques WHERE order_id = $1 GROUP BY state",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?;
        let mut c = OrderCounts::default();
        for r in &rows {
            let n = get_i64(r, "n")?;
            match get_string(r, "state")?.as_str() {
                "issued" => {
                    c.issued = n;
                    c.remaining_value_cents = get_i64(r, "v")?;
                }
                "redeemed" => c.redeemed = n,
                "blocked" => c.blocked = n,
                "expired" => c.expired = n,
                other => return Err(StoreError::corrupt(format!("état {other}"))),
            }
        }
        // Paid is read, not written on the cheque (`CHEQUE_STATE`): the order's cheques paid by
        // confirmed runs, from their rollup (kept in the run's confirmation, checked by
        // `figures_check`), are among the redeemed ones.
        c.paid = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(cheques), 0) AS BIGINT) FROM usage_paid WHERE order_id = $1",
        )
        .bind(id.0)
        .fetch_one(self.pool())
        .await?;
        c.redeemed -= c.paid;
        Ok(c)
    }

    /// Cheques of an order in booklet order, `limit` at a time after cheque id `after`.
    pub async fn list_cheques(
        &self,
        order: OrderId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChequeListItem>, StoreError> {
        let mut conn = self.may_lag().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, b.number AS booklet_number, c.number, c.code, {CHEQUE_STATE} AS state FROM cheques c \
             JOIN booklets b ON b.id = c.booklet_id WHERE c.order_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3",
        )))
        .bind(order.0)
        .bind(after)
        .bind(page_limit(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let code = get_string(r, "code")?;
            let state = get_string(r, "state")?;
            Ok(ChequeListItem {
                id: get_i64(r, "id")?,
                booklet_number: get_i64(r, "booklet_number")?,
                number: get_i64(r, "number")?,
                code: ChequeCode::parse(&code).map_err(StoreError::corrupt)?.grouped(),
                state: ChequeState::parse(&state).ok_or_else(|| StoreError::corrupt(format!("état {state}")))?,
            })
        })
        .collect()
    }

    /// The cheques of one booklet, in number order: (number, code).
    pub async fn booklet_cheques(
        &self,
        order: OrderId,
        booklet: i64,
    ) -> Result<Vec<(i64, ChequeCode)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.number, c.code FROM cheques c JOIN booklets b ON b.id = c.booklet_id \
             WHERE b.order_id = $1 AND b.number = $2 ORDER BY c.number",
        )
        .bind(order.0)
        .bind(booklet)
        .fetch_all(self.pool())
        .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        rows.iter()
            .map(|r| {
                let code = get_string(r, "code")?;
                Ok((
                    get_i64(r, "number")?,
                    ChequeCode::parse(&code).map_err(StoreError::corrupt)?,
                ))
            })
            .collect()
    }

    /// A cheque's status without redeeming it. `funder` restricts to that funder's cheques;
    /// another funder's cheque is reported exactly like an unknown one.
    pub async fn cheque_status(
        &self,
        code: &ChequeCode,
        funder: Option<FunderId>,
    ) -> Result<ChequeStatus, StoreError> {
        // Only a redeemed cheque has a redemption in force (`passnum ledger check` proves it),
        // so the others, most of what venues look up before scanning, skip that index.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.code, {CHEQUE_STATE} AS state, c.face_value_cents, c.order_id, o.funder_id, o.valid_from, o.valid_until, o.tolerance_days, \
             CASE WHEN c.state = 'redeemed' THEN (SELECT r.redeemed_at FROM redemptions r WHERE r.cheque_id = c.id AND r.rolled_back_at IS NULL) END AS redeemed_at \
             FROM cheques c JOIN orders o ON o.id = c.order_id WHERE c.code = $1",
        )))
        .bind(code.as_compact())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let funder_id = FunderId(get_i64(&row, "funder_id")?);
        if funder.is_some_and(|f| f != funder_id) {
            return Err(StoreError::NotFound);
        }
        let state = get_string(&row, "state")?;
        let validity = Validity {
            valid_from: get_date(&row, "valid_from")?,
            valid_until: get_date(&row, "valid_until")?,
            tolerance_days: get_i64(&row, "tolerance_days")?,
        };
        Ok(ChequeStatus {
            code: code.grouped(),
            state: ChequeState::parse(&state)
                .ok_or_else(|| StoreError::corrupt(format!("état {state}")))?,
            face_value_cents: get_i64(&row, "face_value_cents")?,
            valid_from: validity.valid_from,
            valid_until: validity.valid_until,
            last_accepted_day: validity.last_accepted_day(),
            order_id: OrderId(get_i64(&row, "order_id")?),
            funder_id,
            redeemed_at: get_opt_i64(&row, "redeemed_at")?.map(Timestamp::from_unix_ms),
        })
    }
}

/// One booklet of an order and how far it is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BookletSummary {
    pub number: i64,
    pub cheques: i64,
    /// Redeemed or paid.
    pub used: i64,
    pub blocked: i64,
    pub expired: i64,
}

impl Store {
    /// The booklets of an order in number order, `limit` at a time after booklet `after`.
    pub async fn booklet_summaries(
        &self,
        order: OrderId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<BookletSummary>, StoreError> {
        sqlx::query(
            "SELECT b.number, COUNT(*) AS cheques, \
             CAST(SUM(CASE WHEN c.state IN ('redeemed', 'paid') THEN 1 ELSE 0 END) AS BIGINT) AS used, \
             CAST(SUM(CASE WHEN c.state = 'blocked' THEN 1 ELSE 0 END) AS BIGINT) AS blocked, \
             CAST(SUM(CASE WHEN c.state = 'expired' THEN 1 ELSE 0 END) AS BIGINT) AS expired \
             FROM booklets b JOIN cheques c ON c.booklet_id = b.id WHERE b.order_id = $1 AND b.number > $2 \
             GROUP BY b.number ORDER BY b.number LIMIT $3",
        )
        .bind(order.0)
        .bind(after)
        .bind(page_limit(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(BookletSummary {
                number: get_i64(r, "number")?,
                cheques: get_i64(r, "cheques")?,
                used: get_i64(r, "used")?,
                blocked: get_i64(r, "blocked")?,
                expired: get_i64(r, "expired")?,
            })
        })
        .collect()
    }
}
