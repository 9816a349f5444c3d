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
use crate::inventory::Holder;
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

    /// Gives booklets from the funder's stock to distributors, all or nothing. Refused when
    /// the order is not issued, its distribution is stopped, a distributor is unknown, or the
    /// stock is short. `by` says who decided, for the procès-verbal.
    pub async fn allocate_booklets(
        &self,
        order: OrderId,
        shares: &[(DistributorId, i64)],
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let shares: Vec<(Holder, i64)> = shares
            .iter()
            .map(|(d, n)| (Holder::Structure(*d), *n))
            .collect();
        self.allocate(order, Holder::Funder, &shares, by, now).await
    }

    /// Moves booklets from `from` (the funder's stock or a territory's) to territories or
    /// structures, all or nothing, lowest numbers first, and records one move per
    /// destination with the numbers it carried.
    pub(crate) async fn allocate(
        &self,
        order: OrderId,
        from: Holder,
        shares: &[(Holder, i64)],
        by: &str,
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
        // The stock's booklets in number order; each destination takes the next ones.
        // Booklets were inserted in number order, so a share is usually one run of
        // consecutive ids, written by primary key in one statement. (A statement per
        // distributor that searched the stock itself scanned the stock index each time:
        // 12.6 s on PostgreSQL for 100,000 booklets and 1,000 distributors.)
        let stock_sql = match from {
            Holder::Funder => {
                "SELECT id, number FROM booklets WHERE order_id = $1 AND distributor_id IS NULL \
                 AND territory_id IS NULL AND blocked_at IS NULL ORDER BY number"
            }
            // `booklets_territory_stock` serves this one.
            Holder::Territory(_) => {
                "SELECT id, number FROM booklets WHERE territory_id = $1 AND distributor_id IS NULL \
                 AND blocked_at IS NULL ORDER BY number"
            }
            Holder::Structure(_) => {
                return Err(StoreError::corrupt(
                    "répartition depuis une structure".to_string(),
                ));
            }
        };
        if let Holder::Territory(t) = from {
            self.territory_of_order(&mut tx, order, t).await?;
        }
        let stock: Vec<(i64, i64)> = sqlx::query(stock_sql)
            .bind(from.territory().unwrap_or(order.0))
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((get_i64(r, "id")?, get_i64(r, "number")?)))
            .collect::<Result<_, StoreError>>()?;
        let available = stock.len() as i64;
        if wanted > available {
            return Err(refuse(
                "stock_short",
                format!(
                    "La répartition demande {wanted} carnets, il en reste {available} à répartir : réduisez-la."
                ),
            ));
        }
        let shares: Vec<(Holder, i64)> = shares.iter().copied().filter(|(_, n)| *n > 0).collect();
        if shares.is_empty() {
            return Ok(());
        }
        self.check_destinations(&mut tx, order, from, &shares)
            .await?;
        // (first id, last id, destination) of each run of consecutive ids, and each
        // destination's booklet numbers.
        let mut ranges: Vec<(i64, i64, Holder)> = Vec::with_capacity(shares.len());
        let mut numbers: Vec<String> = Vec::with_capacity(shares.len());
        let mut next = 0usize;
        for (to, n) in &shares {
            let slice = &stock[next..next + *n as usize];
            next += *n as usize;
            let mut start = 0;
            while start < slice.len() {
                let mut end = start;
                while end + 1 < slice.len() && slice[end + 1].0 == slice[end].0 + 1 {
                    end += 1;
                }
                ranges.push((slice[start].0, slice[end].0, *to));
                start = end + 1;
            }
            numbers.push(number_ranges(slice.iter().map(|(_, n)| *n)));
        }
        // The id ranges alone: these ids were read under the order's lock in this
        // transaction. (Adding "order_id = … AND distributor_id IS NULL" led both planners to
        // the stock index, which they then scanned whole each time. Sending PostgreSQL the
        // ranges 1,000 at a time in one `UPDATE … FROM (VALUES …)` was no faster, 1.84 s
        // against 1.91 s in the same session: the time goes to rewriting 100,000 rows and
        // their index entries, not to round trips. PostgreSQL's per-row check of the key to
        // `distributors` was a third of it: migration 30 leaves that to the check above.)
        let mut moved = 0i64;
        for (lo, hi, to) in &ranges {
            let (column, id) = match to {
                Holder::Territory(t) => ("territory_id", t.0),
                Holder::Structure(d) => ("distributor_id", d.0),
                Holder::Funder => return Err(StoreError::corrupt("retour au stock".to_string())),
            };
            moved += sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE booklets SET {column} = $1 WHERE id BETWEEN $2 AND $3"
            )))
            .bind(id)
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
        let moves: Vec<NewMove<'_>> = shares
            .iter()
            .zip(&numbers)
            .map(|((to, n), numbers)| NewMove {
                from,
                to: *to,
                booklets: *n,
                numbers,
            })
            .collect();
        record_moves(&mut tx, order, &moves, by, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Both stages decided at once by the funder: each territory's share from the funder's
    /// stock, and at the same time what goes on from it to each of its structures (the rest
    /// stays with the territory). One transaction, each booklet written once with its territory
    /// and its structure; the moves recorded are those of the two stages, each with its
    /// numbers, as if made one after the other.
    pub async fn allocate_both_stages(
        &self,
        order: OrderId,
        plan: &[TerritoryPlan],
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for p in plan {
            let onward: i64 = p.structures.iter().map(|(_, n)| n).sum();
            if p.booklets < 0 || p.structures.iter().any(|(_, n)| *n < 0) {
                return Err(refuse(
                    "invalid_allocation",
                    "Un nombre de carnets est négatif.".into(),
                ));
            }
            if onward > p.booklets {
                return Err(refuse(
                    "invalid_allocation",
                    format!(
                        "Le territoire n° {} donnerait {onward} carnets à ses structures, il n'en reçoit que {}.",
                        p.territory, p.booklets
                    ),
                ));
            }
        }
        let wanted: i64 = plan.iter().map(|p| p.booklets).sum();
        let mut tx = self.begin_write().await?;
        self.check_distributable(&mut tx, order).await?;
        let stock: Vec<(i64, i64)> = sqlx::query(
            "SELECT id, number FROM booklets WHERE order_id = $1 AND distributor_id IS NULL \
             AND territory_id IS NULL AND blocked_at IS NULL ORDER BY number",
        )
        .bind(order.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((get_i64(r, "id")?, get_i64(r, "number")?)))
        .collect::<Result<_, StoreError>>()?;
        let available = stock.len() as i64;
        if wanted > available {
            return Err(refuse(
                "stock_short",
                format!(
                    "La répartition demande {wanted} carnets, il en reste {available} à répartir : réduisez-la."
                ),
            ));
        }
        self.check_plan(&mut tx, order, plan).await?;
        // (first id, last id, territory, structure) of each run of consecutive ids, and the
        // moves with their numbers.
        let mut ranges: Vec<(i64, i64, i64, Option<i64>)> = vec![];
        let mut moves: Vec<(Holder, Holder, i64, String)> = vec![];
        let mut next = 0usize;
        for p in plan.iter().filter(|p| p.booklets > 0) {
            let share = &stock[next..next + p.booklets as usize];
            next += p.booklets as usize;
            let to_territory = Holder::Territory(p.territory);
            moves.push((
                Holder::Funder,
                to_territory,
                p.booklets,
                number_ranges(share.iter().map(|(_, n)| *n)),
            ));
            let mut at = 0usize;
            let mut parts: Vec<Part<'_>> = vec![];
            for (d, n) in p.structures.iter().filter(|(_, n)| *n > 0) {
                let part = &share[at..at + *n as usize];
                at += *n as usize;
                moves.push((
                    to_territory,
                    Holder::Structure(*d),
                    *n,
                    number_ranges(part.iter().map(|(_, n)| *n)),
                ));
                parts.push((part, Some(d.0)));
            }
            parts.push((&share[at..], None));
            for (part, structure) in parts {
                let mut start = 0;
                while start < part.len() {
                    let mut end = start;
                    while end + 1 < part.len() && part[end + 1].0 == part[end].0 + 1 {
                        end += 1;
                    }
                    ranges.push((part[start].0, part[end].0, p.territory.0, structure));
                    start = end + 1;
                }
            }
        }
        let mut moved = 0i64;
        for (lo, hi, territory, structure) in &ranges {
            moved += sqlx::query(
                "UPDATE booklets SET territory_id = $1, distributor_id = $2 WHERE id BETWEEN $3 AND $4",
            )
            .bind(territory)
            .bind(*structure)
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
        let moves: Vec<NewMove<'_>> = moves
            .iter()
            .map(|(from, to, booklets, numbers)| NewMove {
                from: *from,
                to: *to,
                booklets: *booklets,
                numbers,
            })
            .collect();
        record_moves(&mut tx, order, &moves, by, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every territory of the plan is the order's, every structure exists and lies in its
    /// territory's communes: two reads, whatever the number of territories.
    async fn check_plan(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        order: OrderId,
        plan: &[TerritoryPlan],
    ) -> Result<(), StoreError> {
        let mut communes: std::collections::HashMap<i64, std::collections::BTreeSet<InseeCode>> =
            std::collections::HashMap::new();
        for r in sqlx::query(
            "SELECT t.id, c.commune_insee FROM order_territories t \
             JOIN territory_communes c ON c.territory_id = t.id WHERE t.order_id = $1",
        )
        .bind(order.0)
        .fetch_all(&mut **tx)
        .await?
        {
            if let Ok(code) = InseeCode::parse(&get_string(&r, "commune_insee")?) {
                communes.entry(get_i64(&r, "id")?).or_default().insert(code);
            }
        }
        if let Some(p) = plan.iter().find(|p| !communes.contains_key(&p.territory.0)) {
            return Err(refuse(
                "territory_unknown",
                format!(
                    "Le territoire n° {} n'est pas membre de cette commande : vérifiez son numéro.",
                    p.territory
                ),
            ));
        }
        let ids: Vec<i64> = plan
            .iter()
            .flat_map(|p| p.structures.iter().map(|(d, _)| d.0))
            .collect();
        let mut known: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            // Ids are integers we hold: inlined.
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            for r in sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, commune_insee FROM distributors WHERE id IN ({})",
                list.join(", ")
            )))
            .fetch_all(&mut **tx)
            .await?
            {
                known.insert(get_i64(&r, "id")?, get_string(&r, "commune_insee")?);
            }
        }
        for p in plan {
            for (d, _) in &p.structures {
                let Some(commune) = known.get(&d.0) else {
                    return Err(refuse(
                        "distributor_unknown",
                        format!("La structure n° {d} n'existe pas : vérifiez son numéro."),
                    ));
                };
                let inside = InseeCode::parse(commune).is_ok_and(|c| {
                    passnum_core::member_territory::covers(&communes[&p.territory.0], &c)
                });
                if !inside {
                    return Err(refuse(
                        "structure_outside_territory",
                        format!(
                            "La structure n° {d} n'est pas sur une commune du territoire n° {} : un territoire répartit ses carnets entre ses propres structures.",
                            p.territory
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Each destination exists and may receive from `from`: territories of this order, and
    /// from a territory only structures in its communes.
    async fn check_destinations(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        order: OrderId,
        from: Holder,
        shares: &[(Holder, i64)],
    ) -> Result<(), StoreError> {
        // Ids are integers we hold: the checks inline them.
        let ids = |pick: fn(Holder) -> Option<i64>| -> Vec<String> {
            shares
                .iter()
                .filter_map(|(h, _)| pick(*h))
                .map(|i| i.to_string())
                .collect()
        };
        let structures = ids(Holder::structure);
        if !structures.is_empty() {
            let known: Vec<(i64, String)> = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, commune_insee FROM distributors WHERE id IN ({})",
                structures.join(", ")
            )))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| Ok((get_i64(r, "id")?, get_string(r, "commune_insee")?)))
            .collect::<Result<_, StoreError>>()?;
            if let Some(missing) = shares
                .iter()
                .filter_map(|(h, _)| h.structure())
                .find(|d| !known.iter().any(|(k, _)| k == d))
            {
                return Err(refuse(
                    "distributor_unknown",
                    format!("La structure n° {missing} n'existe pas : vérifiez son numéro."),
                ));
            }
            if let Holder::Territory(t) = from {
                let communes = self.territory_communes_in(tx, t).await?;
                for (id, commune) in &known {
                    let inside = InseeCode::parse(commune)
                        .is_ok_and(|c| passnum_core::member_territory::covers(&communes, &c));
                    if !inside {
                        return Err(refuse(
                            "structure_outside_territory",
                            format!(
                                "La structure n° {id} n'est pas sur une commune du territoire : un territoire répartit ses carnets entre ses propres structures."
                            ),
                        ));
                    }
                }
            }
        }
        let territories = ids(Holder::territory);
        if !territories.is_empty() {
            let known: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM order_territories WHERE order_id = $1 AND id IN ({})",
                territories.join(", ")
            )))
            .bind(order.0)
            .fetch_all(&mut **tx)
            .await?;
            if let Some(missing) = shares
                .iter()
                .filter_map(|(h, _)| h.territory())
                .find(|t| !known.contains(t))
            {
                return Err(refuse(
                    "territory_unknown",
                    format!(
                        "Le territoire n° {missing} n'est pas membre de cette commande : vérifiez son numéro."
                    ),
                ));
            }
        }
        Ok(())
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
        // Lowest numbers first: booklets leave the stock in printing order.
        let moved: Vec<i64> = sqlx::query_scalar(
            "UPDATE booklets SET distributor_id = $1 WHERE id IN (SELECT id FROM booklets \
             WHERE order_id = $2 AND distributor_id = $3 AND handed_out_at IS NULL AND blocked_at IS NULL \
             ORDER BY number LIMIT $4) RETURNING number",
        )
        .bind(to.0)
        .bind(order.0)
        .bind(from.0)
        .bind(count)
        .fetch_all(&mut **tx)
        .await?;
        if moved.len() as i64 != count {
            return Err(StoreError::corrupt(format!(
                "{} carnets déplacés au lieu de {count}",
                moved.len()
            )));
        }
        let mut numbers = moved;
        numbers.sort_unstable();
        let numbers = number_ranges(numbers.into_iter());
        let one = NewMove {
            from: Holder::Structure(from),
            to: Holder::Structure(to),
            booklets: count,
            numbers: &numbers,
        };
        record_moves(tx, order, &[one], by, now).await
    }
}

/// Some booklets of a territory's share, as (id, number), and the structure they go on to
/// (`None`: they stay with the territory).
type Part<'a> = (&'a [(i64, i64)], Option<i64>);

/// One territory's part of an allocation of both stages at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerritoryPlan {
    pub territory: passnum_core::TerritoryId,
    /// Its share of the funder's stock…
    pub booklets: i64,
    /// …of which these go on at once to its structures (the rest stays with it).
    pub structures: Vec<(DistributorId, i64)>,
}

/// A move about to be recorded.
struct NewMove<'a> {
    from: Holder,
    to: Holder,
    booklets: i64,
    numbers: &'a str,
}

/// Records moves, a few hundred rows per statement (nine values each, under SQLite's limit of
/// bound values).
async fn record_moves(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
    moves: &[NewMove<'_>],
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let by = passnum_core::text::kept(by.trim(), 200);
    for chunk in moves.chunks(300) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8,
                    p + 9
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO allocation_moves (order_id, from_distributor_id, from_territory_id, to_distributor_id, \
             to_territory_id, booklets, created_at, decided_by, numbers) VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            q = q
                .bind(order.0)
                .bind(m.from.structure())
                .bind(m.from.territory())
                .bind(m.to.structure())
                .bind(m.to.territory())
                .bind(m.booklets)
                .bind(now.unix_ms())
                .bind(by.clone())
                .bind(m.numbers.to_string());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Ascending booklet numbers as ranges: "1-20, 25, 31-40".
pub(crate) fn number_ranges(numbers: impl Iterator<Item = i64>) -> String {
    let mut out: Vec<String> = vec![];
    let mut run: Option<(i64, i64)> = None;
    let close = |out: &mut Vec<String>, (lo, hi): (i64, i64)| {
        out.push(if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        })
    };
    for n in numbers {
        run = match run {
            Some((lo, hi)) if n == hi + 1 => Some((lo, n)),
            Some(r) => {
                close(&mut out, r);
                Some((n, n))
            }
            None => Some((n, n)),
        };
    }
    if let Some(r) = run {
        close(&mut out, r);
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::number_ranges;

    #[test]
    fn numbers_read_as_ranges() {
        assert_eq!(number_ranges([1, 2, 3, 5, 7, 8].into_iter()), "1-3, 5, 7-8");
        assert_eq!(number_ranges([4].into_iter()), "4");
        assert_eq!(number_ranges(std::iter::empty()), "");
    }
}
