//! Shared helpers: decoding rows, building placeholder lists, and the small caches of data
//! that never changes once written (account ids, order perimeters, the set of service codes).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;

use passnum_core::{OrderId, Perimeter, ledger::AccountKey};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;

use crate::{Engine, StoreError};

#[derive(Clone, Default)]
pub(crate) struct Caches {
    pub accounts: Arc<Mutex<HashMap<AccountKey, i64>>>,
    pub perimeters: Arc<Mutex<HashMap<OrderId, Arc<Perimeter>>>>,
    pub services: Arc<Mutex<Arc<HashSet<String>>>>,
    /// The programme's "every scan names a workshop" and when it was read (see
    /// `workshop_scans`): changes, so it is kept only a moment.
    pub workshop_required: Arc<Mutex<Option<(bool, std::time::Instant)>>>,
}

/// "$1, $2, …, $n" (PostgreSQL) or "?, ?, …" (SQLite) for a statement whose parameters are
/// all generated here, in binding order.
///
/// SQLite gets anonymous `?`: sqlx resolves each named parameter (`$7`) with
/// `sqlite3_bind_parameter_name`, a linear scan, which made a 500-row insert quadratic.
pub(crate) fn placeholders(engine: Engine, offset: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        match engine {
            Engine::Sqlite => s.push('?'),
            Engine::Postgres => {
                s.push('$');
                s.push_str(&(offset + i + 1).to_string());
            }
        }
    }
    s
}

/// "($1, $2), ($3, $4), …" for `rows` rows of `width` parameters (see [`placeholders`]).
pub(crate) fn value_rows(engine: Engine, rows: usize, width: usize) -> String {
    value_rows_from(engine, rows, width, 0)
}

/// The same after `offset` parameters of the statement.
pub(crate) fn value_rows_from(engine: Engine, rows: usize, width: usize, offset: usize) -> String {
    let mut s = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        s.push_str(&placeholders(engine, offset + r * width, width));
        s.push(')');
    }
    s
}

/// Makes one `UPDATE {table} … FROM (VALUES …)` of rows other transactions also update take
/// their locks in id order, without a separate `SELECT … FOR UPDATE` round trip. PostgreSQL
/// takes an `UPDATE … FROM`'s locks in the join's order, which nothing guarantees, and two
/// transactions taking shared rows in different orders deadlock. `with` (put before `UPDATE`)
/// locks the rows in id order in a materialised CTE; `filter` (added to the `WHERE`) makes
/// every updated row come out of it first, so each is locked after every smaller id. The CTE
/// takes the statement's first `binds` parameters: the ids, bound in id order. Its lock is the
/// one an `UPDATE` of non-key columns takes (`FOR NO KEY UPDATE`): `FOR UPDATE` would also wait
/// for the key-share locks of other transactions' foreign-key checks (every batch's transfers
/// name the funder's account), and batches then deadlocked. SQLite has one writer at a time:
/// nothing to add.
pub(crate) struct IdOrderLock {
    pub with: String,
    pub filter: String,
    pub binds: usize,
}

impl IdOrderLock {
    pub(crate) fn new(engine: Engine, table: &str, ids: usize) -> Self {
        match engine {
            Engine::Sqlite => Self {
                with: String::new(),
                filter: String::new(),
                binds: 0,
            },
            Engine::Postgres => Self {
                with: format!(
                    "WITH locked AS MATERIALIZED (SELECT id FROM {table} WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE) ",
                    placeholders(engine, 0, ids)
                ),
                filter: format!(" AND {table}.id IN (SELECT id FROM locked)"),
                binds: ids,
            },
        }
    }
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn get_opt_string(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn get_string(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(col)?)
}

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub(crate) fn date_to_sql(d: Date) -> String {
    d.format(DATE_FORMAT).unwrap_or_default()
}

pub(crate) fn date_from_sql(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, DATE_FORMAT).map_err(|e| StoreError::corrupt(format!("date « {s} » : {e}")))
}

pub(crate) fn get_date(row: &AnyRow, col: &str) -> Result<Date, StoreError> {
    date_from_sql(&get_string(row, col)?)
}

pub(crate) fn get_opt_date(row: &AnyRow, col: &str) -> Result<Option<Date>, StoreError> {
    row.try_get::<Option<String>, _>(col)?
        .map(|s| date_from_sql(&s))
        .transpose()
}

/// Clamp for list endpoints: never more than 500 rows at once.
pub(crate) fn page_limit(limit: i64) -> i64 {
    limit.clamp(1, 500)
}

/// `%words%` for `LIKE … ESCAPE '\'`: LIKE's own signs typed by a person are searched for as
/// they are.
pub(crate) fn like_pattern(words: &str) -> String {
    format!(
        "%{}%",
        words
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
