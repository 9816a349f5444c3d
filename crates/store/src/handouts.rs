//! Handing booklets over (remise): the agent's stock, the handout itself, the funder's rules,
//! the venue directory orientation reads, and the funder's view of distribution.
//!
//! A handout is one row per booklet (unique), written with the booklet's `handed_out_at` in
//! one transaction. The booklet must be in the agent's own structure's stock, not handed out,
//! not blocked, and its order must still be distributable. The one-booklet-per-household rule
//! is a partial unique index on (order, household hash), so two agents serving the same
//! household at once cannot both succeed.

use std::collections::{BTreeMap, BTreeSet};

use passnum_core::handout::{
    BookletAtHandout, Equipment, Handout, HandoutRules, Level, Need, check_booklet_handout,
};
use passnum_core::orientation::DirectoryVenue;
use passnum_core::own_public::PublicRef;
use passnum_core::{InseeCode, OrderId, Timestamp, VenueId};
use serde::Serialize;
use sqlx::any::AnyRow;
use time::Date;

use crate::distribution::{DistributorId, DistributorStock};
use crate::rows::{date_to_sql, get_date, get_i64, get_opt_i64, get_string, page_limit};
use crate::{Store, StoreError};

/// A booklet an agent can hand out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StockBooklet {
    pub order_id: OrderId,
    pub number: i64,
    pub funder_name: String,
    pub cheques: i64,
    pub face_value_cents: i64,
    pub valid_until: Date,
    pub distribution_stopped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HandoutRecord {
    pub id: i64,
    pub order_id: OrderId,
    pub booklet_number: i64,
    pub distributor_id: DistributorId,
    pub commune_insee: String,
    pub publics: Vec<String>,
    pub needs: Vec<String>,
    pub equipment: String,
    pub level: String,
    pub language_need: bool,
    pub disability_need: bool,
    pub override_reason: Option<String>,
    pub handed_out_at: Timestamp,
    /// The diagnostic answers and household fingerprint were erased then (retention).
    pub answers_erased_at: Option<Timestamp>,
}

impl HandoutRecord {
    /// The diagnostic as recorded (orientation is computed again from it).
    pub fn diagnostic(&self) -> passnum_core::handout::Diagnostic {
        passnum_core::handout::Diagnostic {
            needs: self.needs.iter().filter_map(|n| Need::parse(n)).collect(),
            equipment: Equipment::parse(&self.equipment).unwrap_or(Equipment::Computer),
            level: Level::parse(&self.level).unwrap_or(Level::Basics),
            language_need: self.language_need,
            disability_need: self.disability_need,
        }
    }
}

/// What a person reads about a suggested venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VenueCard {
    pub id: VenueId,
    pub name: String,
    pub commune_insee: String,
    pub address: String,
    pub contact: String,
    pub opening_hours: String,
    pub accessibility: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DistributionStats {
    pub distributors: Vec<DistributorStock>,
    /// Handouts per priority public (a handout can count for several), by public code.
    pub per_public: BTreeMap<String, i64>,
    /// Handouts with no priority public ticked.
    pub without_public: i64,
    /// Handouts per commune of the person, most first.
    pub per_commune: Vec<(String, i64)>,
    pub handed_out: i64,
    /// Handed-out booklets whose first cheque was used within 30 days of the handout.
    pub started_within_30_days: i64,
    /// Handed-out booklets with a place booked in a workshop (now or before).
    pub with_booking: i64,
    /// Handed-out booklets with a cheque used in a workshop.
    pub attended_workshop: i64,
    /// Median whole days from handout to the first workshop, among those that had one.
    pub median_days_to_first_workshop: Option<i64>,
}

impl DistributionStats {
    /// Share of handed-out booklets started within 30 days, in per mille (exact integer).
    pub fn started_within_30_days_permille(&self) -> Option<i64> {
        (self.handed_out > 0).then(|| self.started_within_30_days * 1000 / self.handed_out)
    }
}

const HANDOUT_COLUMNS: &str = "h.id, h.order_id, b.number, h.distributor_id, h.commune_insee, \
     h.publics, h.needs, h.equipment, h.level, h.language_need, h.disability_need, \
     h.override_reason, h.handed_out_at, h.answers_erased_at";

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn handout_row(r: &AnyRow) -> Result<HandoutRecord, StoreError> {
    Ok(HandoutRecord {
        id: get_i64(r, "id")?,
        order_id: OrderId(get_i64(r, "order_id")?),
        booklet_number: get_i64(r, "number")?,
        distributor_id: DistributorId(get_i64(r, "distributor_id")?),
        commune_insee: get_string(r, "commune_insee")?,
        publics: split(&get_string(r, "publics")?),
        needs: split(&get_string(r, "needs")?),
        equipment: get_string(r, "equipment")?,
        level: get_string(r, "level")?,
        language_need: get_i64(r, "language_need")? == 1,
        disability_need: get_i64(r, "disability_need")? == 1,
        override_reason: crate::rows::get_opt_string(r, "override_reason")?,
        handed_out_at: Timestamp::from_unix_ms(get_i64(r, "handed_out_at")?),
        answers_erased_at: get_opt_i64(r, "answers_erased_at")?.map(Timestamp::from_unix_ms),
    })
}

fn conflict(code: &'static str, message: &str) -> StoreError {
    StoreError::Conflict {
        code,
        message: message.into(),
    }
}

impl Store {
    /// The funder's handout rules for an order (its target publics and the two switches).
    pub async fn order_rules(&self, order: OrderId) -> Result<HandoutRules, StoreError> {
        let o = self.get_order(order).await?;
        let row = sqlx::query("SELECT target_only, one_per_household FROM orders WHERE id = $1")
            .bind(order.0)
            .fetch_one(self.pool())
            .await?;
        let own_publics = self.order_publics(order).await?;
        let target_publics = o
            .target_publics
            .into_iter()
            .map(PublicRef::National)
            .chain(
                own_publics
                    .iter()
                    .filter(|p| p.target && !p.retired)
                    .map(|p| PublicRef::Own(p.id)),
            )
            .collect();
        Ok(HandoutRules {
            target_publics,
            own_publics,
            target_only: get_i64(&row, "target_only")? == 1,
            one_per_household: get_i64(&row, "one_per_household")? == 1,
        })
    }

    /// Sets an order's handout rules; they apply to the handouts that follow. "Target publics
    /// only" needs target publics on the order.
    pub async fn set_order_rules(
        &self,
        order: OrderId,
        target_only: bool,
        one_per_household: bool,
    ) -> Result<HandoutRules, StoreError> {
        if target_only && self.order_rules(order).await?.target_publics.is_empty() {
            return Err(StoreError::Invalid {
                code: "no_target_publics",
                message: "Cette commande n'a pas de public cible : la règle « publics cibles \
                          seulement » ne peut pas s'appliquer."
                    .into(),
            });
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE orders SET target_only = $1, one_per_household = $2 WHERE id = $3")
            .bind(i64::from(target_only))
            .bind(i64::from(one_per_household))
            .bind(order.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.order_rules(order).await
    }

    /// Booklets in a structure's stock (allocated, not handed out, not blocked), oldest order
    /// and lowest number first.
    pub async fn distributor_stock(
        &self,
        distributor: DistributorId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StockBooklet>, StoreError> {
        sqlx::query(
            // The structure's booklets first, through its runs (materialised: asked for a
            // page in (order, number) order, PostgreSQL would walk every booklet in that
            // order instead, 134 ms against 0.3 ms for 100,000 booklets).
            "WITH stock AS MATERIALIZED (SELECT b.order_id, b.number FROM holder_runs r \
             JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id \
             WHERE r.distributor_id = $1 AND b.handed_out_at IS NULL AND b.blocked_at IS NULL) \
             SELECT b.order_id, b.number, f.name AS funder_name, o.cheques_per_booklet, \
             o.face_value_cents, o.valid_until, o.distribution_stopped_at \
             FROM stock b JOIN orders o ON o.id = b.order_id JOIN funders f ON f.id = o.funder_id \
             ORDER BY b.order_id, b.number LIMIT $2 OFFSET $3",
        )
        .bind(distributor.0)
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(StockBooklet {
                order_id: OrderId(get_i64(r, "order_id")?),
                number: get_i64(r, "number")?,
                funder_name: get_string(r, "funder_name")?,
                cheques: get_i64(r, "cheques_per_booklet")?,
                face_value_cents: get_i64(r, "face_value_cents")?,
                valid_until: get_date(r, "valid_until")?,
                distribution_stopped: get_opt_i64(r, "distribution_stopped_at")?.is_some(),
            })
        })
        .collect()
    }

    pub async fn distributor_stock_count(
        &self,
        distributor: DistributorId,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            // A join: for one structure's few runs PostgreSQL walks the primary key (0.07 ms for
            // 300,000 booklets); counted run by run in a subquery, its cost estimate crossed
            // the JIT threshold and compiling took 20 ms.
            "SELECT COUNT(*) FROM holder_runs r JOIN booklets b ON b.id BETWEEN r.first_id AND r.last_id \
             WHERE r.distributor_id = $1 AND b.handed_out_at IS NULL AND b.blocked_at IS NULL",
        )
        .bind(distributor.0)
        .fetch_one(self.pool())
        .await?)
    }

    /// Records the handout of booklet `number` of `order` by an agent of `distributor`. All or
    /// nothing; every refusal says what to do.
    #[allow(clippy::too_many_arguments)]
    pub async fn hand_out(
        &self,
        distributor: DistributorId,
        staff_id: Option<i64>,
        order: OrderId,
        number: i64,
        commune: &InseeCode,
        handout: &Handout,
        now: Timestamp,
    ) -> Result<HandoutRecord, StoreError> {
        // Counters at a queue hand out from the same stock at once: run again on a
        // serialization failure, see crate::retry.
        crate::retry::retrying(&self.inner.telemetry, "handout", || {
            self.hand_out_once(distributor, staff_id, order, number, commune, handout, now)
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn hand_out_once(
        &self,
        distributor: DistributorId,
        staff_id: Option<i64>,
        order: OrderId,
        number: i64,
        commune: &InseeCode,
        handout: &Handout,
        now: Timestamp,
    ) -> Result<HandoutRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        self.check_distributable(&mut tx, order).await?;
        let lock = self.engine().for_update();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, distributor_id, handed_out_at, blocked_at FROM booklets \
             WHERE order_id = $1 AND number = $2{lock}"
        )))
        .bind(order.0)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
        let seen = match &row {
            Some(r) => Some(BookletAtHandout {
                in_stock_of: get_opt_i64(r, "distributor_id")?.map(DistributorId),
                blocked: get_opt_i64(r, "blocked_at")?.is_some(),
                handed_out: get_opt_i64(r, "handed_out_at")?.is_some(),
            }),
            None => None,
        };
        check_booklet_handout(seen.as_ref(), distributor).map_err(|r| StoreError::refused(&r))?;
        let row = row.ok_or_else(|| StoreError::corrupt("carnet accepté sans enregistrement"))?;
        let booklet = get_i64(&row, "id")?;
        let publics: Vec<String> = handout.publics.iter().map(|p| p.code()).collect();
        let needs: Vec<&str> = handout
            .diagnostic
            .needs
            .iter()
            .map(|n| n.as_str())
            .collect();
        let inserted = sqlx::query(
            "INSERT INTO handouts (booklet_id, order_id, distributor_id, staff_id, commune_insee, \
             publics, needs, equipment, level, language_need, disability_need, override_reason, \
             household_hash, handed_out_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(booklet)
        .bind(order.0)
        .bind(distributor.0)
        .bind(staff_id)
        .bind(commune.as_str())
        .bind(publics.join(","))
        .bind(needs.join(","))
        .bind(handout.diagnostic.equipment.as_str())
        .bind(handout.diagnostic.level.as_str())
        .bind(i64::from(handout.diagnostic.language_need))
        .bind(i64::from(handout.diagnostic.disability_need))
        .bind(handout.override_reason.as_deref())
        .bind(handout.household.as_deref())
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from);
        let id: i64 = match inserted {
            Ok(r) => get_i64(&r, "id")?,
            Err(e) if e.is_unique_violation() => {
                return Err(conflict(
                    "household_already_served",
                    "Cette personne ou son foyer a déjà reçu un carnet de cette commande : le \
                     commanditaire limite les carnets à un par foyer.",
                ));
            }
            Err(e) => return Err(e),
        };
        sqlx::query("UPDATE booklets SET handed_out_at = $1 WHERE id = $2")
            .bind(now.unix_ms())
            .bind(booklet)
            .execute(&mut *tx)
            .await?;
        crate::usage::add_handed_out(&mut tx, order.0, 1).await?;
        tx.commit().await?;
        self.telemetry().with(|t| t.handout());
        self.get_handout(distributor, id).await
    }

    /// A handout of the agent's own structure (another structure's is not found).
    pub async fn get_handout(
        &self,
        distributor: DistributorId,
        id: i64,
    ) -> Result<HandoutRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HANDOUT_COLUMNS} FROM handouts h JOIN booklets b ON b.id = h.booklet_id \
             WHERE h.id = $1 AND h.distributor_id = $2"
        )))
        .bind(id)
        .bind(distributor.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        handout_row(&row)
    }

    /// The person who received a booklet from this structure reports it lost or stolen: its
    /// unused cheques are blocked at once (see `block_booklet`). Another structure's handout
    /// is not found. Returns how many cheques were blocked.
    pub async fn block_handed_out_booklet(
        &self,
        distributor: DistributorId,
        handout: i64,
        stolen: bool,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        // A handed-out booklet never moves again, so the handout names it for good.
        let h = self.get_handout(distributor, handout).await?;
        self.block_booklet(h.order_id, h.booklet_number, stolen, now)
            .await
    }

    /// This structure's handout of a booklet, if it handed it out.
    pub async fn handout_of_booklet(
        &self,
        distributor: DistributorId,
        order: OrderId,
        number: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT h.id FROM handouts h JOIN booklets b ON b.id = h.booklet_id \
             WHERE h.distributor_id = $1 AND b.order_id = $2 AND b.number = $3",
        )
        .bind(distributor.0)
        .bind(order.0)
        .bind(number)
        .fetch_optional(self.pool())
        .await?)
    }

    /// A structure's handouts, newest first.
    pub async fn handouts_of(
        &self,
        distributor: DistributorId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<HandoutRecord>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HANDOUT_COLUMNS} FROM handouts h JOIN booklets b ON b.id = h.booklet_id \
             WHERE h.distributor_id = $1 ORDER BY h.id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(distributor.0)
        .bind(page_limit(limit))
        .bind(offset.max(0))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(handout_row)
        .collect()
    }

    /// Every venue qualified on `today`, with the référentiel categories of its services (a
    /// venue that lists no service offers them all), for orientation.
    pub async fn venue_directory(&self, today: Date) -> Result<Vec<DirectoryVenue>, StoreError> {
        let all: BTreeSet<String> =
            sqlx::query_scalar::<_, String>("SELECT DISTINCT category_code FROM services")
                .fetch_all(self.pool())
                .await?
                .into_iter()
                .collect();
        let mut categories: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT DISTINCT vs.venue_id, s.category_code FROM venue_services vs \
             JOIN services s ON s.code = vs.service_code",
        )
        .fetch_all(self.pool())
        .await?
        {
            categories
                .entry(get_i64(&r, "venue_id")?)
                .or_default()
                .insert(get_string(&r, "category_code")?);
        }
        sqlx::query(
            "SELECT id, name, commune_insee FROM venues WHERE status = 'qualified' \
             AND (qualified_until IS NULL OR qualified_until >= $1) ORDER BY id",
        )
        .bind(date_to_sql(today))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let id = get_i64(r, "id")?;
            Ok(DirectoryVenue {
                id,
                name: get_string(r, "name")?,
                commune: InseeCode::parse(&get_string(r, "commune_insee")?)
                    .map_err(StoreError::corrupt)?,
                categories: categories.remove(&id).unwrap_or_else(|| all.clone()),
            })
        })
        .collect()
    }

    /// The practical details of the given venues, in the order given.
    pub async fn venue_cards(&self, ids: &[i64]) -> Result<Vec<VenueCard>, StoreError> {
        let mut cards = Vec::with_capacity(ids.len());
        for &id in ids {
            let v = self.get_venue(VenueId(id)).await?;
            cards.push(VenueCard {
                id: v.id,
                name: v.name,
                commune_insee: v.commune_insee,
                address: v.address,
                contact: v.contact,
                opening_hours: v.opening_hours,
                accessibility: v.accessibility,
            });
        }
        Ok(cards)
    }

    /// The funder's view of an order's distribution.
    pub async fn distribution_stats(
        &self,
        order: OrderId,
    ) -> Result<DistributionStats, StoreError> {
        let distributors = self.distribution_of(order).await?;
        let mut stats = DistributionStats {
            distributors,
            ..Default::default()
        };
        for r in sqlx::query(
            "SELECT publics, COUNT(*) AS n FROM handouts WHERE order_id = $1 GROUP BY publics",
        )
        .bind(order.0)
        .fetch_all(self.pool())
        .await?
        {
            let (publics, n) = (get_string(&r, "publics")?, get_i64(&r, "n")?);
            stats.handed_out += n;
            let list = split(&publics);
            if list.is_empty() {
                stats.without_public += n;
            }
            for p in list {
                *stats.per_public.entry(p).or_default() += n;
            }
        }
        stats.per_commune = sqlx::query(
            "SELECT commune_insee, COUNT(*) AS n FROM handouts WHERE order_id = $1 \
             GROUP BY commune_insee ORDER BY COUNT(*) DESC, commune_insee",
        )
        .bind(order.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((get_string(r, "commune_insee")?, get_i64(r, "n")?)))
        .collect::<Result<_, StoreError>>()?;
        const THIRTY_DAYS_MS: i64 = 30 * 24 * 3600 * 1000;
        stats.started_within_30_days = sqlx::query_scalar(
            "SELECT COUNT(*) FROM handouts h WHERE h.order_id = $1 AND EXISTS (\
             SELECT 1 FROM cheques c JOIN redemptions r ON r.cheque_id = c.id \
             WHERE c.booklet_id = h.booklet_id AND r.rolled_back_at IS NULL \
             AND r.redeemed_at <= h.handed_out_at + $2)",
        )
        .bind(order.0)
        .bind(THIRTY_DAYS_MS)
        .fetch_one(self.pool())
        .await?;
        self.workshop_figures(order, &mut stats).await?;
        Ok(stats)
    }

    /// Whether booklets reach workshops: booked, attended, and how soon after the handout.
    async fn workshop_figures(
        &self,
        order: OrderId,
        stats: &mut DistributionStats,
    ) -> Result<(), StoreError> {
        stats.with_booking = sqlx::query_scalar(
            "SELECT COUNT(*) FROM handouts h WHERE h.order_id = $1 AND EXISTS (\
             SELECT 1 FROM bookings b WHERE b.booklet_id = h.booklet_id)",
        )
        .bind(order.0)
        .fetch_one(self.pool())
        .await?;
        let firsts = sqlx::query(
            "SELECT h.handed_out_at, MIN(r.redeemed_at) AS first_at FROM handouts h \
             JOIN redemptions r ON r.booklet_id = h.booklet_id AND r.workshop_id IS NOT NULL \
             AND r.rolled_back_at IS NULL WHERE h.order_id = $1 GROUP BY h.id, h.handed_out_at",
        )
        .bind(order.0)
        .fetch_all(self.pool())
        .await?;
        let mut days: Vec<i64> = firsts
            .iter()
            .map(|r| {
                Ok((get_i64(r, "first_at")? - get_i64(r, "handed_out_at")?).max(0) / 86_400_000)
            })
            .collect::<Result<_, StoreError>>()?;
        days.sort_unstable();
        stats.attended_workshop = days.len() as i64;
        stats.median_days_to_first_workshop = days.get(days.len() / 2).copied();
        Ok(())
    }
}
