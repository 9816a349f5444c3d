-- Each run's totals written once, when it is prepared; see the PostgreSQL migration of the
-- same number.
ALTER TABLE payment_runs ADD COLUMN cheques INTEGER NOT NULL DEFAULT 0 CHECK (cheques >= 0);
ALTER TABLE payment_runs ADD COLUMN gross_cents INTEGER NOT NULL DEFAULT 0 CHECK (gross_cents >= 0);
ALTER TABLE payment_runs ADD COLUMN fee_cents INTEGER NOT NULL DEFAULT 0 CHECK (fee_cents >= 0);

UPDATE payment_runs SET
    cheques = (SELECT COUNT(*) FROM payment_run_items i WHERE i.run_id = payment_runs.id),
    gross_cents = (SELECT COALESCE(SUM(i.amount_cents), 0) FROM payment_run_items i WHERE i.run_id = payment_runs.id),
    fee_cents = (SELECT COALESCE(SUM(i.fee_cents), 0) FROM payment_run_items i WHERE i.run_id = payment_runs.id);
