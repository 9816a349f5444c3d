//! What the operator should look at: cheques used from booklets never recorded as handed out,
//! many cheques of one booklet at one venue in one Paris day, scans far from their workshop's
//! time or in the middle of the night, venues that roll back often. Each line says why it is
//! flagged; none is proof of fraud.

use std::collections::BTreeMap;

use passnum_core::{Timestamp, paris};

use crate::rows::{get_i64, get_opt_i64, get_string};
use crate::{Store, StoreError};

/// Most lines of each kind.
pub const MAX_ANOMALIES: i64 = 200;
/// Cheques of one booklet at one venue in one day from which a day is flagged.
pub const SAME_DAY_CHEQUES: i64 = 3;
/// A scan this long before its workshop starts or after it ends is flagged.
pub const WORKSHOP_SLACK_MS: i64 = 60 * 60_000;
/// Rollbacks from which a venue is flagged, and their share of its redemptions (percent).
pub const ROLLBACKS_MIN: i64 = 5;
pub const ROLLBACKS_PCT: i64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AnomalyKind {
    NotHandedOut,
    SameDay,
    OutsideWorkshop,
    AtNight,
    Rollbacks,
}

impl AnomalyKind {
    /// Every kind, in the order [`Store::anomalies`] lists them.
    pub const ALL: [AnomalyKind; 5] = [
        Self::NotHandedOut,
        Self::SameDay,
        Self::OutsideWorkshop,
        Self::AtNight,
        Self::Rollbacks,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::NotHandedOut => "not_handed_out",
            Self::SameDay => "same_day",
            Self::OutsideWorkshop => "outside_workshop",
            Self::AtNight => "at_night",
            Self::Rollbacks => "rollbacks",
        }
    }
}

/// One flagged fact, with the sentence that explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub venue: Option<(i64, String)>,
    /// (order, booklet number) when a booklet is concerned.
    pub booklet: Option<(i64, i64)>,
    pub at: Option<Timestamp>,
    pub count: i64,
    pub why: String,
}

impl Store {
    /// The anomalies of the redemptions since `since` (and of every booklet for the first
    /// kind), each kind capped at [`MAX_ANOMALIES`] lines.
    pub async fn anomalies(&self, since: Timestamp) -> Result<Vec<Anomaly>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let mut out = vec![];
        // Booklets with cheques used and no handout: the booklets' own counters.
        for r in sqlx::query(
            "SELECT b.order_id, b.number, b.cheques_used, b.first_used_at, d.name AS holder FROM booklets b \
             LEFT JOIN distributors d ON d.id = b.distributor_id \
             WHERE b.cheques_used > 0 AND b.handed_out_at IS NULL ORDER BY b.first_used_at DESC LIMIT $1",
        )
        .bind(MAX_ANOMALIES)
        .fetch_all(&mut *conn)
        .await?
        {
            let n = get_i64(&r, "cheques_used")?;
            let holder = crate::rows::get_opt_string(&r, "holder")?
                .map_or("encore dans le stock du commanditaire".to_string(), |h| {
                    format!("confié à {h}")
                });
            out.push(Anomaly {
                kind: AnomalyKind::NotHandedOut,
                venue: None,
                booklet: Some((get_i64(&r, "order_id")?, get_i64(&r, "number")?)),
                at: get_opt_i64(&r, "first_used_at")?.map(Timestamp::from_unix_ms),
                count: n,
                why: format!(
                    "{n} chèque{} utilisé{} alors qu'aucune remise du carnet n'est enregistrée (carnet {holder}).",
                    plural(n),
                    plural(n)
                ),
            });
        }
        out.extend(self.same_day(&mut conn, since).await?);
        out.extend(self.scan_times(&mut conn, since).await?);
        out.extend(self.frequent_rollbacks(&mut conn, since).await?);
        Ok(out)
    }

    async fn same_day(
        &self,
        conn: &mut sqlx::AnyConnection,
        since: Timestamp,
    ) -> Result<Vec<Anomaly>, StoreError> {
        // Candidates: (booklet, venue) with enough cheques in the window; their days are then
        // counted on the Paris calendar.
        let rows = sqlx::query(
            "SELECT c.booklet_id, b.order_id, b.number, r.venue_id, v.name, r.redeemed_at FROM redemptions r \
             JOIN cheques c ON c.id = r.cheque_id JOIN booklets b ON b.id = c.booklet_id \
             JOIN venues v ON v.id = r.venue_id \
             WHERE r.rolled_back_at IS NULL AND r.redeemed_at >= $1 AND (c.booklet_id, r.venue_id) IN ( \
                 SELECT c2.booklet_id, r2.venue_id FROM redemptions r2 JOIN cheques c2 ON c2.id = r2.cheque_id \
                 WHERE r2.rolled_back_at IS NULL AND r2.redeemed_at >= $2 \
                 GROUP BY c2.booklet_id, r2.venue_id HAVING COUNT(*) >= $3) \
             ORDER BY c.booklet_id, r.venue_id, r.redeemed_at",
        )
        .bind(since.unix_ms())
        .bind(since.unix_ms())
        .bind(SAME_DAY_CHEQUES)
        .fetch_all(&mut *conn)
        .await?;
        // (booklet, venue, Paris day) → (order, booklet number, venue name, first instant, cheques)
        type Day = (i64, i64, String, i64, i64);
        let mut days: BTreeMap<(i64, i64, time::Date), Day> = BTreeMap::new();
        for r in &rows {
            let at = get_i64(r, "redeemed_at")?;
            let key = (
                get_i64(r, "booklet_id")?,
                get_i64(r, "venue_id")?,
                paris::local_date(Timestamp::from_unix_ms(at)),
            );
            let e = days.entry(key).or_insert((
                get_i64(r, "order_id")?,
                get_i64(r, "number")?,
                get_string(r, "name")?,
                at,
                0,
            ));
            e.4 += 1;
        }
        Ok(days
            .into_iter()
            .filter(|(_, v)| v.4 >= SAME_DAY_CHEQUES)
            .take(MAX_ANOMALIES as usize)
            .map(|((_, venue, day), (order, number, name, at, n))| Anomaly {
                kind: AnomalyKind::SameDay,
                venue: Some((venue, name)),
                booklet: Some((order, number)),
                at: Some(Timestamp::from_unix_ms(at)),
                count: n,
                why: format!(
                    "{n} chèques du même carnet utilisés le {} dans le même lieu : un atelier par chèque, en principe un par jour.",
                    paris::format_date(day)
                ),
            })
            .collect())
    }

    async fn scan_times(
        &self,
        conn: &mut sqlx::AnyConnection,
        since: Timestamp,
    ) -> Result<Vec<Anomaly>, StoreError> {
        let mut out = vec![];
        for r in sqlx::query(
            "SELECT r.venue_id, v.name, r.redeemed_at, w.starts_at, w.duration_min, w.title FROM redemptions r \
             JOIN workshops w ON w.id = r.workshop_id JOIN venues v ON v.id = r.venue_id \
             WHERE r.rolled_back_at IS NULL AND r.redeemed_at >= $1 AND r.workshop_id IS NOT NULL \
             AND (r.redeemed_at < w.starts_at - $2 OR r.redeemed_at > w.starts_at + w.duration_min * 60000 + $3) \
             ORDER BY r.redeemed_at DESC LIMIT $4",
        )
        .bind(since.unix_ms())
        .bind(WORKSHOP_SLACK_MS)
        .bind(WORKSHOP_SLACK_MS)
        .bind(MAX_ANOMALIES)
        .fetch_all(&mut *conn)
        .await?
        {
            let at = Timestamp::from_unix_ms(get_i64(&r, "redeemed_at")?);
            let starts = Timestamp::from_unix_ms(get_i64(&r, "starts_at")?);
            out.push(Anomaly {
                kind: AnomalyKind::OutsideWorkshop,
                venue: Some((get_i64(&r, "venue_id")?, get_string(&r, "name")?)),
                booklet: None,
                at: Some(at),
                count: 1,
                why: format!(
                    "Chèque scanné le {} pour l'atelier « {} » du {} : plus d'une heure avant son début ou après sa fin.",
                    paris::format_moment(at),
                    get_string(&r, "title")?,
                    paris::format_moment(starts)
                ),
            });
        }
        // Night scans: no venue welcomes people between 22 h and 6 h (Paris). Opening hours
        // are free text in passnum, so they cannot be checked more closely. SQL keeps the UTC
        // hours that can be a Paris night in winter or summer (20 h to 5 h); the exact Paris
        // hour is checked here.
        let rows = sqlx::query(
            "SELECT r.venue_id, v.name, r.redeemed_at FROM redemptions r JOIN venues v ON v.id = r.venue_id \
             WHERE r.rolled_back_at IS NULL AND r.redeemed_at >= $1 \
             AND (r.redeemed_at % 86400000 >= 72000000 OR r.redeemed_at % 86400000 < 18000000) \
             ORDER BY r.redeemed_at DESC LIMIT $2",
        )
        .bind(since.unix_ms())
        .bind(4 * MAX_ANOMALIES)
        .fetch_all(&mut *conn)
        .await?;
        let mut night = 0;
        for r in &rows {
            let at = Timestamp::from_unix_ms(get_i64(r, "redeemed_at")?);
            let t = at.to_offset_datetime();
            let hour = t.to_offset(paris::offset_at(t)).hour();
            if !(6..22).contains(&hour) {
                night += 1;
                if night > MAX_ANOMALIES {
                    break;
                }
                out.push(Anomaly {
                    kind: AnomalyKind::AtNight,
                    venue: Some((get_i64(r, "venue_id")?, get_string(r, "name")?)),
                    booklet: None,
                    at: Some(at),
                    count: 1,
                    why: format!(
                        "Chèque scanné le {}, entre 22 h et 6 h : aucun lieu n'accueille à cette heure.",
                        paris::format_moment(at)
                    ),
                });
            }
        }
        Ok(out)
    }

    async fn frequent_rollbacks(
        &self,
        conn: &mut sqlx::AnyConnection,
        since: Timestamp,
    ) -> Result<Vec<Anomaly>, StoreError> {
        let mut out = vec![];
        for r in sqlx::query(
            "SELECT r.venue_id, v.name, COUNT(*) AS scans, \
             CAST(SUM(CASE WHEN r.rolled_back_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS rolled \
             FROM redemptions r JOIN venues v ON v.id = r.venue_id WHERE r.redeemed_at >= $1 \
             GROUP BY r.venue_id, v.name \
             HAVING SUM(CASE WHEN r.rolled_back_at IS NOT NULL THEN 1 ELSE 0 END) >= $2 \
             ORDER BY rolled DESC LIMIT $3",
        )
        .bind(since.unix_ms())
        .bind(ROLLBACKS_MIN)
        .bind(MAX_ANOMALIES)
        .fetch_all(&mut *conn)
        .await?
        {
            let (scans, rolled) = (get_i64(&r, "scans")?, get_i64(&r, "rolled")?);
            if rolled * 100 < scans * ROLLBACKS_PCT {
                continue;
            }
            out.push(Anomaly {
                kind: AnomalyKind::Rollbacks,
                venue: Some((get_i64(&r, "venue_id")?, get_string(&r, "name")?)),
                booklet: None,
                at: None,
                count: rolled,
                why: format!(
                    "{rolled} encaissements annulés sur {scans} ({} %) : une erreur de manipulation répétée se corrige par une formation ; sinon, à vérifier.",
                    (rolled * 100 + scans / 2) / scans
                ),
            });
        }
        Ok(out)
    }
}

fn plural(n: i64) -> &'static str {
    if n > 1 { "s" } else { "" }
}
