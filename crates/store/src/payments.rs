//! Paying venues: bank details with their history, and payment runs.
//!
//! A run takes every redeemed, unpaid cheque redeemed before the cutoff (and out of its
//! rollback window) whose venue has confirmed bank details. It is a draft until the operator
//! confirms it; a draft can be cancelled. Confirmation posts the payments in the ledger, marks
//! the cheques paid and records one payout per cheque. A confirmed run is never changed.
//!
//! Paid once: a redemption is in at most one run that is not cancelled (unique partial index
//! on `payment_run_items`), and a cheque has at most one payout ever (`payouts.cheque_id`
//! unique). Runs are built with set-based SQL so a million cheques stay fast and memory stays
//! bounded.

use passnum_core::ledger::Posting;
use passnum_core::payment::FeeRate;
use passnum_core::{Bic, Iban, Money, Timestamp, VenueId, paris};
use serde::Serialize;
use sqlx::any::AnyRow;
use time::Date;

use crate::ledger::{NewTransfer, post};
use crate::rows::{date_from_sql, date_to_sql, get_i64, get_opt_i64, get_string};
use crate::{Engine, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BankAccount {
    pub id: i64,
    pub venue_id: VenueId,
    pub iban: String,
    pub bic: String,
    pub holder: String,
    pub created_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
    pub superseded_at: Option<Timestamp>,
}

fn bank_account(r: &AnyRow) -> Result<BankAccount, StoreError> {
    Ok(BankAccount {
        id: get_i64(r, "id")?,
        venue_id: VenueId(get_i64(r, "venue_id")?),
        iban: get_string(r, "iban")?,
        bic: get_string(r, "bic")?,
        holder: get_string(r, "holder")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        confirmed_at: get_opt_i64(r, "confirmed_at")?.map(Timestamp::from_unix_ms),
        superseded_at: get_opt_i64(r, "superseded_at")?.map(Timestamp::from_unix_ms),
    })
}

const BANK_COLUMNS: &str =
    "id, venue_id, iban, bic, holder, created_at, confirmed_at, superseded_at";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Draft,
    Confirmed,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentRun {
    pub id: i64,
    pub cutoff: Date,
    pub status: RunStatus,
    pub fee_basis_points: i64,
    pub created_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
    pub cheques: i64,
    pub gross_cents: i64,
    pub fee_cents: i64,
    /// Cheques paid wrongly by earlier runs, recovered in this one.
    pub corrections_cents: i64,
    /// gross − fee − corrections: what the bank transfers.
    pub net_cents: i64,
}

/// What one venue receives in a run (or would, in a preview).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VenueLine {
    pub venue_id: VenueId,
    pub venue_name: String,
    pub holder: String,
    pub iban: String,
    pub bic: String,
    pub cheques: i64,
    pub gross_cents: i64,
    pub fee_cents: i64,
    /// Recovered in this run for cheques paid wrongly before (0 in a preview).
    pub corrections_cents: i64,
    pub net_cents: i64,
}

/// A venue whose cheques wait for a later run, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitingLine {
    pub venue_id: VenueId,
    pub venue_name: String,
    pub cheques: i64,
    pub gross_cents: i64,
    /// "no_bank_details" or "bank_details_unconfirmed".
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunPreview {
    pub cutoff: Date,
    pub fee_basis_points: i64,
    pub venues: Vec<VenueLine>,
    pub waiting: Vec<WaitingLine>,
}

/// One cheque of a venue's statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementLine {
    pub redeemed_at: Timestamp,
    pub cheque_code: String,
    pub service_code: String,
    pub service_name: String,
    pub funder_name: String,
    pub amount_cents: i64,
    pub fee_cents: i64,
}

fn invalid(code: &'static str, message: &str) -> StoreError {
    StoreError::Invalid {
        code,
        message: message.into(),
    }
}

fn conflict(code: &'static str, message: &str) -> StoreError {
    StoreError::Conflict {
        code,
        message: message.into(),
    }
}

/// The instant a cutoff date ends: midnight in Paris at the end of that day.
fn end_of(cutoff: Date) -> Timestamp {
    let next = cutoff.next_day().unwrap_or(cutoff);
    let utc_midnight = time::PrimitiveDateTime::new(next, time::Time::MIDNIGHT).assume_utc();
    // The Paris offset at that moment (±1 h around it is the same day-change rule).
    let offset = paris::offset_at(utc_midnight);
    Timestamp::from_offset_datetime(
        time::PrimitiveDateTime::new(next, time::Time::MIDNIGHT).assume_offset(offset),
    )
}

/// The fee on one cheque in SQL: `FeeRate::fee_on` (per cheque, half up), written once for
/// the preview and the run so both always agree; a test checks it against the core.
fn fee_sql(fee: FeeRate) -> String {
    format!("(r.amount_cents * {} + 5000) / 10000", fee.basis_points())
}

/// Redemptions a run may take: active, cheque redeemed (not paid), before the cutoff, out of
/// the rollback window, and in no live run. `$1` = end of cutoff, `$2` = end of rollback window.
const ELIGIBLE: &str = "FROM redemptions r JOIN cheques c ON c.id = r.cheque_id \
     LEFT JOIN venue_bank_accounts b ON b.venue_id = r.venue_id AND b.superseded_at IS NULL \
     WHERE r.rolled_back_at IS NULL AND c.state = 'redeemed' AND r.redeemed_at < $1 AND r.redeemed_at <= $2 \
     AND NOT EXISTS (SELECT 1 FROM payment_run_items i WHERE i.redemption_id = r.id AND i.cancelled = 0)";

impl Store {
    /// Records new bank details for a venue. They replace the current ones at once, and hold
    /// the venue's payments until the operator confirms them.
    pub async fn set_bank_account(
        &self,
        venue: VenueId,
        iban: &Iban,
        bic: &Bic,
        holder: &str,
        now: Timestamp,
    ) -> Result<BankAccount, StoreError> {
        let holder = holder.trim();
        if holder.is_empty() || holder.chars().count() > 70 {
            return Err(invalid(
                "invalid_holder",
                "le titulaire du compte doit comporter de 1 à 70 caractères",
            ));
        }
        if !iban.as_str().starts_with(bic.country()) {
            return Err(invalid(
                "bic_country_mismatch",
                "le pays du BIC ne correspond pas à celui de l'IBAN",
            ));
        }
        self.get_venue(venue).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE venue_bank_accounts SET superseded_at = $1 WHERE venue_id = $2 AND superseded_at IS NULL")
            .bind(now.unix_ms())
            .bind(venue.0)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO venue_bank_accounts (venue_id, iban, bic, holder, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {BANK_COLUMNS}"
        )))
        .bind(venue.0)
        .bind(iban.as_str())
        .bind(bic.as_str())
        .bind(holder)
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        bank_account(&row)
    }

    /// The operator confirms the venue's current bank details (after checking them by phone
    /// with the venue, for instance). Only the current details can be confirmed.
    pub async fn confirm_bank_account(
        &self,
        venue: VenueId,
        account_id: i64,
        now: Timestamp,
    ) -> Result<BankAccount, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE venue_bank_accounts SET confirmed_at = $1 WHERE id = $2 AND venue_id = $3 AND superseded_at IS NULL \
             AND confirmed_at IS NULL RETURNING {BANK_COLUMNS}"
        )))
        .bind(now.unix_ms())
        .bind(account_id)
        .bind(venue.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(conflict(
                "bank_account_not_confirmable",
                "ces coordonnées bancaires ne sont pas les coordonnées en attente de ce lieu",
            ));
        };
        tx.commit().await?;
        bank_account(&row)
    }

    /// The venue's bank details, newest first: the first is the current one.
    pub async fn bank_accounts(&self, venue: VenueId) -> Result<Vec<BankAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM venue_bank_accounts WHERE venue_id = $1 ORDER BY id DESC"
        )))
        .bind(venue.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(bank_account)
        .collect()
    }

    fn check_cutoff(&self, cutoff: Date, now: Timestamp) -> Result<(), StoreError> {
        if cutoff >= paris::local_date(now) {
            return Err(invalid(
                "cutoff_not_past",
                "la date d'arrêté doit être passée (au plus tard hier)",
            ));
        }
        Ok(())
    }

    /// What a run with this cutoff would pay, and what would wait, without writing anything.
    pub async fn preview_payment_run(
        &self,
        cutoff: Date,
        fee: FeeRate,
        now: Timestamp,
    ) -> Result<RunPreview, StoreError> {
        self.check_cutoff(cutoff, now)?;
        let window_end = now.plus_ms(-self.options().rollback_window_ms);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.venue_id, v.name, b.holder, b.iban, b.bic, \
             CASE WHEN b.id IS NULL THEN 0 WHEN b.confirmed_at IS NULL THEN 1 ELSE 2 END AS bank_state, \
             COUNT(*) AS cheques, CAST(SUM(r.amount_cents) AS BIGINT) AS gross, \
             CAST(SUM({fee}) AS BIGINT) AS fee \
             {ELIGIBLE_WITH_VENUE} GROUP BY r.venue_id, v.name, b.id, b.holder, b.iban, b.bic, b.confirmed_at ORDER BY r.venue_id",
            fee = fee_sql(fee),
            ELIGIBLE_WITH_VENUE = ELIGIBLE.replace("LEFT JOIN venue_bank_accounts", "JOIN venues v ON v.id = r.venue_id LEFT JOIN venue_bank_accounts"),
        )))
        .bind(end_of(cutoff).unix_ms())
        .bind(window_end.unix_ms())
        .fetch_all(self.pool())
        .await?;
        let mut preview = RunPreview {
            cutoff,
            fee_basis_points: fee.basis_points(),
            venues: vec![],
            waiting: vec![],
        };
        for r in &rows {
            let venue_id = VenueId(get_i64(r, "venue_id")?);
            let venue_name = get_string(r, "name")?;
            let (cheques, gross, fee) = (
                get_i64(r, "cheques")?,
                get_i64(r, "gross")?,
                get_i64(r, "fee")?,
            );
            match get_i64(r, "bank_state")? {
                2 => preview.venues.push(VenueLine {
                    venue_id,
                    venue_name,
                    holder: get_string(r, "holder")?,
                    iban: get_string(r, "iban")?,
                    bic: get_string(r, "bic")?,
                    cheques,
                    gross_cents: gross,
                    fee_cents: fee,
                    // Waiting corrections are attached when the run is prepared.
                    corrections_cents: 0,
                    net_cents: gross - fee,
                }),
                state => preview.waiting.push(WaitingLine {
                    venue_id,
                    venue_name,
                    cheques,
                    gross_cents: gross,
                    reason: if state == 0 {
                        "no_bank_details"
                    } else {
                        "bank_details_unconfirmed"
                    },
                }),
            }
        }
        Ok(preview)
    }

    /// Prepares a run (a draft): every eligible cheque whose venue has confirmed bank details.
    pub async fn create_payment_run(
        &self,
        cutoff: Date,
        fee: FeeRate,
        now: Timestamp,
    ) -> Result<PaymentRun, StoreError> {
        self.check_cutoff(cutoff, now)?;
        let window_end = now.plus_ms(-self.options().rollback_window_ms);
        let mut tx = self.begin_write().await?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO payment_runs (cutoff_date, status, fee_basis_points, created_at) VALUES ($1, 'draft', $2, $3) RETURNING id",
        )
        .bind(date_to_sql(cutoff))
        .bind(fee.basis_points())
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        // The fee formula is FeeRate::fee_on (half up, per cheque), in SQL to stay set-based;
        // a test checks that both agree.
        let insert = match self.engine() {
            // In one INSERT … SELECT … NOT EXISTS (payment_run_items), PostgreSQL, once its
            // statistics say payment_run_items is empty (autovacuum, ANALYZE), anti-joins with
            // a sequential scan of that table, which the statement itself is filling: every
            // candidate rereads every row inserted so far. 200,000 cheques took minutes, a
            // million 376 s. The candidates are therefore chosen first, into a temporary
            // table, while payment_run_items does not grow, then inserted.
            Engine::Postgres => {
                sqlx::query(
                    "CREATE TEMPORARY TABLE run_candidates (redemption_id BIGINT, cheque_id BIGINT, \
                     venue_id BIGINT, bank_account_id BIGINT, amount_cents BIGINT) ON COMMIT DROP",
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO run_candidates SELECT r.id, r.cheque_id, r.venue_id, b.id, r.amount_cents \
                     {ELIGIBLE} AND b.confirmed_at IS NOT NULL"
                )))
                .bind(end_of(cutoff).unix_ms())
                .bind(window_end.unix_ms())
                .execute(&mut *tx)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents) \
                     SELECT {run_id}, r.redemption_id, r.cheque_id, r.venue_id, r.bank_account_id, r.amount_cents, {fee} \
                     FROM run_candidates r",
                    fee = fee_sql(fee)
                )))
                .execute(&mut *tx)
                .await
            }
            // SQLite looks each candidate up in the partial unique index of
            // payment_run_items, with or without statistics.
            Engine::Sqlite => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO payment_run_items (run_id, redemption_id, cheque_id, venue_id, bank_account_id, amount_cents, fee_cents) \
                     SELECT {run_id}, r.id, r.cheque_id, r.venue_id, b.id, r.amount_cents, {fee} \
                     {ELIGIBLE} AND b.confirmed_at IS NOT NULL",
                    fee = fee_sql(fee)
                )))
                .bind(end_of(cutoff).unix_ms())
                .bind(window_end.unix_ms())
                .execute(&mut *tx)
                .await
            }
        };
        let taken = insert
            .map_err(StoreError::from)
            .map_err(|e| {
                if e.is_unique_violation() {
                    conflict(
                        "run_in_progress",
                        "un autre virement est en cours de préparation : réessayez dans un instant",
                    )
                } else {
                    e
                }
            })?
            .rows_affected();
        if taken == 0 {
            return Err(conflict(
                "nothing_to_pay",
                "aucun chèque à payer pour cette date d'arrêté (les lieux sans coordonnées bancaires confirmées attendent)",
            ));
        }
        // Corrections waiting for a venue of this run are recovered from it when what the
        // venue is owed in the run covers them all; otherwise they wait for a later run.
        sqlx::query(
            "UPDATE payment_corrections SET run_id = $1 WHERE run_id IS NULL AND venue_id IN (\
             SELECT i.venue_id FROM payment_run_items i WHERE i.run_id = $1 AND i.cancelled = 0 GROUP BY i.venue_id \
             HAVING SUM(i.amount_cents - i.fee_cents) > (SELECT SUM(pc.amount_cents) FROM payment_corrections pc \
             WHERE pc.venue_id = i.venue_id AND pc.run_id IS NULL))",
        )
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.payment_run(run_id).await
    }

    pub async fn payment_run(&self, id: i64) -> Result<PaymentRun, StoreError> {
        let row = sqlx::query(
            "SELECT p.id, p.cutoff_date, p.status, p.fee_basis_points, p.created_at, p.confirmed_at, \
             (SELECT COUNT(*) FROM payment_run_items i WHERE i.run_id = p.id) AS cheques, \
             CAST((SELECT COALESCE(SUM(i.amount_cents), 0) FROM payment_run_items i WHERE i.run_id = p.id) AS BIGINT) AS gross, \
             CAST((SELECT COALESCE(SUM(i.fee_cents), 0) FROM payment_run_items i WHERE i.run_id = p.id) AS BIGINT) AS fee, \
             CAST((SELECT COALESCE(SUM(pc.amount_cents), 0) FROM payment_corrections pc WHERE pc.run_id = p.id) AS BIGINT) AS corrections \
             FROM payment_runs p WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let status = match get_string(&row, "status")?.as_str() {
            "draft" => RunStatus::Draft,
            "confirmed" => RunStatus::Confirmed,
            "cancelled" => RunStatus::Cancelled,
            other => return Err(StoreError::corrupt(format!("statut de virement {other}"))),
        };
        let (gross, fee) = (get_i64(&row, "gross")?, get_i64(&row, "fee")?);
        let corrections = get_i64(&row, "corrections")?;
        Ok(PaymentRun {
            id,
            cutoff: date_from_sql(&get_string(&row, "cutoff_date")?)?,
            status,
            fee_basis_points: get_i64(&row, "fee_basis_points")?,
            created_at: Timestamp::from_unix_ms(get_i64(&row, "created_at")?),
            confirmed_at: get_opt_i64(&row, "confirmed_at")?.map(Timestamp::from_unix_ms),
            cheques: get_i64(&row, "cheques")?,
            gross_cents: gross,
            fee_cents: fee,
            corrections_cents: corrections,
            net_cents: gross - fee - corrections,
        })
    }

    /// Cancels a draft run: its cheques are free for a later run.
    pub async fn cancel_payment_run(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<PaymentRun, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE payment_runs SET status = 'cancelled', cancelled_at = $1 WHERE id = $2 AND status = 'draft'")
            .bind(now.unix_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            drop(tx);
            self.payment_run(id).await?;
            return Err(conflict(
                "run_not_draft",
                "seul un virement en préparation peut être annulé",
            ));
        }
        sqlx::query("UPDATE payment_run_items SET cancelled = 1 WHERE run_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Its corrections wait for the next run.
        sqlx::query("UPDATE payment_corrections SET run_id = NULL WHERE run_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.payment_run(id).await
    }

    /// Confirms a draft run: posts each venue's payment and the operator's fee, marks the
    /// cheques paid and records their payouts. Never twice.
    pub async fn confirm_payment_run(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<PaymentRun, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE payment_runs SET status = 'confirmed', confirmed_at = $1 WHERE id = $2 AND status = 'draft'")
            .bind(now.unix_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            drop(tx);
            let run = self.payment_run(id).await?;
            return Err(match run.status {
                RunStatus::Confirmed => conflict(
                    "run_already_confirmed",
                    "ce virement est déjà confirmé : rien n'a été payé une seconde fois",
                ),
                _ => conflict(
                    "run_cancelled",
                    "ce virement a été annulé : préparez-en un nouveau",
                ),
            });
        }
        let per_venue = sqlx::query(
            "SELECT venue_id, CAST(SUM(amount_cents) AS BIGINT) AS gross, CAST(SUM(fee_cents) AS BIGINT) AS fee \
             FROM payment_run_items WHERE run_id = $1 AND cancelled = 0 GROUP BY venue_id ORDER BY venue_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let corrections = sqlx::query(
            "SELECT venue_id, order_id, redemption_id, amount_cents FROM payment_corrections WHERE run_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut recovered: std::collections::HashMap<i64, i64> = Default::default();
        let mut transfers = Vec::with_capacity(per_venue.len() * 2 + corrections.len());
        for c in &corrections {
            let (venue, amount) = (get_i64(c, "venue_id")?, get_i64(c, "amount_cents")?);
            *recovered.entry(venue).or_default() += amount;
            transfers.push(NewTransfer {
                posting: Posting::correction(VenueId(venue), Money::from_cents(amount)),
                order_id: Some(get_i64(c, "order_id")?),
                redemption_id: Some(get_i64(c, "redemption_id")?),
                reverses_id: None,
                payment_run_id: Some(id),
            });
        }
        for r in &per_venue {
            let venue = VenueId(get_i64(r, "venue_id")?);
            let (gross, fee) = (get_i64(r, "gross")?, get_i64(r, "fee")?);
            let corrected = recovered.get(&venue.0).copied().unwrap_or(0);
            let base = NewTransfer {
                posting: Posting::venue_payment(venue, Money::from_cents(gross - fee - corrected)),
                order_id: None,
                redemption_id: None,
                reverses_id: None,
                payment_run_id: Some(id),
            };
            transfers.push(base);
            if fee > 0 {
                transfers.push(NewTransfer {
                    posting: Posting::operator_fee(venue, Money::from_cents(fee)),
                    ..base
                });
            }
        }
        post(&mut tx, &self.inner.caches, self.engine(), &transfers, now).await?;
        let items: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payment_run_items WHERE run_id = $1 AND cancelled = 0",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let paid = sqlx::query(
            "UPDATE cheques SET state = 'paid' WHERE state = 'redeemed' AND id IN \
             (SELECT cheque_id FROM payment_run_items WHERE run_id = $1 AND cancelled = 0)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let payouts = sqlx::query(
            "INSERT INTO payouts (cheque_id, redemption_id, transfer_id, paid_at) \
             SELECT i.cheque_id, i.redemption_id, t.id, $2 FROM payment_run_items i \
             JOIN accounts a ON a.kind = 'venue_payable' AND a.owner_id = i.venue_id \
             JOIN transfers t ON t.payment_run_id = $1 AND t.kind = 'venue_payment' AND t.debit_account_id = a.id \
             WHERE i.run_id = $1 AND i.cancelled = 0",
        )
        .bind(id)
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if paid != items as u64 || payouts != items as u64 {
            return Err(StoreError::corrupt(format!(
                "virement {id} : {items} chèques, {paid} marqués payés, {payouts} paiements enregistrés"
            )));
        }
        tx.commit().await?;
        self.payment_run(id).await
    }

    /// What each venue receives in a run, with the bank details the run was prepared with.
    pub async fn payment_run_lines(&self, id: i64) -> Result<Vec<VenueLine>, StoreError> {
        sqlx::query(
            "SELECT i.venue_id, v.name, b.holder, b.iban, b.bic, COUNT(*) AS cheques, \
             CAST(SUM(i.amount_cents) AS BIGINT) AS gross, CAST(SUM(i.fee_cents) AS BIGINT) AS fee, \
             CAST((SELECT COALESCE(SUM(pc.amount_cents), 0) FROM payment_corrections pc WHERE pc.run_id = $1 AND pc.venue_id = i.venue_id) AS BIGINT) AS corrections \
             FROM payment_run_items i JOIN venues v ON v.id = i.venue_id JOIN venue_bank_accounts b ON b.id = i.bank_account_id \
             WHERE i.run_id = $1 AND i.cancelled = 0 GROUP BY i.venue_id, v.name, b.holder, b.iban, b.bic ORDER BY i.venue_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let (gross, fee) = (get_i64(r, "gross")?, get_i64(r, "fee")?);
            let corrections = get_i64(r, "corrections")?;
            Ok(VenueLine {
                venue_id: VenueId(get_i64(r, "venue_id")?),
                venue_name: get_string(r, "name")?,
                holder: get_string(r, "holder")?,
                iban: get_string(r, "iban")?,
                bic: get_string(r, "bic")?,
                cheques: get_i64(r, "cheques")?,
                gross_cents: gross,
                fee_cents: fee,
                corrections_cents: corrections,
                net_cents: gross - fee - corrections,
            })
        })
        .collect()
    }
}

/// One statement line as stored: the caller adds names and formats dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawStatementLine {
    pub redeemed_at: Timestamp,
    pub cheque_code: String,
    pub service_code: String,
    pub order_id: i64,
    pub amount_cents: i64,
    pub fee_cents: i64,
}

impl Store {
    /// The statements of the venues `from..=to` (by id) of a run, each in redemption order.
    ///
    /// Each venue's lines come back as one aggregated text row: reading a million statement
    /// lines one row at a time costs a thread hand-off per row in sqlx's SQLite driver, which
    /// made exporting a large run three times slower. Memory is bounded by the venues asked for.
    pub async fn statement_blocks(
        &self,
        run: i64,
        from: VenueId,
        to: VenueId,
    ) -> Result<Vec<(VenueId, Vec<RawStatementLine>)>, StoreError> {
        let line = "CAST(r.redeemed_at AS TEXT) || ';' || c.code || ';' || r.service_code || ';' || \
                    CAST(c.order_id AS TEXT) || ';' || CAST(i.amount_cents AS TEXT) || ';' || CAST(i.fee_cents AS TEXT)";
        let filter = "FROM payment_run_items i JOIN redemptions r ON r.id = i.redemption_id JOIN cheques c ON c.id = i.cheque_id \
                      WHERE i.run_id = $1 AND i.cancelled = 0 AND i.venue_id BETWEEN $2 AND $3";
        let sql = match self.engine() {
            crate::Engine::Sqlite => format!(
                "SELECT venue_id, group_concat(line, char(10)) AS body FROM \
                 (SELECT i.venue_id AS venue_id, {line} AS line {filter} ORDER BY i.venue_id, i.redemption_id) \
                 GROUP BY venue_id ORDER BY venue_id"
            ),
            crate::Engine::Postgres => format!(
                "SELECT i.venue_id, string_agg({line}, E'\\n' ORDER BY i.redemption_id) AS body {filter} \
                 GROUP BY i.venue_id ORDER BY i.venue_id"
            ),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run)
            .bind(from.0)
            .bind(to.0)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let venue = VenueId(get_i64(r, "venue_id")?);
            let body = get_string(r, "body")?;
            let mut lines = Vec::new();
            for l in body.split('\n') {
                let f: Vec<&str> = l.split(';').collect();
                let bad = || StoreError::corrupt(format!("ligne de relevé « {l} »"));
                if f.len() != 6 {
                    return Err(bad());
                }
                let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
                lines.push(RawStatementLine {
                    redeemed_at: Timestamp::from_unix_ms(num(f[0])?),
                    cheque_code: f[1].to_string(),
                    service_code: f[2].to_string(),
                    order_id: num(f[3])?,
                    amount_cents: num(f[4])?,
                    fee_cents: num(f[5])?,
                });
            }
            out.push((venue, lines));
        }
        Ok(out)
    }
}

impl Store {
    /// Payment runs, newest first.
    pub async fn list_payment_runs(&self, limit: i64) -> Result<Vec<PaymentRun>, StoreError> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM payment_runs ORDER BY id DESC LIMIT $1")
                .bind(limit.clamp(1, 500))
                .fetch_all(self.pool())
                .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.payment_run(id).await?);
        }
        Ok(out)
    }

    /// Confirmed runs that paid this venue, newest first: (run, what the venue received).
    pub async fn venue_payments(
        &self,
        venue: VenueId,
        limit: i64,
    ) -> Result<Vec<(PaymentRun, VenueLine)>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT i.run_id FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id \
             WHERE i.venue_id = $1 AND p.status = 'confirmed' ORDER BY i.run_id DESC LIMIT $2",
        )
        .bind(venue.0)
        .bind(limit.clamp(1, 500))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let run = self.payment_run(id).await?;
            if let Some(line) = self
                .payment_run_lines(id)
                .await?
                .into_iter()
                .find(|l| l.venue_id == venue)
            {
                out.push((run, line));
            }
        }
        Ok(out)
    }

    /// Current bank details waiting for the operator's confirmation, oldest first.
    pub async fn pending_bank_accounts(&self) -> Result<Vec<BankAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BANK_COLUMNS} FROM venue_bank_accounts WHERE superseded_at IS NULL AND confirmed_at IS NULL ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(bank_account)
        .collect()
    }
}
