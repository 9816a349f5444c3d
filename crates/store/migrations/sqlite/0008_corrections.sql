-- Corrections of confirmed payment runs. A confirmed run is never changed: a cheque found
-- to have been paid wrongly (a fraud, a workshop that did not take place) is recovered from
-- the venue's next run and refunded to its funder, with a 'correction' transfer.

-- SQLite cannot change the CHECK listing transfer kinds: the table is rebuilt with its index
-- and its append-only triggers (the runner turns foreign keys off around migrations).
CREATE TABLE transfers_new (
    id INTEGER PRIMARY KEY,
    debit_account_id INTEGER NOT NULL REFERENCES accounts (id),
    credit_account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    kind TEXT NOT NULL CHECK (kind IN ('prepayment', 'redemption', 'redemption_reversal', 'venue_payment', 'operator_fee', 'credit_note', 'correction')),
    order_id INTEGER REFERENCES orders (id),
    redemption_id INTEGER REFERENCES redemptions (id),
    reverses_id INTEGER UNIQUE REFERENCES transfers (id),
    payment_run_id INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (debit_account_id <> credit_account_id)
);
INSERT INTO transfers_new SELECT id, debit_account_id, credit_account_id, amount_cents, kind, order_id,
    redemption_id, reverses_id, payment_run_id, created_at FROM transfers;
DROP TABLE transfers;
ALTER TABLE transfers_new RENAME TO transfers;
CREATE UNIQUE INDEX transfers_one_per_redemption ON transfers (redemption_id, kind) WHERE redemption_id IS NOT NULL;
CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END;
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END;

CREATE TABLE payment_corrections (
    id INTEGER PRIMARY KEY,
    -- A paid redemption is corrected at most once.
    redemption_id INTEGER NOT NULL UNIQUE REFERENCES redemptions (id),
    cheque_id INTEGER NOT NULL REFERENCES cheques (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    funder_id INTEGER NOT NULL REFERENCES funders (id),
    order_id INTEGER NOT NULL REFERENCES orders (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 3 AND 500),
    -- The confirmed run that paid the cheque.
    corrected_run_id INTEGER NOT NULL REFERENCES payment_runs (id),
    -- The later run that recovers it; NULL while it waits.
    run_id INTEGER REFERENCES payment_runs (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX payment_corrections_waiting ON payment_corrections (venue_id) WHERE run_id IS NULL;
CREATE INDEX payment_corrections_run ON payment_corrections (run_id);
