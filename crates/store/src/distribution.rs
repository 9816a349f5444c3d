//! Distributors and the booklets allocated to them.
//!
//! A booklet belongs to its funder's stock (`distributor_id IS NULL`) or to exactly one
//! distributor: stock is a count of booklets, never a separate counter that could drift.
//! Allocations and transfers move whole booklets, lowest numbers first, in one transaction,
//! and each move is recorded in `allocation_moves`.

use passnum_core::{InseeCode, OrderId, OrderStatus, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::funders::clean_name;
use crate::rows::{get_i64, get_string, page_limit};
use crate::{Engine, Store, StoreError};

/// Kinds of distributing structures.
pub const DISTRIBUTOR_KINDS: &[&str] = &[
    "ccas",
    "mairie",
    "mediatheque",
    "france_services",
    "services_sociaux",
    "association",
    "autre",
];

pub use passnum_core::DistributorId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Distributor {
    pub id: DistributorId,
    pub name: String,
    pub kind: String,
    pub commune_insee: String,
    pub created_at: Timestamp,
}

/// One distributor's booklets of one order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DistributorStock {
    pub distributor_id: DistributorId,
    pub name: String,
    pub allocated: i64,
    pub handed_out: i64,
    /// Handed out and with at least one cheque used.
    pub started: i64,
    /// Allocated, not handed out and not blocked: what it can still hand out or transfer.
    pub in_stock: i64,
}

fn distributor(r: &AnyRow) -> Result<Distributor, StoreError> {
    Ok(Distributor {
        id: DistributorId(get_i64(r, "id")?),
        name: get_string(r, "name")?,
        kind: get_string(r, "kind")?,
        commune_insee: get_string(r, "commune_insee")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
    })
}

fn refuse(code: &'static str, message: String) -> StoreError {
    StoreError::Invalid { code, message }
}

impl Store {
    pub async fn create_distributor(
        &self,
        name: &str,
        kind: &str,
        commune: &InseeCode,
        now: Timestamp,
    ) -> Result<Distributor, StoreError> {
        let name = clean_name(name)?;
        if !DISTRIBUTOR_KINDS.contains(&kind) {
            return Err(refuse(
                "invalid_distributor_kind",
                format!(
                    "Type de structure inconnu ; valeurs possibles : {}.",
                    DISTRIBUTOR_KINDS.join(", ")
                ),
            ));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO distributors (name, kind, commune_insee, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, kind, commune_insee, created_at",
        )
        .bind(&name)
        .bind(kind)
        .bind(commune.as_str())
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        let d = distributor(&row)?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn list_distributors(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Distributor>, StoreError> {
        let mut conn = self.may_lag().await?;
        sqlx::query(
            "SELECT id, name, kind, commune_insee, created_at FROM distributors ORDER BY id LIMIT $1 OFFSET $2",
        )
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(distributor)
        .collect()
    }

    pub async fn get_distributor(&self, id: DistributorId) -> Result<Distributor, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, kind, commune_insee, created_at FROM distributors WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        distributor(&row)
    }

    /// Every distributor's commune (to weigh a key by population).
    pub async fn distributor_communes(&self) -> Result<Vec<(DistributorId, String)>, StoreError> {
        sqlx::query("SELECT id, commune_insee FROM distributors ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok((
                    DistributorId(get_i64(r, "id")?),
                    get_string(r, "commune_insee")?,
                ))
            })
            .collect()
    }

    /// Every distributor id (to check an allocation key against).
    pub async fn distributor_ids(&self) -> Result<Vec<DistributorId>, StoreError> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT id FROM distributors ORDER BY id")
                .fetch_all(self.pool())
                .await?
                .into_iter()
                .map(DistributorId)
                .collect(),
        )
    }

    /// Booklets of an order still in the funder's stock.
    pub async fn unallocated_booklets(&self, order: OrderId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM booklets WHERE order_id = $1 AND distributor_id IS NULL AND blocked_at IS NULL",
        )
        .bind(order.0)
        .fetch_one(self.pool())
        .await?)
    }

    /// Each distributor's booklets of an order, by name.
    pub async fn distribution_of(
        &self,
        order: OrderId,
    ) -> Result<Vec<DistributorStock>, StoreError> {
        // "Started": at least one cheque of the booklet has an active redemption.
        let started = "EXISTS (SELECT 1 FROM cheques c JOIN redemptions r ON r.cheque_id = c.id \
                       WHERE c.booklet_id = b.id AND r.rolled_back_at IS NULL)";
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT d.id, d.name, COUNT(*) AS allocated, \
             CAST(SUM(CASE WHEN b.handed_out_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS handed_out, \
             CAST(SUM(CASE WHEN b.handed_out_at IS NOT NULL AND {started} THEN 1 ELSE 0 END) AS BIGINT) AS started, \
             CAST(SUM(CASE WHEN b.handed_out_at IS NULL AND b.blocked_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS in_stock \
             FROM booklets b JOIN distributors d ON d.id = b.distributor_id \
             WHERE b.order_id = $1 GROUP BY d.id, d.name ORDER BY d.name, d.id"
        )))
        .bind(order.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(DistributorStock {
                distributor_id: DistributorId(get_i64(r, "id")?),
                name: get_string(r, "name")?,
                allocated: get_i64(r, "allocated")?,
                handed_out: get_i64(r, "handed_out")?,
                started: get_i64(r, "started")?,
                in_stock: get_i64(r, "in_stock")?,
            })
        })
        .collect()
    }

    /// Gives booklets from the funder's stock to distributors, all or nothing. Refused when
    /// the order is not issued, its distribution is stopped, a distributor is unknown, or the
    /// stock is short.
    pub async fn allocate_booklets(
        &self,
        order: OrderId,
        shares: &[(DistributorId, i64)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if shares.iter().any(|(_, n)| *n < 0) {
            return Err(refuse(
                "invalid_allocation",
                "Un nombre de carnets est négatif.".into(),
            ));
        }
        let wanted: i64 = shares.iter().map(|(_, n)| n).sum();
        let mut tx = self.begin_write().await?;
        self.check_distributable(&mut tx, order).await?;
        // The stock's booklets in number order; each distributor takes the next ones. Booklets
        // were inserted in number order, so a distributor's share is usually one run of
        // consecutive ids, written by primary key in one statement. (A statement per
        // distributor that searched the stock itself scanned the stock index each time:
        // 12.6 s on PostgreSQL for 100,000 booklets and 1,000 distributors.)
        let stock_ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM booklets WHERE order_id = $1 AND distributor_id IS NULL AND blocked_at IS NULL ORDER BY number",
        )
        .bind(order.0)
        .fetch_all(&mut *tx)
        .await?;
        let stock = stock_ids.len() as i64;
        if wanted > stock {
            return Err(refuse(
                "stock_short",
                format!(
                    "La répartition demande {wanted} carnets, il en reste {stock} à répartir : réduisez-la."
                ),
            ));
        }
        let shares: Vec<(DistributorId, i64)> =
            shares.iter().copied().filter(|(_, n)| *n > 0).collect();
        if shares.is_empty() {
            return Ok(());
        }
        // Ids are integers we hold: the checks inline them.
        let ids: Vec<String> = shares.iter().map(|(d, _)| d.0.to_string()).collect();
        let known: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM distributors WHERE id IN ({})",
            ids.join(", ")
        )))
        .fetch_all(&mut *tx)
        .await?;
        if let Some((missing, _)) = shares.iter().find(|(d, _)| !known.contains(&d.0)) {
            return Err(refuse(
                "distributor_unknown",
                format!(
                    "La structure n° {} n'existe pas : vérifiez son numéro.",
                    missing.0
                ),
            ));
        }
        // (first id, last id, distributor) of each run of consecutive ids.
        let mut ranges: Vec<(i64, i64, i64)> = Vec::with_capacity(shares.len());
        let mut next = 0usize;
        for (d, n) in &shares {
            let slice = &stock_ids[next..next + *n as usize];
            next += *n as usize;
            let mut start = 0;
            while start < slice.len() {
                let mut end = start;
                while end + 1 < slice.len() && slice[end + 1] == slice[end] + 1 {
                    end += 1;
                }
                ranges.push((slice[start], slice[end], d.0));
                start = end + 1;
            }
        }
        // The id ranges alone: these ids were read under the order's lock in this
        // transaction. (Adding "order_id = … AND distributor_id IS NULL" led both planners to
        // the stock index, which they then scanned whole each time. Sending PostgreSQL the
        // ranges 1,000 at a time in one `UPDATE … FROM (VALUES …)` was no faster, 1.84 s
        // against 1.91 s in the same session: the time goes to rewriting 100,000 rows and
        // their index entries, not to round trips. PostgreSQL's per-row check of the key to
        // `distributors` was a third of it: migration 30 leaves that to the check above.)
        let mut moved = 0i64;
        for (lo, hi, d) in &ranges {
            moved +=
                sqlx::query("UPDATE booklets SET distributor_id = $1 WHERE id BETWEEN $2 AND $3")
                    .bind(d)
                    .bind(lo)
                    .bind(hi)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected() as i64;
        }
        if moved != wanted {
            return Err(StoreError::corrupt(format!(
                "{moved} carnets répartis au lieu de {wanted}"
            )));
        }
        let moves: Vec<String> = shares
            .iter()
            .map(|(d, n)| format!("({}, NULL, {}, {n}, {})", order.0, d.0, now.unix_ms()))
            .collect();
        for chunk in moves.chunks(500) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO allocation_moves (order_id, from_distributor_id, to_distributor_id, booklets, created_at) VALUES {}",
                chunk.join(", ")
            )))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves unused booklets from one distributor to another.
    pub async fn transfer_booklets(
        &self,
        order: OrderId,
        from: DistributorId,
        to: DistributorId,
        count: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if count <= 0 || from == to {
            return Err(refuse(
                "invalid_transfer",
                "Indiquez un nombre de carnets positif et deux structures différentes.".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        self.check_distributable(&mut tx, order).await?;
        let available: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM booklets WHERE order_id = $1 AND distributor_id = $2 AND handed_out_at IS NULL AND blocked_at IS NULL",
        )
        .bind(order.0)
        .bind(from.0)
        .fetch_one(&mut *tx)
        .await?;
        if count > available {
            return Err(refuse(
                "stock_short",
                format!(
                    "La structure n° {} n'a que {available} carnets non remis : transférez-en au plus autant.",
                    from.0
                ),
            ));
        }
        self.move_booklets(&mut tx, order, Some(from), to, count, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Declares a booklet lost or stolen: its cheques not yet used are blocked at once (a
    /// venue scanning one is told so), and their value returns to the funder with the
    /// end-of-validity credit note. Returns how many cheques were blocked.
    pub async fn block_booklet(
        &self,
        order: OrderId,
        number: i64,
        stolen: bool,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT id, blocked_at FROM booklets WHERE order_id = $1 AND number = $2")
                .bind(order.0)
                .bind(number)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        if crate::rows::get_opt_i64(&row, "blocked_at")?.is_some() {
            return Err(StoreError::Conflict {
                code: "booklet_blocked",
                message: "Ce carnet est déjà déclaré perdu ou volé.".into(),
            });
        }
        let booklet = get_i64(&row, "id")?;
        sqlx::query("UPDATE booklets SET blocked_at = $1, blocked_reason = $2 WHERE id = $3")
            .bind(now.unix_ms())
            .bind(if stolen { "stolen" } else { "lost" })
            .bind(booklet)
            .execute(&mut *tx)
            .await?;
        let blocked = sqlx::query(
            "UPDATE cheques SET state = 'blocked' WHERE booklet_id = $1 AND state = 'issued'",
        )
        .bind(booklet)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        tx.commit().await?;
        Ok(blocked)
    }

    pub(crate) async fn check_distributable(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        order: OrderId,
    ) -> Result<(), StoreError> {
        let lock = match self.engine() {
            Engine::Postgres => " FOR UPDATE",
            Engine::Sqlite => "",
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT status, distribution_stopped_at FROM orders WHERE id = $1{lock}"
        )))
        .bind(order.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let status = get_string(&row, "status")?;
        if OrderStatus::parse(&status) != Some(OrderStatus::Issued) {
            return Err(StoreError::Conflict {
                code: "order_state",
                message: "Seuls les carnets d'une commande émise se répartissent.".into(),
            });
        }
        if crate::rows::get_opt_i64(&row, "distribution_stopped_at")?.is_some() {
            return Err(StoreError::Conflict {
                code: "distribution_stopped",
                message: "La distribution de cette commande est arrêtée (fin de validité proche)."
                    .into(),
            });
        }
        Ok(())
    }

    async fn move_booklets(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        order: OrderId,
        from: Option<DistributorId>,
        to: DistributorId,
        count: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM distributors WHERE id = $1")
            .bind(to.0)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_none() {
            return Err(refuse(
                "distributor_unknown",
                format!(
                    "La structure n° {} n'existe pas : vérifiez son numéro.",
                    to.0
                ),
            ));
        }
        // Lowest numbers first: booklets leave the stock in printing order.
        let from_clause = match from {
            None => "distributor_id IS NULL AND blocked_at IS NULL".to_string(),
            Some(d) => format!(
                "distributor_id = {} AND handed_out_at IS NULL AND blocked_at IS NULL",
                d.0
            ),
        };
        let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE booklets SET distributor_id = $1 WHERE id IN (SELECT id FROM booklets \
             WHERE order_id = $2 AND {from_clause} ORDER BY number LIMIT $3)"
        )))
        .bind(to.0)
        .bind(order.0)
        .bind(count)
        .execute(&mut **tx)
        .await?
        .rows_affected() as i64;
        if moved != count {
            return Err(StoreError::corrupt(format!(
                "{moved} carnets déplacés au lieu de {count}"
            )));
        }
        sqlx::query(
            "INSERT INTO allocation_moves (order_id, from_distributor_id, to_distributor_id, booklets, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(order.0)
        .bind(from.map(|d| d.0))
        .bind(to.0)
        .bind(count)
        .bind(now.unix_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
