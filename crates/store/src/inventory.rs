//! Who held how many booklets of an order at a given moment: the funder's stock and each
//! structure's, as the public accounting of a mandate asks (issue 16). Rebuilt from the
//! recorded moves (`allocation_moves`), handouts and blockings, never from a counter.

use std::collections::BTreeMap;

use passnum_core::{DistributorId, OrderId, TerritoryId, Timestamp};
use serde::Serialize;

use crate::rows::{get_i64, get_opt_i64, get_opt_string, get_string};
use crate::{Store, StoreError};

/// Who holds booklets of an order: the funder's stock, a member territory (between the two
/// stages of an allocation) or a structure. Ordered as the inventory lists them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Holder {
    #[default]
    Funder,
    Territory(TerritoryId),
    Structure(DistributorId),
}

impl Holder {
    /// The holder named by a row's (structure, territory) pair: a structure if any, then a
    /// territory, else the funder's stock.
    pub(crate) fn of(structure: Option<i64>, territory: Option<i64>) -> Self {
        match (structure, territory) {
            (Some(d), _) => Self::Structure(DistributorId(d)),
            (None, Some(t)) => Self::Territory(TerritoryId(t)),
            (None, None) => Self::Funder,
        }
    }

    pub(crate) fn structure(self) -> Option<i64> {
        match self {
            Self::Structure(d) => Some(d.0),
            _ => None,
        }
    }

    pub(crate) fn territory(self) -> Option<i64> {
        match self {
            Self::Territory(t) => Some(t.0),
            _ => None,
        }
    }
}

/// One holder's booklets of an order at a moment: what it received and gave on, handed to
/// people, declared lost or stolen while it held them, and held at that moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HolderInventory {
    pub holder: Holder,
    pub name: String,
    pub received: i64,
    pub sent: i64,
    pub handed_out: i64,
    pub blocked: i64,
    pub in_stock: i64,
}

/// One recorded move of booklets: from the funder's stock, a territory or a structure, to a
/// territory or a structure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllocationMove {
    pub id: i64,
    pub from: Holder,
    pub to: Holder,
    pub booklets: i64,
    pub created_at: Timestamp,
    /// Who decided it, as shown then; `None` for moves recorded before migration 33.
    pub decided_by: Option<String>,
    /// The booklet numbers, as ranges ("101-150, 201"); `None` before migration 33.
    pub numbers: Option<String>,
}

const MOVE_COLUMNS: &str = "id, from_distributor_id, from_territory_id, to_distributor_id, to_territory_id, \
                            booklets, created_at, decided_by, numbers";

fn move_row(r: &sqlx::any::AnyRow) -> Result<AllocationMove, StoreError> {
    Ok(AllocationMove {
        id: get_i64(r, "id")?,
        from: Holder::of(
            get_opt_i64(r, "from_distributor_id")?,
            get_opt_i64(r, "from_territory_id")?,
        ),
        to: Holder::of(
            get_opt_i64(r, "to_distributor_id")?,
            get_opt_i64(r, "to_territory_id")?,
        ),
        booklets: get_i64(r, "booklets")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        decided_by: get_opt_string(r, "decided_by")?,
        numbers: get_opt_string(r, "numbers")?,
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
        let mut lines: BTreeMap<Holder, HolderInventory> = BTreeMap::new();
        if o.issued_at.is_none_or(|t| t > at) {
            return Ok(vec![]);
        }
        lines.insert(
            Holder::Funder,
            HolderInventory {
                received: o.booklet_count,
                ..Default::default()
            },
        );
        let mut conn = self.pool().acquire().await?;
        for r in sqlx::query(
            "SELECT from_distributor_id, from_territory_id, to_distributor_id, to_territory_id, \
             CAST(SUM(booklets) AS BIGINT) AS n FROM allocation_moves \
             WHERE order_id = $1 AND created_at <= $2 AND id <= $3 \
             GROUP BY from_distributor_id, from_territory_id, to_distributor_id, to_territory_id",
        )
        .bind(order.0)
        .bind(at.unix_ms())
        .bind(last_move)
        .fetch_all(&mut *conn)
        .await?
        {
            let n = get_i64(&r, "n")?;
            let from = Holder::of(
                get_opt_i64(&r, "from_distributor_id")?,
                get_opt_i64(&r, "from_territory_id")?,
            );
            let to = Holder::of(
                get_opt_i64(&r, "to_distributor_id")?,
                get_opt_i64(&r, "to_territory_id")?,
            );
            lines.entry(from).or_default().sent += n;
            lines.entry(to).or_default().received += n;
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
            let by = Holder::Structure(DistributorId(get_i64(&r, "distributor_id")?));
            lines.entry(by).or_default().handed_out += get_i64(&r, "n")?;
        }
        // A booklet blocked after it was handed out had already left its holder. Blocked
        // booklets never move again, so their holder now is their holder then.
        for r in sqlx::query(
            "SELECT distributor_id, territory_id, COUNT(*) AS n FROM booklets WHERE order_id = $1 AND blocked_at <= $2 \
             AND (handed_out_at IS NULL OR handed_out_at > blocked_at) GROUP BY distributor_id, territory_id",
        )
        .bind(order.0)
        .bind(at.unix_ms())
        .fetch_all(&mut *conn)
        .await?
        {
            let holder = Holder::of(
                get_opt_i64(&r, "distributor_id")?,
                get_opt_i64(&r, "territory_id")?,
            );
            lines.entry(holder).or_default().blocked += get_i64(&r, "n")?;
        }
        let structures: BTreeMap<i64, String> = sqlx::query("SELECT id, name FROM distributors")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((get_i64(r, "id")?, get_string(r, "name")?)))
            .collect::<Result<_, StoreError>>()?;
        let territories: BTreeMap<i64, String> =
            sqlx::query("SELECT id, name FROM order_territories WHERE order_id = $1")
                .bind(order.0)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| Ok((get_i64(r, "id")?, get_string(r, "name")?)))
                .collect::<Result<_, StoreError>>()?;
        let mut out = Vec::with_capacity(lines.len());
        for (holder, mut line) in lines {
            line.holder = holder;
            line.name = match holder {
                Holder::Funder => "Stock du commanditaire".into(),
                Holder::Territory(t) => territories
                    .get(&t.0)
                    .map(|n| format!("Territoire {n}"))
                    .unwrap_or_else(|| format!("territoire {t}")),
                Holder::Structure(d) => structures
                    .get(&d.0)
                    .cloned()
                    .unwrap_or_else(|| format!("structure {d}")),
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
        // The funder first, then territories, then structures, each by name.
        let rank = |h: Holder| match h {
            Holder::Funder => 0,
            Holder::Territory(_) => 1,
            Holder::Structure(_) => 2,
        };
        out.sort_by(|a, b| {
            (rank(a.holder), &a.name, a.holder).cmp(&(rank(b.holder), &b.name, b.holder))
        });
        Ok(out)
    }
}
