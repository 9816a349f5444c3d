//! Who held how many booklets of an order at a given moment: the funder's stock and each
//! structure's, as the public accounting of a mandate asks (issue 16). Rebuilt from the
//! recorded moves (`allocation_moves`), handouts and blockings, never from a counter.

use std::collections::BTreeMap;

use passnum_core::{DistributorId, OrderId, Timestamp};
use serde::Serialize;

use crate::rows::{get_i64, get_opt_i64, get_string};
use crate::{Store, StoreError};

/// One holder's booklets of an order at a moment: what it received and gave on, handed to
/// people, declared lost or stolen while it held them, and held at that moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HolderInventory {
    /// `None`: the funder's stock.
    pub holder: Option<DistributorId>,
    pub name: String,
    pub received: i64,
    pub sent: i64,
    pub handed_out: i64,
    pub blocked: i64,
    pub in_stock: i64,
}

/// One recorded move of booklets: from the funder's stock (`from` = `None`) or a structure,
/// to a structure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllocationMove {
    pub id: i64,
    pub from: Option<DistributorId>,
    pub to: DistributorId,
    pub booklets: i64,
    pub created_at: Timestamp,
}

const MOVE_COLUMNS: &str = "id, from_distributor_id, to_distributor_id, booklets, created_at";

fn move_row(r: &sqlx::any::AnyRow) -> Result<AllocationMove, StoreError> {
    Ok(AllocationMove {
        id: get_i64(r, "id")?,
        from: get_opt_i64(r, "from_distributor_id")?.map(DistributorId),
        to: DistributorId(get_i64(r, "to_distributor_id")?),
        booklets: get_i64(r, "booklets")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
    })
}

impl Store {
    /// The moves of an order's booklets, oldest first.
    pub async fn allocation_moves(
        &self,
        order: OrderId,
    ) -> Result<Vec<AllocationMove>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MOVE_COLUMNS} FROM allocation_moves WHERE order_id = $1 ORDER BY id"
        )))
        .bind(order.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(move_row)
        .collect()
    }

    /// The `limit` latest moves of an order, newest first, and how many it has in all: a page
    /// shows the latest without reading every move of a large programme.
    pub async fn latest_allocation_moves(
        &self,
        order: OrderId,
        limit: i64,
    ) -> Result<(Vec<AllocationMove>, i64), StoreError> {
        let moves = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MOVE_COLUMNS} FROM allocation_moves WHERE order_id = $1 ORDER BY id DESC LIMIT $2"
        )))
        .bind(order.0)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(move_row)
        .collect::<Result<Vec<_>, _>>()?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM allocation_moves WHERE order_id = $1")
                .bind(order.0)
                .fetch_one(self.pool())
                .await?;
        Ok((moves, total))
    }

    /// One move of an order, by its number.
    pub async fn allocation_move(
        &self,
        order: OrderId,
        id: i64,
    ) -> Result<AllocationMove, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MOVE_COLUMNS} FROM allocation_moves WHERE order_id = $1 AND id = $2"
        )))
        .bind(order.0)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        move_row(&row)
    }

    /// Every holder of the order's booklets up to `at` (the funder first, then structures by
    /// name), each with its counts at that moment. Before the order is issued, nothing.
    pub async fn inventory_at(
        &self,
        order: OrderId,
        at: Timestamp,
    ) -> Result<Vec<HolderInventory>, StoreError> {
        self.inventory(order, at, i64::MAX).await
    }

    /// The inventory just after move `m`: an allocation to many structures records its moves
    /// at one instant, and each procès-verbal counts only the moves up to its own.
    pub async fn inventory_after_move(
        &self,
        order: OrderId,
        m: &AllocationMove,
    ) -> Result<Vec<HolderInventory>, StoreError> {
        self.inventory(order, m.created_at, m.id).await
    }

    async fn inventory(
        &self,
        order: OrderId,
        at: Timestamp,
        last_move: i64,
    ) -> Result<Vec<HolderInventory>, StoreError> {
        let o = self.get_order(order).await?;
        let mut lines: BTreeMap<Option<i64>, HolderInventory> = BTreeMap::new();
        if o.issued_at.is_none_or(|t| t > at) {
            return Ok(vec![]);
        }
        lines.insert(
            None,
            HolderInventory {
                received: o.booklet_count,
                ..Default::default()
            },
        );
        let mut conn = self.pool().acquire().await?;
        for r in sqlx::query(
            "SELECT from_distributor_id, to_distributor_id, CAST(SUM(booklets) AS BIGINT) AS n FROM allocation_moves \
             WHERE order_id = $1 AND created_at <= $2 AND id <= $3 GROUP BY from_distributor_id, to_distributor_id",
        )
        .bind(order.0)
        .bind(at.unix_ms())
        .bind(last_move)
        .fetch_all(&mut *conn)
        .await?
        {
            let n = get_i64(&r, "n")?;
            lines.entry(get_opt_i64(&r, "from_distributor_id")?).or_default().sent += n;
            lines.entry(Some(get_i64(&r, "to_distributor_id")?)).or_default().received += n;
        }
        for r in sqlx::query(
            "SELECT distributor_id, COUNT(*) AS n FROM handouts WHERE order_id = $1 AND handed_out_at <= $2 \
             GROUP BY distributor_id",
        )
        .bind(order.0)
        .bind(at.unix_ms())
        .fetch_all(&mut *conn)
        .await?
        {
            lines.entry(Some(get_i64(&r, "distributor_id")?)).or_default().handed_out +=
                get_i64(&r, "n")?;
        }
        // A booklet blocked after it was handed out had already left its holder. Blocked
        // booklets never move again, so their holder now is their holder then.
        for r in sqlx::query(
            "SELECT distributor_id, COUNT(*) AS n FROM booklets WHERE order_id = $1 AND blocked_at <= $2 \
             AND (handed_out_at IS NULL OR handed_out_at > blocked_at) GROUP BY distributor_id",
        )
        .bind(order.0)
        .bind(at.unix_ms())
        .fetch_all(&mut *conn)
        .await?
        {
            lines.entry(get_opt_i64(&r, "distributor_id")?).or_default().blocked += get_i64(&r, "n")?;
        }
        let names: BTreeMap<i64, String> = sqlx::query("SELECT id, name FROM distributors")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((get_i64(r, "id")?, get_string(r, "name")?)))
            .collect::<Result<_, StoreError>>()?;
        let mut out = Vec::with_capacity(lines.len());
        for (holder, mut line) in lines {
            line.holder = holder.map(DistributorId);
            line.name = match holder {
                None => "Stock du commanditaire".into(),
                Some(id) => names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("structure {id}")),
            };
            line.in_stock = line.received - line.sent - line.handed_out - line.blocked;
            if line.in_stock < 0 {
                return Err(StoreError::corrupt(format!(
                    "inventaire de la commande {} : {} aurait {} carnets",
                    order.0, line.name, line.in_stock
                )));
            }
            out.push(line);
        }
        out[1..].sort_by(|a, b| a.name.cmp(&b.name).then(a.holder.cmp(&b.holder)));
        Ok(out)
    }
}
