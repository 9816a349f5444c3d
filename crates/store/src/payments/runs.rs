//! Payment runs: preview, creation (set-based), cancellation, confirmation with its postings, and their lines.

use super::*;

/// What `passnum ledger check` proves of the runs: each run's totals, written when it was
/// prepared (migration 39), are its items' sums.
pub(crate) const CHECKS: &[(&str, &str)] = &[(
    "virement dont les totaux ne correspondent pas à ses chèques",
    "SELECT COUNT(*) FROM payment_runs p LEFT JOIN (SELECT run_id, COUNT(*) AS cheques, \
     SUM(amount_cents) AS gross, SUM(fee_cents) AS fee FROM payment_run_items GROUP BY run_id) t \
     ON t.run_id = p.id WHERE p.cheques <> COALESCE(t.cheques, 0) \
     OR p.gross_cents <> COALESCE(t.gross, 0) OR p.fee_cents <> COALESCE(t.fee, 0)",
)];

impl Store {
    fn check_cutoff(&self, cutoff: Date, now: Timestamp) -> Result<(), StoreError> {
        passnum_core::payment::check_cutoff(cutoff, paris::local_date(now))
            .map_err(|r| StoreError::refused(&r))
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
             {eligible} GROUP BY r.venue_id, v.name, b.id, b.holder, b.iban, b.bic, b.confirmed_at ORDER BY r.venue_id",
            fee = fee_sql(fee),
            eligible = eligible(self.engine()),
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
                    iban: iban_of(r)?,
                    bic: bic_of(r)?,
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
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "payment_run", || {
            self.create_payment_run_once(cutoff, fee, now)
        })
        .await
    }

    async fn create_payment_run_once(
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
                     {} AND b.confirmed_at IS NOT NULL",
                    eligible(Engine::Postgres)
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
                     {eligible} AND b.confirmed_at IS NOT NULL",
                    fee = fee_sql(fee),
                    eligible = eligible(Engine::Sqlite)
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
                        "Un autre virement est en cours de préparation : réessayez dans un instant.",
                    )
                } else {
                    e
                }
            })?
            .rows_affected();
        if taken == 0 {
            return Err(conflict(
                "nothing_to_pay",
                "Aucun chèque à payer pour cette date d'arrêté (les lieux sans coordonnées bancaires confirmées attendent).",
            ));
        }
        // The run's totals, written once (migration 39): its items never change from here on.
        // PostgreSQL sums the candidates just inserted, in their temporary table (no visibility
        // checks on fresh pages); SQLite the items, along the primary key.
        let totals = match self.engine() {
            Engine::Postgres => format!(
                "SELECT COUNT(*), COALESCE(SUM(r.amount_cents), 0), COALESCE(SUM({fee}), 0) FROM run_candidates r",
                fee = fee_sql(fee)
            ),
            Engine::Sqlite => {
                "SELECT COUNT(*), COALESCE(SUM(amount_cents), 0), COALESCE(SUM(fee_cents), 0) \
                FROM payment_run_items WHERE run_id = $1"
                    .to_string()
            }
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE payment_runs SET (cheques, gross_cents, fee_cents) = ({totals}) WHERE id = $1"
        )))
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        // Corrections waiting for a venue of this run are recovered from it when what the
        // venue is owed in the run covers them all; otherwise they wait for a later run.
        sqlx::query(
            "UPDATE payment_corrections SET run_id = $1 WHERE run_id IS NULL AND venue_id IN (\
             SELECT i.venue_id FROM payment_run_items i WHERE i.run_id = $1 AND i.cancelled = 0 GROUP BY i.venue_id \
             HAVING SUM(i.amount_cents - i.fee_cents) > (SELECT SUM(pc.amount_cents - pc.fee_cents) FROM payment_corrections pc \
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
             p.cheques, p.gross_cents AS gross, p.fee_cents AS fee, \
             CAST((SELECT COALESCE(SUM(pc.amount_cents - pc.fee_cents), 0) FROM payment_corrections pc WHERE pc.run_id = p.id) AS BIGINT) AS corrections \
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
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "payment_run", || {
            self.cancel_payment_run_once(id, now)
        })
        .await
    }

    async fn cancel_payment_run_once(
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
                "Seul un virement en préparation peut être annulé.",
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

    /// Why run `id` could not be confirmed: it is no longer a draft (or does not exist).
    async fn why_not_draft(&self, id: i64) -> StoreError {
        match self.payment_run(id).await {
            Ok(run) if run.status == RunStatus::Confirmed => conflict(
                "run_already_confirmed",
                "Ce virement est déjà confirmé : rien n'a été payé une seconde fois.",
            ),
            Ok(_) => conflict(
                "run_cancelled",
                "Ce virement a été annulé : préparez-en un nouveau.",
            ),
            Err(e) => e,
        }
    }

    /// Confirms a draft run: posts each venue's payment and the operator's fee; its cheques
    /// then read as paid. Never twice.
    pub async fn confirm_payment_run(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<PaymentRun, StoreError> {
        // Retried whole on a serialization failure (SERIALIZABLE, issue 18).
        crate::retry::retrying(&self.inner.telemetry, "payment_run", || {
            self.confirm_payment_run_once(id, now)
        })
        .await
    }

    async fn confirm_payment_run_once(
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
            return Err(self.why_not_draft(id).await);
        }
        // One pass over the run's items: the venues' payments and their notices.
        let per_venue = sqlx::query(
            "SELECT i.venue_id, v.name, COUNT(*) AS cheques, CAST(SUM(i.amount_cents) AS BIGINT) AS gross, \
             CAST(SUM(i.fee_cents) AS BIGINT) AS fee FROM payment_run_items i JOIN venues v ON v.id = i.venue_id \
             WHERE i.run_id = $1 AND i.cancelled = 0 GROUP BY i.venue_id, v.name ORDER BY i.venue_id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let corrections = sqlx::query(
            "SELECT venue_id, order_id, redemption_id, amount_cents, fee_cents FROM payment_corrections WHERE run_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let (transfers, notices) = postings_and_notices(id, &per_venue, &corrections)?;
        // A rollback and the run's preparation can pass each other at the edge of the rollback
        // window (each reads before the other commits); a rollback that comes later finds the
        // cheque in this run and is refused. Either way no rolled-back redemption is paid.
        let undone: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payment_run_items i JOIN redemptions r ON r.id = i.redemption_id \
             WHERE i.run_id = $1 AND i.cancelled = 0 AND r.rolled_back_at IS NOT NULL",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if undone > 0 {
            return Err(conflict(
                "run_has_rolled_back_cheques",
                "Un encaissement de ce virement a été annulé après sa préparation : annulez ce virement et préparez-en un nouveau.",
            ));
        }
        post(&mut tx, &self.inner.caches, self.engine(), &transfers, now).await?;
        // From the commit on, each cheque of the run reads as paid (`CHEQUE_STATE`): its run
        // item, not cancelled, in a confirmed run, is its one payout (`payment_items_cheque_once`).
        crate::usage::add_paid(&mut tx, self.engine(), id).await?;
        // Each venue paid is told, with its statement attached (by the mail worker), in the
        // run's own transaction.
        for (venue, notice) in &notices {
            crate::outbox::queue_mail_to_org(
                &mut tx,
                now,
                &format!("payment:{id}:{venue}"),
                crate::Role::Venue,
                *venue,
                notice,
            )
            .await?;
        }
        tx.commit().await?;
        let run = self.payment_run(id).await?;
        self.telemetry()
            .with(|t| t.payment_run(run.cheques, run.net_cents));
        Ok(run)
    }

    /// What each venue receives in a run, with the bank details the run was prepared with.
    pub async fn payment_run_lines(&self, id: i64) -> Result<Vec<VenueLine>, StoreError> {
        sqlx::query(
            "SELECT i.venue_id, v.name, b.holder, b.iban, b.bic, COUNT(*) AS cheques, \
             CAST(SUM(i.amount_cents) AS BIGINT) AS gross, CAST(SUM(i.fee_cents) AS BIGINT) AS fee, \
             CAST((SELECT COALESCE(SUM(pc.amount_cents - pc.fee_cents), 0) FROM payment_corrections pc WHERE pc.run_id = $1 AND pc.venue_id = i.venue_id) AS BIGINT) AS corrections \
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
                iban: iban_of(r)?,
                bic: bic_of(r)?,
                cheques: get_i64(r, "cheques")?,
                gross_cents: gross,
                fee_cents: fee,
                corrections_cents: corrections,
                net_cents: gross - fee - corrections,
            })
        })
        .collect()
    }

    /// Payment runs, newest first.
    /// Runs, newest first, a page at a time.
    pub async fn list_payment_runs(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<PaymentRun>, StoreError> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM payment_runs ORDER BY id DESC LIMIT $1 OFFSET $2")
                .bind(limit.clamp(1, 500))
                .bind(offset.max(0))
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
}

/// Each venue paid by a run, with the notice it is sent.
type Notices = Vec<(i64, passnum_core::notice::Notice)>;

/// What confirming run `id` posts (each venue's payment and the operator's fee, net of the
/// corrections it recovers, and the corrections' transfers) and the notice each venue paid is
/// sent, from the run's items grouped per venue and its corrections.
fn postings_and_notices(
    id: i64,
    per_venue: &[AnyRow],
    corrections: &[AnyRow],
) -> Result<(Vec<NewTransfer>, Notices), StoreError> {
    let mut recovered: std::collections::HashMap<i64, i64> = Default::default();
    let mut transfers = Vec::with_capacity(per_venue.len() * 2 + corrections.len());
    // Each party gives back what it received for the cheque: the venue its net, taken from
    // this run's payment; the operator its fee. The funder is refunded both.
    for c in corrections {
        let venue = get_i64(c, "venue_id")?;
        let (amount, fee) = (get_i64(c, "amount_cents")?, get_i64(c, "fee_cents")?);
        *recovered.entry(venue).or_default() += amount - fee;
        let base = NewTransfer {
            posting: Posting::correction(VenueId(venue), Money::from_cents(amount - fee)),
            order_id: Some(get_i64(c, "order_id")?),
            redemption_id: Some(get_i64(c, "redemption_id")?),
            reverses_id: None,
            payment_run_id: Some(id),
        };
        transfers.push(base);
        if fee > 0 {
            // Not tied to the order: the order's operator-fee transfers are its invoice's.
            transfers.push(NewTransfer {
                posting: Posting::fee_refund(Money::from_cents(fee)),
                order_id: None,
                ..base
            });
        }
    }
    let mut notices = Vec::with_capacity(per_venue.len());
    for r in per_venue {
        let venue = VenueId(get_i64(r, "venue_id")?);
        let (gross, fee) = (get_i64(r, "gross")?, get_i64(r, "fee")?);
        let net = gross - fee - recovered.get(&venue.0).copied().unwrap_or(0);
        notices.push((
            venue.0,
            passnum_core::notice::Notice::PaymentConfirmed {
                run: id,
                venue: venue.0,
                venue_name: get_string(r, "name")?,
                cheques: get_i64(r, "cheques")?,
                amount_cents: net,
            },
        ));
        let base = NewTransfer {
            posting: Posting::venue_payment(venue, Money::from_cents(net)),
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
    Ok((transfers, notices))
}
