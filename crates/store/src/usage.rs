//! The figures' rollups, written in the same transaction as the events they count: per booklet
//! (cheques in force, their sum, the first use), per order (booklets bought and handed out,
//! cheques paid: `order_funnel`), per order × venue × service × workshop format × Paris month
//! (`usage_months`: cheques, cents, booklets first used) and their sums per order and month
//! (`order_months`, what the funnel and the monthly series read), and what payment runs paid
//! per order and venue (`usage_paid`). A dashboard reads these small tables instead of a
//! million cheques; [`Store::figures_check`] recounts them from the rows.

use std::collections::BTreeMap;

use passnum_core::{Timestamp, paris};
use sqlx::Any;

use crate::rows::{IdOrderLock, get_i64, get_string, value_rows, value_rows_from};
use crate::{Engine, Store, StoreError};

/// One line of `usage_months`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct UsageKey {
    pub order_id: i64,
    pub venue_id: i64,
    pub service_code: String,
    /// "none" for a cheque scanned without a workshop.
    pub format: &'static str,
    pub month: i64,
}

/// Lines of `usage_months` to add: cheques and cents per key, in key order.
pub(crate) type MonthLines = BTreeMap<UsageKey, (i64, i64)>;

/// Counts to add to a booklet: cheques, cents, the instant of the earliest one and its line.
#[derive(Clone, Debug)]
pub(crate) struct BookletUse {
    pub cheques: i64,
    pub cents: i64,
    pub first_at: i64,
    pub first_line: UsageKey,
}

/// Booklets whose use starts (or, rolled back, ends) per line of `usage_months`.
pub(crate) type FirstUses = BTreeMap<UsageKey, i64>;

/// Adds accepted redemptions to the month lines (one upsert), and the booklets they used for
/// the first time (`first_uses`, a key of `months` each). Keys go in sorted order so that two
/// batches touching the same lines lock them in the same order. Every scan of a venue for one
/// service in a month adds to the same line: redemption batches do it last, just before their
/// commit.
///
/// The booklets first used are counted here rather than on the order's funnel line: that line
/// would be one more row every batch of an order updates just before its commit, one more
/// statement while the funder's account is held (BENCHMARKS.md, nineteenth session). Only their
/// sum per order means something: a rollback takes a booklet back out on the line of the
/// cheque rolled back, not necessarily the line it was counted on.
pub(crate) async fn add_months(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    months: &MonthLines,
    first_uses: &FirstUses,
) -> Result<(), StoreError> {
    upsert_lines(tx, engine, months, Some(first_uses)).await
}

/// The upsert of [`add_months`]; without `first_uses`, as the table was before migration 36
/// (migration 20's backfill).
async fn upsert_lines(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    months: &MonthLines,
    first_uses: Option<&FirstUses>,
) -> Result<(), StoreError> {
    if months.is_empty() {
        return Ok(());
    }
    let (column, update, width) = match first_uses {
        Some(_) => (
            ", first_uses",
            ", first_uses = usage_months.first_uses + excluded.first_uses",
            8,
        ),
        None => ("", "", 7),
    };
    let lines = format!(
        "INSERT INTO usage_months (order_id, venue_id, service_code, format, month, cheques, cents{column}) VALUES {} \
         ON CONFLICT (order_id, venue_id, service_code, format, month) DO UPDATE SET \
         cheques = usage_months.cheques + excluded.cheques, cents = usage_months.cents + excluded.cents{update}",
        value_rows(engine, months.len(), width)
    );
    let orders = first_uses.map(|f| order_lines(months, f));
    let sql = match (&orders, engine) {
        // One round trip: the order lines after the month lines (the scalar subquery runs the
        // `WITH` to its end first), the order every batch and rollback locks them in.
        (Some(o), Engine::Postgres) => format!(
            "WITH m AS ({lines} RETURNING 1) {} WHERE (SELECT COUNT(*) FROM m) > 0 {}",
            order_months_select(engine, o.len(), months.len() * width),
            ORDER_MONTHS_UPSERT
        ),
        _ => lines,
    };
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for (k, (n, cents)) in months {
        q = q
            .bind(k.order_id)
            .bind(k.venue_id)
            .bind(k.service_code.as_str())
            .bind(k.format)
            .bind(k.month)
            .bind(*n)
            .bind(*cents);
        if let Some(f) = first_uses {
            q = q.bind(f.get(k).copied().unwrap_or(0));
        }
    }
    let Some(orders) = orders else {
        q.execute(&mut *tx).await?;
        return Ok(());
    };
    if engine == Engine::Sqlite {
        q.execute(&mut *tx).await?;
        let sql = format!(
            "{} WHERE 1 = 1 {ORDER_MONTHS_UPSERT}",
            order_months_select(engine, orders.len(), 0)
        );
        q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    }
    for ((order_id, month), (n, cents, first)) in &orders {
        q = q
            .bind(*order_id)
            .bind(*month)
            .bind(*n)
            .bind(*cents)
            .bind(*first);
    }
    q.execute(&mut *tx).await?;
    Ok(())
}

/// Lines of `order_months` to add: cheques, cents and booklets first used per order and month.
type OrderLines = BTreeMap<(i64, i64), (i64, i64, i64)>;

/// The month lines summed per order and month.
fn order_lines(months: &MonthLines, first_uses: &FirstUses) -> OrderLines {
    let mut out = OrderLines::new();
    for (k, (n, cents)) in months {
        let line = out.entry((k.order_id, k.month)).or_default();
        line.0 += n;
        line.1 += cents;
        line.2 += first_uses.get(k).copied().unwrap_or(0);
    }
    out
}

/// `INSERT INTO order_months … SELECT … FROM (VALUES …)` of `rows` lines, its parameters after
/// the statement's first `offset`; a `WHERE` and [`ORDER_MONTHS_UPSERT`] follow (the `WHERE`
/// keeps SQLite from reading `ON CONFLICT` as a join's constraint).
fn order_months_select(engine: Engine, rows: usize, offset: usize) -> String {
    format!(
        "INSERT INTO order_months (order_id, month, cheques, cents, first_uses) \
         SELECT * FROM (VALUES {}) AS v",
        value_rows_from(engine, rows, 5, offset)
    )
}

const ORDER_MONTHS_UPSERT: &str = "ON CONFLICT (order_id, month) DO UPDATE SET \
     cheques = order_months.cheques + excluded.cheques, cents = order_months.cents + excluded.cents, \
     first_uses = order_months.first_uses + excluded.first_uses";

/// The booklets' use, in one statement (on PostgreSQL their rows locked in id order first, see
/// [`IdOrderLock`]). Returns the booklets used for the first time, counted on the line of
/// their first cheque, for [`add_months`].
pub(crate) async fn add_booklets(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    booklets: &BTreeMap<i64, BookletUse>,
) -> Result<FirstUses, StoreError> {
    let mut first_uses = FirstUses::new();
    if booklets.is_empty() {
        return Ok(first_uses);
    }
    let lock = IdOrderLock::new(engine, "booklets", booklets.len());
    let sql = format!(
        "{}UPDATE booklets SET cheques_used = booklets.cheques_used + v.column2, \
         used_cents = booklets.used_cents + v.column3, \
         first_used_at = COALESCE(booklets.first_used_at, v.column4) \
         FROM (VALUES {}) AS v WHERE booklets.id = v.column1{} \
         RETURNING booklets.id, booklets.cheques_used",
        lock.with,
        value_rows_from(engine, booklets.len(), 4, lock.binds),
        lock.filter
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for id in booklets.keys().take(lock.binds) {
        q = q.bind(*id);
    }
    for (id, u) in booklets {
        q = q.bind(*id).bind(u.cheques).bind(u.cents).bind(u.first_at);
    }
    let rows = q.fetch_all(&mut *tx).await?;
    if rows.len() != booklets.len() {
        return Err(StoreError::corrupt("carnet introuvable pour ses chiffres"));
    }
    for r in rows {
        let added = booklets
            .get(&get_i64(&r, "id")?)
            .ok_or_else(|| StoreError::corrupt("carnet inattendu pour ses chiffres"))?;
        // No cheque in force before this batch's: its first use.
        if get_i64(&r, "cheques_used")? == added.cheques {
            *first_uses.entry(added.first_line.clone()).or_insert(0) += 1;
        }
    }
    Ok(first_uses)
}

/// Adds `n` booklets handed out to the order's funnel line.
pub(crate) async fn add_handed_out(
    tx: &mut sqlx::AnyConnection,
    order_id: i64,
    n: i64,
) -> Result<(), StoreError> {
    let updated =
        sqlx::query("UPDATE order_funnel SET handed_out = handed_out + $1 WHERE order_id = $2")
            .bind(n)
            .bind(order_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if updated != 1 {
        return Err(StoreError::corrupt(
            "ligne de commande introuvable dans l'entonnoir",
        ));
    }
    Ok(())
}

/// Takes a redemption just rolled back out of the rollups.
pub(crate) async fn remove_redemption(
    tx: &mut sqlx::AnyConnection,
    red: &crate::redeem::Redemption,
    cheque_id: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT c.booklet_id, (SELECT w.format FROM workshops w WHERE w.id = $1) AS format \
         FROM cheques c WHERE c.id = $2",
    )
    .bind(red.workshop_id)
    .bind(cheque_id)
    .fetch_one(&mut *tx)
    .await?;
    let key = UsageKey {
        order_id: red.order_id.0,
        venue_id: red.venue_id.0,
        service_code: red.service_code.clone(),
        format: format_code(crate::rows::get_opt_string(&row, "format")?.as_deref())?,
        month: paris::month_key(red.redeemed_at),
    };
    remove(tx, &key, get_i64(&row, "booklet_id")?, red.amount_cents).await
}

/// Takes one rolled-back redemption out of the rollups. The booklet's first use is read again
/// from its remaining redemptions (ten cheques at most); a booklet left without a cheque in
/// force leaves the line's first uses.
async fn remove(
    tx: &mut sqlx::AnyConnection,
    key: &UsageKey,
    booklet_id: i64,
    cents: i64,
) -> Result<(), StoreError> {
    let left = sqlx::query(
        "UPDATE booklets SET cheques_used = cheques_used - 1, used_cents = used_cents - $1, \
         first_used_at = (SELECT MIN(r.redeemed_at) FROM cheques c \
             JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL \
             WHERE c.booklet_id = $2) \
         WHERE id = $3 RETURNING cheques_used",
    )
    .bind(cents)
    .bind(booklet_id)
    .bind(booklet_id)
    .fetch_optional(&mut *tx)
    .await?;
    let ended = match left {
        Some(r) => i64::from(get_i64(&r, "cheques_used")? == 0),
        None => return Err(StoreError::corrupt("carnet d'un encaissement introuvable")),
    };
    let n = sqlx::query(
        "UPDATE usage_months SET cheques = cheques - 1, cents = cents - $1, first_uses = first_uses - $2 \
         WHERE order_id = $3 AND venue_id = $4 AND service_code = $5 AND format = $6 AND month = $7",
    )
    .bind(cents)
    .bind(ended)
    .bind(key.order_id)
    .bind(key.venue_id)
    .bind(key.service_code.as_str())
    .bind(key.format)
    .bind(key.month)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let m = sqlx::query(
        "UPDATE order_months SET cheques = cheques - 1, cents = cents - $1, first_uses = first_uses - $2 \
         WHERE order_id = $3 AND month = $4",
    )
    .bind(cents)
    .bind(ended)
    .bind(key.order_id)
    .bind(key.month)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 || m != 1 {
        return Err(StoreError::corrupt(
            "chiffres d'un encaissement introuvables",
        ));
    }
    Ok(())
}

/// Adds what a confirmed payment run paid, per order and venue (`usage_paid`) and per order
/// (`order_funnel`): one statement on PostgreSQL, which groups the run's items once; SQLite
/// (no data-modifying `WITH`) groups them a second time, in process.
pub(crate) async fn add_paid(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    run_id: i64,
) -> Result<(), StoreError> {
    const GROUPED: &str = "SELECT c.order_id, i.venue_id, COUNT(*) AS n, SUM(i.amount_cents) AS s \
         FROM payment_run_items i JOIN cheques c ON c.id = i.cheque_id \
         WHERE i.run_id = $1 AND i.cancelled = 0 GROUP BY c.order_id, i.venue_id";
    const BY_VENUE: &str = "INSERT INTO usage_paid (order_id, venue_id, cheques, cents) \
         SELECT order_id, venue_id, n, s FROM t WHERE 1 = 1 \
         ON CONFLICT (order_id, venue_id) DO UPDATE SET \
         cheques = usage_paid.cheques + excluded.cheques, cents = usage_paid.cents + excluded.cents";
    const BY_ORDER: &str = "UPDATE order_funnel SET paid = paid + o.n, paid_cents = paid_cents + o.s \
         FROM (SELECT order_id, SUM(n) AS n, SUM(s) AS s FROM t GROUP BY order_id) AS o \
         WHERE order_funnel.order_id = o.order_id";
    let statements = match engine {
        Engine::Postgres => vec![format!(
            "WITH t AS ({GROUPED}), p AS ({BY_VENUE} RETURNING 1) {BY_ORDER}"
        )],
        Engine::Sqlite => vec![
            format!("WITH t AS ({GROUPED}) {BY_VENUE}"),
            format!("WITH t AS ({GROUPED}) {BY_ORDER}"),
        ],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Every redemption in force, counted the way the batch counts it. Read in pages by id.
async fn recount_months(conn: &mut sqlx::AnyConnection) -> Result<MonthLines, StoreError> {
    const PAGE: i64 = 50_000;
    let mut out = MonthLines::new();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT r.id, c.order_id, r.venue_id, r.service_code, w.format, r.amount_cents, r.redeemed_at \
             FROM redemptions r JOIN cheques c ON c.id = r.cheque_id \
             LEFT JOIN workshops w ON w.id = r.workshop_id \
             WHERE r.rolled_back_at IS NULL AND r.id > $1 ORDER BY r.id LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let key = UsageKey {
                order_id: get_i64(r, "order_id")?,
                venue_id: get_i64(r, "venue_id")?,
                service_code: get_string(r, "service_code")?,
                format: format_code(crate::rows::get_opt_string(r, "format")?.as_deref())?,
                month: paris::month_key(Timestamp::from_unix_ms(get_i64(r, "redeemed_at")?)),
            };
            let line = out.entry(key).or_default();
            line.0 += 1;
            line.1 += get_i64(r, "amount_cents")?;
        }
        match rows.last() {
            Some(r) if rows.len() as i64 == PAGE => after = get_i64(r, "id")?,
            _ => return Ok(out),
        }
    }
}

/// The code stored for a workshop's format ("none" without a workshop).
pub(crate) fn format_code(format: Option<&str>) -> Result<&'static str, StoreError> {
    match format {
        None | Some("none") => Ok("none"),
        Some("individual") => Ok("individual"),
        Some("collective") => Ok("collective"),
        Some(other) => Err(StoreError::corrupt(format!("format {other}"))),
    }
}

/// The migration's Rust step: `usage_months` from the redemptions already there.
pub(crate) async fn backfill(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
) -> Result<(), StoreError> {
    let all = recount_months(conn).await?;
    let lines: Vec<_> = all.into_iter().collect();
    for chunk in lines.chunks(1000) {
        let part: MonthLines = chunk.iter().cloned().collect();
        upsert_lines(conn, engine, &part, None).await?;
    }
    Ok(())
}

impl Store {
    /// Recounts the rollups from the rows and lists every difference (none when they agree).
    /// `passnum ledger check` prints them; the tests run it after every kind of event.
    pub async fn figures_check(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let mut problems = Vec::new();
        let counted = recount_months(&mut conn).await?;
        let mut stored = MonthLines::new();
        for r in sqlx::query(
            "SELECT order_id, venue_id, service_code, format, month, cheques, cents FROM usage_months \
             WHERE cheques <> 0 OR cents <> 0",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            stored.insert(
                UsageKey {
                    order_id: get_i64(&r, "order_id")?,
                    venue_id: get_i64(&r, "venue_id")?,
                    service_code: get_string(&r, "service_code")?,
                    format: format_code(Some(&get_string(&r, "format")?))?,
                    month: get_i64(&r, "month")?,
                },
                (get_i64(&r, "cheques")?, get_i64(&r, "cents")?),
            );
        }
        if counted != stored {
            problems.push(format!(
                "usage_months : {} lignes recomptées, {} enregistrées, différentes",
                counted.len(),
                stored.len()
            ));
        }
        let booklets: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM booklets b WHERE b.cheques_used <> \
             (SELECT COUNT(*) FROM cheques c JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL WHERE c.booklet_id = b.id) \
             OR b.used_cents <> (SELECT COALESCE(SUM(r.amount_cents), 0) FROM cheques c JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL WHERE c.booklet_id = b.id) \
             OR COALESCE(b.first_used_at, -1) <> COALESCE((SELECT MIN(r.redeemed_at) FROM cheques c JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL WHERE c.booklet_id = b.id), -1)",
        )
        .fetch_one(&mut *conn)
        .await?;
        if booklets > 0 {
            problems.push(format!(
                "{booklets} carnet(s) dont les chèques utilisés ne correspondent pas"
            ));
        }
        // Booklets counted per order, less the stored counts: any order left over differs.
        let orders: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT order_id FROM ( \
               SELECT order_id, 1 AS bought, CASE WHEN handed_out_at IS NOT NULL THEN 1 ELSE 0 END AS handed_out, \
                 CASE WHEN cheques_used > 0 THEN 1 ELSE 0 END AS first_used FROM booklets \
               UNION ALL SELECT order_id, -bought, -handed_out, 0 FROM order_funnel \
               UNION ALL SELECT order_id, 0, 0, -first_uses FROM usage_months) t \
             GROUP BY order_id HAVING SUM(bought) <> 0 OR SUM(handed_out) <> 0 OR SUM(first_used) <> 0) d",
        )
        .fetch_one(&mut *conn)
        .await?;
        if orders > 0 {
            problems.push(format!(
                "{orders} commande(s) dont l'entonnoir (achetés, remis, utilisés) ne correspond pas aux carnets"
            ));
        }
        let paid: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT c.order_id, i.venue_id, COUNT(*) AS n, SUM(i.amount_cents) AS s \
             FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id AND p.status = 'confirmed' \
             JOIN cheques c ON c.id = i.cheque_id WHERE i.cancelled = 0 GROUP BY c.order_id, i.venue_id) t \
             LEFT JOIN usage_paid u ON u.order_id = t.order_id AND u.venue_id = t.venue_id \
             WHERE u.cheques IS NULL OR u.cheques <> t.n OR u.cents <> t.s",
        )
        .fetch_one(&mut *conn)
        .await?;
        let (items, rolled): (i64, i64) = {
            let r = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
                 AND p.status = 'confirmed' WHERE i.cancelled = 0) AS items, \
                 (SELECT CAST(COALESCE(SUM(cheques), 0) AS BIGINT) FROM usage_paid) AS rolled",
            )
            .fetch_one(&mut *conn)
            .await?;
            (get_i64(&r, "items")?, get_i64(&r, "rolled")?)
        };
        if items != rolled {
            problems.push(format!(
                "usage_paid compte {rolled} chèques payés, les virements confirmés {items}"
            ));
        }
        if paid > 0 {
            problems.push(format!(
                "{paid} ligne(s) de chèques payés (commande × lieu) ne correspondent pas"
            ));
        }
        // The order lines, less the sums of the finer lines: any (order, month) or order left
        // over differs.
        let order_months: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT order_id, month FROM ( \
               SELECT order_id, month, cheques, cents, first_uses FROM usage_months \
               UNION ALL SELECT order_id, month, -cheques, -cents, -first_uses FROM order_months) t \
             GROUP BY order_id, month HAVING SUM(cheques) <> 0 OR SUM(cents) <> 0 OR SUM(first_uses) <> 0) d",
        )
        .fetch_one(&mut *conn)
        .await?;
        if order_months > 0 {
            problems.push(format!(
                "{order_months} ligne(s) de chèques utilisés par commande et par mois ne correspondent pas"
            ));
        }
        let order_paid: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT order_id FROM ( \
               SELECT order_id, cheques, cents FROM usage_paid \
               UNION ALL SELECT order_id, -paid, -paid_cents FROM order_funnel) t \
             GROUP BY order_id HAVING SUM(cheques) <> 0 OR SUM(cents) <> 0) d",
        )
        .fetch_one(&mut *conn)
        .await?;
        if order_paid > 0 {
            problems.push(format!(
                "{order_paid} commande(s) dont les chèques payés ne correspondent pas aux lieux"
            ));
        }
        Ok(problems)
    }
}
