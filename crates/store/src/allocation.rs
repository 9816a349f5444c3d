//! Moving booklets between holders: the funder's stock, member territories and structures.
//! One all-or-nothing allocation for every stage (funder → structures, funder → territories,
//! a territory → its own structures), both stages at once when the funder decides both, and
//! the record of each move with who decided it and the booklet numbers it carried.

use passnum_core::{InseeCode, OrderId, Timestamp};

use crate::distribution::{DistributorId, refuse};
use crate::holder_runs::{self, Run};
use crate::inventory::Holder;
use crate::rows::{get_i64, get_string};
use crate::{Store, StoreError};

impl Store {
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
    /// destination with the numbers it carried. Run again on a serialization failure (the
    /// order's handouts and transfers take the same lock), see crate::retry.
    pub(crate) async fn allocate(
        &self,
        order: OrderId,
        from: Holder,
        shares: &[(Holder, i64)],
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::retry::retrying(&self.inner.telemetry, "allocation", || {
            self.allocate_once(order, from, shares, by, now)
        })
        .await
    }

    async fn allocate_once(
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
        if shares.iter().any(|(to, _)| *to == Holder::Funder) {
            return Err(StoreError::corrupt("retour au stock".to_string()));
        }
        let wanted: i64 = shares.iter().map(|(_, n)| n).sum();
        let mut tx = self.begin_write().await?;
        self.check_distributable(&mut tx, order).await?;
        if let Holder::Territory(t) = from {
            self.territory_of_order(&mut tx, order, t).await?;
        }
        let stock = read_stock(&mut tx, order, from, wanted).await?;
        let shares: Vec<(Holder, i64)> = shares.iter().copied().filter(|(_, n)| *n > 0).collect();
        if shares.is_empty() {
            return Ok(());
        }
        self.check_destinations(&mut tx, order, from, &shares)
            .await?;
        // Each run of consecutive ids with its new holder, and each destination's booklet
        // numbers. A booklet given by a territory keeps it; one given to a territory has no
        // structure yet.
        let mut ranges: Vec<Run> = Vec::with_capacity(shares.len());
        let mut numbers: Vec<String> = Vec::with_capacity(shares.len());
        let mut next = 0usize;
        for (to, n) in &shares {
            let slice = &stock[next..next + *n as usize];
            next += *n as usize;
            let territory = to.territory().or(from.territory());
            ranges.extend(id_runs(slice).map(|(first, last)| Run {
                first,
                last,
                territory,
                structure: to.structure(),
            }));
            numbers.push(number_ranges(slice.iter().map(|(_, n)| *n)));
        }
        holder_runs::write_holders(self.engine(), &mut tx, order, &ranges, wanted).await?;
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
        crate::retry::retrying(&self.inner.telemetry, "allocation", || {
            self.allocate_both_stages_once(order, plan, by, now)
        })
        .await
    }

    async fn allocate_both_stages_once(
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
        let stock = read_stock(&mut tx, order, Holder::Funder, wanted).await?;
        self.check_plan(&mut tx, order, plan).await?;
        // (first id, last id, territory, structure) of each run of consecutive ids, and the
        // moves with their numbers.
        let mut ranges: Vec<Run> = vec![];
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
                ranges.extend(id_runs(part).map(|(first, last)| Run {
                    first,
                    last,
                    territory: Some(p.territory.0),
                    structure,
                }));
            }
        }
        holder_runs::write_holders(self.engine(), &mut tx, order, &ranges, wanted).await?;
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
pub(crate) struct NewMove<'a> {
    pub(crate) from: Holder,
    pub(crate) to: Holder,
    pub(crate) booklets: i64,
    pub(crate) numbers: &'a str,
}

/// The booklets `from` holds (the funder's own stock, or a territory's not yet passed on),
/// as (id, number) in number order; refused when fewer than `wanted`. Each destination then
/// takes the next ones: booklets were inserted in number order, so a share is usually one
/// run of consecutive ids, written by primary key in one statement. (A statement per
/// distributor that searched the stock itself scanned the stock index each time: 12.6 s on
/// PostgreSQL for 100,000 booklets and 1,000 distributors.)
async fn read_stock(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: OrderId,
    from: Holder,
    wanted: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let (sql, key) = match from {
        Holder::Funder => (
            "SELECT id, number FROM booklets WHERE order_id = $1 AND distributor_id IS NULL \
             AND territory_id IS NULL AND blocked_at IS NULL ORDER BY number",
            order.0,
        ),
        // The territory's runs (migration 35) lead to its booklets by primary key.
        Holder::Territory(t) => (
            "SELECT b.id, b.number FROM holder_runs r JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id \
             WHERE r.territory_id = $1 AND r.distributor_id IS NULL AND b.blocked_at IS NULL ORDER BY b.number",
            t.0,
        ),
        Holder::Structure(_) => {
            return Err(StoreError::corrupt(
                "répartition depuis une structure".to_string(),
            ));
        }
    };
    let stock: Vec<(i64, i64)> = sqlx::query(sql)
        .bind(key)
        .fetch_all(&mut **tx)
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
    Ok(stock)
}

/// The runs of consecutive ids in booklets read in number order, as (first id, last id): a
/// share written by primary-key ranges, usually one statement per destination.
fn id_runs(booklets: &[(i64, i64)]) -> impl Iterator<Item = (i64, i64)> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= booklets.len() {
            return None;
        }
        let mut end = start;
        while end + 1 < booklets.len() && booklets[end + 1].0 == booklets[end].0 + 1 {
            end += 1;
        }
        let run = (booklets[start].0, booklets[end].0);
        start = end + 1;
        Some(run)
    })
}

/// Records moves, a few hundred rows per statement (nine values each, under SQLite's limit of
/// bound values).
pub(crate) async fn record_moves(
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
    use super::{id_runs, number_ranges};

    #[test]
    fn ids_read_as_consecutive_runs() {
        let booklets = [(10, 1), (11, 2), (12, 3), (20, 4), (22, 5), (23, 6)];
        assert_eq!(
            id_runs(&booklets).collect::<Vec<_>>(),
            [(10, 12), (20, 20), (22, 23)]
        );
        assert_eq!(id_runs(&[]).count(), 0);
    }

    #[test]
    fn numbers_read_as_ranges() {
        assert_eq!(number_ranges([1, 2, 3, 5, 7, 8].into_iter()), "1-3, 5, 7-8");
        assert_eq!(number_ranges([4].into_iter()), "4");
        assert_eq!(number_ranges(std::iter::empty()), "");
    }
}
