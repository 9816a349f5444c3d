//! The stored ledger: transfers (append-only) and account totals kept beside them.
//!
//! Account totals (`debits_cents`, `credits_cents`) are updated in the same transaction as the
//! transfers, so a balance is one row read; `verify_ledger` recomputes them from the transfers.

use std::collections::BTreeMap;

use passnum_core::ledger::{AccountKey, Posting, TrialBalance};
use passnum_core::{FunderId, Money, Timestamp, VenueId};
use serde::Serialize;
use sqlx::{Any, AnyConnection};

use crate::rows::{IdOrderLock, get_i64, get_string, value_rows, value_rows_from};
use crate::{Store, StoreError};

/// A transfer to post, with what it refers to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewTransfer {
    pub posting: Posting,
    pub order_id: Option<i64>,
    pub redemption_id: Option<i64>,
    pub reverses_id: Option<i64>,
    pub payment_run_id: Option<i64>,
}

pub(crate) async fn account_id(
    conn: &mut AnyConnection,
    store: &crate::rows::Caches,
    key: AccountKey,
) -> Result<i64, StoreError> {
    if let Some(id) = store.accounts.lock().get(&key) {
        return Ok(*id);
    }
    let (kind, owner) = key.parts();
    let id: i64 =
        sqlx::query_scalar::<Any, i64>("SELECT id FROM accounts WHERE kind = $1 AND owner_id = $2")
            .bind(kind)
            .bind(owner)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::corrupt(format!("compte {kind} {owner} absent")))?;
    // Accounts are created with their owner and never deleted, so the id can be cached.
    store.accounts.lock().insert(key, id);
    Ok(id)
}

/// Posts transfers and updates account totals, in the caller's transaction.
pub(crate) async fn post(
    conn: &mut AnyConnection,
    caches: &crate::rows::Caches,
    engine: crate::Engine,
    transfers: &[NewTransfer],
    now: Timestamp,
) -> Result<(), StoreError> {
    let totals = insert_transfers(conn, caches, engine, transfers, now).await?;
    apply_totals(conn, engine, totals).await
}

/// What posted transfers add to each account: account id → (debits, credits), in id order.
pub(crate) type AccountTotals = BTreeMap<i64, (i64, i64)>;

/// Writes the transfers' rows; the account totals they change are returned, to be applied by
/// [`apply_totals`] in the same transaction. Redemption batches apply them last: every batch of
/// a programme updates its funder's account, and that row stays locked until the commit.
pub(crate) async fn insert_transfers(
    conn: &mut AnyConnection,
    caches: &crate::rows::Caches,
    engine: crate::Engine,
    transfers: &[NewTransfer],
    now: Timestamp,
) -> Result<AccountTotals, StoreError> {
    let mut deltas = AccountTotals::new();
    if transfers.is_empty() {
        return Ok(deltas);
    }
    let mut resolved = Vec::with_capacity(transfers.len());
    for t in transfers {
        let p = t.posting;
        if p.amount.cents() <= 0 || p.debit == p.credit {
            return Err(StoreError::corrupt(format!("virement invalide {p:?}")));
        }
        let d = account_id(conn, caches, p.debit).await?;
        let c = account_id(conn, caches, p.credit).await?;
        let a = p.amount.cents();
        let e = deltas.entry(d).or_default();
        e.0 =
            e.0.checked_add(a)
                .ok_or(StoreError::corrupt("dépassement"))?;
        let e = deltas.entry(c).or_default();
        e.1 =
            e.1.checked_add(a)
                .ok_or(StoreError::corrupt("dépassement"))?;
        resolved.push((d, c, t));
    }
    for chunk in resolved.chunks(500) {
        let sql = format!(
            "INSERT INTO transfers (debit_account_id, credit_account_id, amount_cents, kind, order_id, redemption_id, reverses_id, created_at, payment_run_id) VALUES {}",
            value_rows(engine, chunk.len(), 9)
        );
        let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
        for (d, c, t) in chunk {
            q = q
                .bind(*d)
                .bind(*c)
                .bind(t.posting.amount.cents())
                .bind(t.posting.kind.as_str())
                .bind(t.order_id)
                .bind(t.redemption_id)
                .bind(t.reverses_id)
                .bind(now.unix_ms())
                .bind(t.payment_run_id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(deltas)
}

/// Adds posted totals to the accounts with one statement per 2,000 accounts (a payment run
/// pays thousands of venues), locked in id order so that concurrent writers take them in the
/// same order (see [`IdOrderLock`]).
pub(crate) async fn apply_totals(
    conn: &mut AnyConnection,
    engine: crate::Engine,
    deltas: AccountTotals,
) -> Result<(), StoreError> {
    let deltas: Vec<(i64, (i64, i64))> = deltas.into_iter().collect();
    for chunk in deltas.chunks(2000) {
        let lock = IdOrderLock::new(engine, "accounts", chunk.len());
        let sql = format!(
            "{}UPDATE accounts SET debits_cents = accounts.debits_cents + v.column2, \
             credits_cents = accounts.credits_cents + v.column3 \
             FROM (VALUES {}) AS v WHERE accounts.id = v.column1{}",
            lock.with,
            value_rows_from(engine, chunk.len(), 3, lock.binds),
            lock.filter
        );
        let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
        for (id, _) in chunk.iter().take(lock.binds) {
            q = q.bind(*id);
        }
        for (id, (debits, credits)) in chunk {
            q = q.bind(*id).bind(*debits).bind(*credits);
        }
        let updated = q.execute(&mut *conn).await.map_err(|e| {
            let e = StoreError::from(e);
            // The CHECK on accounts refuses a balance below zero.
            if matches!(&e, StoreError::Database(sqlx::Error::Database(d)) if d.is_check_violation()) {
                StoreError::Conflict {
                    code: "insufficient_funds",
                    message: "Fonds insuffisants sur le compte.".into(),
                }
            } else {
                e
            }
        })?;
        if updated.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::corrupt("compte introuvable pour ses totaux"));
        }
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountBalance {
    pub account: AccountKey,
    pub debits_cents: i64,
    pub credits_cents: i64,
    /// credits − debits.
    pub balance_cents: i64,
}

/// Which accounts a caller may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerScope {
    All,
    Funder(FunderId),
    Venue(VenueId),
}

fn balance_row(row: &sqlx::any::AnyRow) -> Result<AccountBalance, StoreError> {
    let kind = get_string(row, "kind")?;
    let owner = get_i64(row, "owner_id")?;
    let debits = get_i64(row, "debits_cents")?;
    let credits = get_i64(row, "credits_cents")?;
    Ok(AccountBalance {
        account: AccountKey::from_parts(&kind, owner)
            .ok_or_else(|| StoreError::corrupt(format!("compte {kind}")))?,
        debits_cents: debits,
        credits_cents: credits,
        balance_cents: credits - debits,
    })
}

/// One account whose stored totals disagree with its transfers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerMismatch {
    pub account: AccountKey,
    pub stored_debits_cents: i64,
    pub stored_credits_cents: i64,
    pub transfer_debits_cents: i64,
    pub transfer_credits_cents: i64,
}

impl Store {
    pub async fn balances(&self, scope: LedgerScope) -> Result<Vec<AccountBalance>, StoreError> {
        let base = "SELECT kind, owner_id, debits_cents, credits_cents FROM accounts";
        let rows = match scope {
            LedgerScope::All => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{base} ORDER BY id")))
                    .fetch_all(self.pool())
                    .await?
            }
            LedgerScope::Funder(f) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{base} WHERE kind = 'funder_held' AND owner_id = $1"
                )))
                .bind(f.0)
                .fetch_all(self.pool())
                .await?
            }
            LedgerScope::Venue(v) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{base} WHERE kind = 'venue_payable' AND owner_id = $1"
                )))
                .bind(v.0)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(balance_row).collect()
    }

    pub async fn trial_balance(&self) -> Result<TrialBalance, StoreError> {
        let balances = self.balances(LedgerScope::All).await?;
        Ok(TrialBalance::of(
            balances
                .iter()
                .map(|b| (b.account, Money::from_cents(b.balance_cents))),
        ))
    }

    /// Recomputes every account's totals from the transfers and lists the accounts that differ.
    pub async fn verify_ledger(&self) -> Result<Vec<LedgerMismatch>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.kind, a.owner_id, a.debits_cents, a.credits_cents, \
             CAST(COALESCE((SELECT SUM(t.amount_cents) FROM transfers t WHERE t.debit_account_id = a.id), 0) AS BIGINT) AS td, \
             CAST(COALESCE((SELECT SUM(t.amount_cents) FROM transfers t WHERE t.credit_account_id = a.id), 0) AS BIGINT) AS tc \
             FROM accounts a ORDER BY a.id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = vec![];
        for r in &rows {
            let b = balance_row(r)?;
            let (td, tc) = (get_i64(r, "td")?, get_i64(r, "tc")?);
            if td != b.debits_cents || tc != b.credits_cents {
                out.push(LedgerMismatch {
                    account: b.account,
                    stored_debits_cents: b.debits_cents,
                    stored_credits_cents: b.credits_cents,
                    transfer_debits_cents: td,
                    transfer_credits_cents: tc,
                });
            }
        }
        Ok(out)
    }
}

/// One posted transfer, for accounting exports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferRecord {
    pub id: i64,
    pub debit: AccountKey,
    pub credit: AccountKey,
    pub amount_cents: i64,
    pub kind: String,
    pub order_id: Option<i64>,
    pub redemption_id: Option<i64>,
    pub reverses_id: Option<i64>,
    pub payment_run_id: Option<i64>,
    pub created_at: passnum_core::Timestamp,
}

/// A disagreement between cheques, redemptions, payouts and the ledger, with how many rows show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryFinding {
    pub check: &'static str,
    pub rows: i64,
}

/// Each check counts the rows that break one rule linking a cheque's history to the ledger.
const HISTORY_CHECKS: &[(&str, &str)] = &[
    (
        "chèque encaissé ou payé sans exactement un encaissement actif",
        "SELECT COUNT(*) FROM cheques c WHERE c.state = 'redeemed' AND \
         (SELECT COUNT(*) FROM redemptions r WHERE r.cheque_id = c.id AND r.rolled_back_at IS NULL) <> 1",
    ),
    (
        "encaissement actif d'un chèque ni encaissé ni payé",
        "SELECT COUNT(*) FROM redemptions r JOIN cheques c ON c.id = r.cheque_id \
         WHERE r.rolled_back_at IS NULL AND c.state <> 'redeemed'",
    ),
    (
        "encaissement sans exactement un virement d'encaissement du même montant",
        "SELECT COUNT(*) FROM redemptions r WHERE (SELECT COUNT(*) FROM transfers t WHERE t.redemption_id = r.id \
         AND t.kind = 'redemption' AND t.amount_cents = r.amount_cents) <> 1",
    ),
    (
        "encaissement annulé sans contre-passation, ou actif avec une",
        "SELECT COUNT(*) FROM redemptions r WHERE (SELECT COUNT(*) FROM transfers t WHERE t.redemption_id = r.id \
         AND t.kind = 'redemption_reversal' AND t.amount_cents = r.amount_cents) <> \
         CASE WHEN r.rolled_back_at IS NULL THEN 0 ELSE 1 END",
    ),
    (
        // "Paid" is read from the run item of a confirmed run, never written on the cheque
        // (migration 31); an item of a confirmed run belongs to its cheque's active redemption.
        "état « payé » écrit sur un chèque, ou paiement d'un encaissement annulé ou d'un autre chèque",
        "SELECT (SELECT COUNT(*) FROM cheques c WHERE c.state = 'paid') + \
         (SELECT COUNT(*) FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
         JOIN redemptions r ON r.id = i.redemption_id WHERE i.cancelled = 0 AND p.status = 'confirmed' \
         AND (r.rolled_back_at IS NOT NULL OR r.cheque_id <> i.cheque_id))",
    ),
    (
        "avoir différent de la valeur des chèques expirés ou bloqués",
        "SELECT COUNT(*) FROM credit_notes n JOIN orders o ON o.id = n.order_id WHERE n.amount_cents <> \
         (SELECT COUNT(*) FROM cheques c WHERE c.order_id = n.order_id AND c.state IN ('expired', 'blocked')) * o.face_value_cents \
         OR n.amount_cents <> (SELECT COALESCE(SUM(t.amount_cents), 0) FROM transfers t WHERE t.order_id = n.order_id AND t.kind = 'credit_note')",
    ),
    (
        "commande payée dont le prépaiement ne couvre pas la valeur faciale, ou prépaiement d'une commande non payée",
        "SELECT COUNT(*) FROM orders o WHERE (SELECT COALESCE(SUM(t.amount_cents), 0) FROM transfers t \
         WHERE t.order_id = o.id AND t.kind = 'prepayment') <> \
         CASE WHEN o.status IN ('paid', 'issued', 'closed') THEN o.total_cents ELSE 0 END",
    ),
    (
        "commission commanditaire différente de celle de la facture",
        "SELECT COUNT(*) FROM orders o WHERE (SELECT COALESCE(SUM(t.amount_cents), 0) FROM transfers t \
         WHERE t.order_id = o.id AND t.kind = 'operator_fee') <> \
         CASE WHEN o.status IN ('paid', 'issued', 'closed') THEN o.funder_fee_cents ELSE 0 END",
    ),
    (
        "correction d'un virement confirmé sans sa contre-passation (net du lieu et commission de l'opérateur, ensemble le montant du chèque), ou l'inverse",
        "SELECT (SELECT COUNT(*) FROM payment_corrections pc JOIN payment_runs p ON p.id = pc.run_id \
         WHERE p.status = 'confirmed' AND ((SELECT COUNT(*) FROM transfers t WHERE t.kind = 'correction' \
         AND t.redemption_id = pc.redemption_id AND t.amount_cents = pc.amount_cents - pc.fee_cents) <> 1 \
         OR (SELECT COALESCE(SUM(t.amount_cents), 0) FROM transfers t JOIN accounts a ON a.id = t.debit_account_id \
         WHERE t.kind = 'operator_fee' AND a.kind = 'operator' AND t.redemption_id = pc.redemption_id) <> pc.fee_cents)) \
         + (SELECT COUNT(*) FROM transfers t WHERE t.kind = 'correction' AND NOT EXISTS \
         (SELECT 1 FROM payment_corrections pc JOIN payment_runs p ON p.id = pc.run_id \
         WHERE pc.redemption_id = t.redemption_id AND p.status = 'confirmed'))",
    ),
    (
        "chèques d'une commande qui n'est pas émise",
        "SELECT COUNT(*) FROM cheques c JOIN orders o ON o.id = c.order_id WHERE o.status NOT IN ('issued', 'closed')",
    ),
    (
        // PostgreSQL no longer checks this key per booklet (migration 30): allocations and
        // transfers check the structure in their transaction, and this proves it afterwards.
        "carnet confié à une structure inconnue",
        "SELECT COUNT(*) FROM booklets b WHERE b.distributor_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM distributors d WHERE d.id = b.distributor_id)",
    ),
];

impl Store {
    /// Transfers in id order, `limit` at a time after id `after`.
    pub async fn transfers_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TransferRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, da.kind AS dk, da.owner_id AS downer, ca.kind AS ck, ca.owner_id AS cowner, t.amount_cents, t.kind, \
             t.order_id, t.redemption_id, t.reverses_id, t.payment_run_id, t.created_at FROM transfers t \
             JOIN accounts da ON da.id = t.debit_account_id JOIN accounts ca ON ca.id = t.credit_account_id \
             WHERE t.id > $1 ORDER BY t.id LIMIT $2",
        )
        .bind(after)
        .bind(limit.clamp(1, 100_000))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let key = |k: &str, o: &str| -> Result<AccountKey, StoreError> {
                    let kind = get_string(r, k)?;
                    AccountKey::from_parts(&kind, get_i64(r, o)?)
                        .ok_or_else(|| StoreError::corrupt(format!("compte {kind}")))
                };
                Ok(TransferRecord {
                    id: get_i64(r, "id")?,
                    debit: key("dk", "downer")?,
                    credit: key("ck", "cowner")?,
                    amount_cents: get_i64(r, "amount_cents")?,
                    kind: get_string(r, "kind")?,
                    order_id: crate::rows::get_opt_i64(r, "order_id")?,
                    redemption_id: crate::rows::get_opt_i64(r, "redemption_id")?,
                    reverses_id: crate::rows::get_opt_i64(r, "reverses_id")?,
                    payment_run_id: crate::rows::get_opt_i64(r, "payment_run_id")?,
                    created_at: passnum_core::Timestamp::from_unix_ms(get_i64(r, "created_at")?),
                })
            })
            .collect()
    }

    /// Proves every cheque's history agrees with the ledger; lists the rules that do not hold.
    pub async fn verify_cheque_history(&self) -> Result<Vec<HistoryFinding>, StoreError> {
        let mut out = vec![];
        for (check, sql) in HISTORY_CHECKS
            .iter()
            .chain(crate::holder_runs::CHECKS)
            .chain(crate::payments::marks::CHECKS)
            .chain(crate::payments::runs::CHECKS)
        {
            let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(*sql))
                .fetch_one(self.pool())
                .await?;
            if rows != 0 {
                out.push(HistoryFinding { check, rows });
            }
        }
        Ok(out)
    }
}
