//! Distributors and the booklets allocated to them.
//!
//! A booklet belongs to its funder's stock, to a member territory of its order
//! (`territory_id`, no `distributor_id`) or to exactly one distributor: stock is a count of
//! booklets, never a separate counter that could drift. Allocations (`allocation.rs`) and
//! transfers move whole booklets, lowest numbers first, in one transaction, and each move is
//! recorded in `allocation_moves`.

use passnum_core::{InseeCode, OrderId, OrderStatus, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::allocation::{NewMove, number_ranges, record_moves};
use crate::funders::clean_name;
use crate::inventory::Holder;
use crate::rows::{get_i64, get_string, page_limit};
use crate::{Store, StoreError};

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
    /// The venue the same organisation runs, if any (one organisation, several hats).
    pub venue_id: Option<passnum_core::VenueId>,
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

pub(crate) fn distributor(r: &AnyRow) -> Result<Distributor, StoreError> {
    Ok(Distributor {
        id: DistributorId(get_i64(r, "id")?),
        name: get_string(r, "name")?,
        kind: get_string(r, "kind")?,
        commune_insee: get_string(r, "commune_insee")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        venue_id: crate::rows::get_opt_i64(r, "venue_id")?.map(passnum_core::VenueId),
    })
}

/// The key on `distributors.venue_id` said the venue is already a structure.
fn venue_taken(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Conflict {
            code: "venue_has_structure",
            message: "Ce lieu est déjà une structure de distribution : une organisation a une structure au plus.".into(),
        }
    } else {
        e
    }
}

pub(crate) fn refuse(code: &'static str, message: String) -> StoreError {
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
        self.create_structure(name, kind, commune, None, now).await
    }

    /// Registers a structure, and when `venue` is given, as the same organisation as that
    /// venue (one organisation, several hats), in one write.
    pub async fn create_structure(
        &self,
        name: &str,
        kind: &str,
        commune: &InseeCode,
        venue: Option<passnum_core::VenueId>,
        now: Timestamp,
    ) -> Result<Distributor, StoreError> {
        let name = clean_name(name)?;
        if let Some(v) = venue {
            self.get_venue(v).await.map_err(|e| match e {
                StoreError::NotFound => refuse(
                    "venue_unknown",
                    format!("Le lieu n° {} n'existe pas : vérifiez son numéro.", v.0),
                ),
                e => e,
            })?;
        }
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
            "INSERT INTO distributors (name, kind, commune_insee, created_at, venue_id) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, kind, commune_insee, created_at, venue_id",
        )
        .bind(&name)
        .bind(kind)
        .bind(commune.as_str())
        .bind(now.unix_ms())
        .bind(venue.map(|v| v.0))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| venue_taken(StoreError::from(e)))?;
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
            "SELECT id, name, kind, commune_insee, created_at, venue_id FROM distributors ORDER BY id LIMIT $1 OFFSET $2",
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
            "SELECT id, name, kind, commune_insee, created_at, venue_id FROM distributors WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        distributor(&row)
    }

    /// Records that a structure and a venue are one organisation: every account of either
    /// then has both menus. Refused when either already wears another hat.
    pub async fn link_structure_to_venue(
        &self,
        distributor: DistributorId,
        venue: passnum_core::VenueId,
    ) -> Result<Distributor, StoreError> {
        self.get_venue(venue).await?;
        let mut tx = self.begin_write().await?;
        let current: Option<Option<i64>> =
            sqlx::query_scalar("SELECT venue_id FROM distributors WHERE id = $1")
                .bind(distributor.0)
                .fetch_optional(&mut *tx)
                .await?;
        match current {
            None => return Err(StoreError::NotFound),
            Some(Some(v)) if v == venue.0 => return self.get_distributor(distributor).await,
            Some(Some(v)) => {
                return Err(StoreError::Conflict {
                    code: "structure_has_venue",
                    message: format!(
                        "Cette structure est déjà le lieu n° {v} : une organisation a un lieu au plus."
                    ),
                });
            }
            Some(None) => {}
        }
        let linked =
            sqlx::query("UPDATE distributors SET venue_id = $1 WHERE id = $2 AND venue_id IS NULL")
                .bind(venue.0)
                .bind(distributor.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| venue_taken(StoreError::from(e)))?;
        // Conditional: a concurrent link of the same structure to another venue got there first.
        if linked.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                code: "structure_has_venue",
                message:
                    "Cette structure vient d'être rattachée à un autre lieu : rechargez la page."
                        .into(),
            });
        }
        tx.commit().await?;
        self.get_distributor(distributor).await
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
            "SELECT COUNT(*) FROM booklets WHERE order_id = $1 AND distributor_id IS NULL AND territory_id IS NULL \
             AND blocked_at IS NULL",
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

    /// Moves unused booklets from one distributor to another.
    pub async fn transfer_booklets(
        &self,
        order: OrderId,
        from: DistributorId,
        to: DistributorId,
        count: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        // Run again on a serialization failure, see crate::retry.
        crate::retry::retrying(&self.inner.telemetry, "transfer", || {
            self.transfer_once(order, from, to, count, by, now)
        })
        .await
    }

    async fn transfer_once(
        &self,
        order: OrderId,
        from: DistributorId,
        to: DistributorId,
        count: i64,
        by: &str,
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
            // As Store::distributor_stock_count.
            "SELECT COUNT(*) FROM holder_runs r JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id \
             WHERE r.order_id = $1 AND r.distributor_id = $2 AND b.handed_out_at IS NULL AND b.blocked_at IS NULL",
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
        self.move_booklets(&mut tx, order, from, to, count, by, now)
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
        let lock = self.engine().for_update();
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

    #[allow(clippy::too_many_arguments)]
    async fn move_booklets(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        order: OrderId,
        from: DistributorId,
        to: DistributorId,
        count: i64,
        by: &str,
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
        // Lowest numbers first: booklets leave the stock in printing order. The order's lock
        // (check_distributable) keeps handouts out until this transaction ends.
        let picked: Vec<(i64, i64, Option<i64>)> = sqlx::query(
            // Materialised for the reason given in Store::distributor_stock.
            "WITH stock AS MATERIALIZED (SELECT b.id, b.number, b.territory_id FROM holder_runs r \
             JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id WHERE r.order_id = $1 \
             AND r.distributor_id = $2 AND b.handed_out_at IS NULL AND b.blocked_at IS NULL) \
             SELECT id, number, territory_id FROM stock ORDER BY number LIMIT $3",
        )
        .bind(order.0)
        .bind(from.0)
        .bind(count)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                get_i64(r, "id")?,
                get_i64(r, "number")?,
                crate::rows::get_opt_i64(r, "territory_id")?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
        // Each booklet keeps the territory it came through: its rows and runs are written as
        // an allocation writes them, by primary-key ranges.
        let mut ids: Vec<(i64, Option<i64>, Option<i64>)> = picked
            .iter()
            .map(|&(id, _, t)| (id, t, Some(to.0)))
            .collect();
        ids.sort_unstable();
        let runs = crate::holder_runs::runs_of(&ids);
        crate::holder_runs::write_holders(self.engine(), tx, order, &runs, count).await?;
        // Read in number order.
        let numbers = number_ranges(picked.iter().map(|&(_, n, _)| n));
        let one = NewMove {
            from: Holder::Structure(from),
            to: Holder::Structure(to),
            booklets: count,
            numbers: &numbers,
        };
        record_moves(tx, order, &[one], by, now).await
    }
}
