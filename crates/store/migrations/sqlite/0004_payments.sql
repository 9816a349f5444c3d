-- Venue bank details (with their history) and payment runs.

CREATE TABLE venue_bank_accounts (
    id INTEGER PRIMARY KEY,
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    iban TEXT NOT NULL CHECK (length(iban) BETWEEN 15 AND 34),
    bic TEXT NOT NULL CHECK (length(bic) IN (8, 11)),
    holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 70),
    created_at INTEGER NOT NULL,
    -- A new account holds the venue's payments until the operator confirms it (a change of
    -- IBAN is the classic fraud route).
    confirmed_at INTEGER,
    superseded_at INTEGER
);
CREATE UNIQUE INDEX venue_bank_current ON venue_bank_accounts (venue_id) WHERE superseded_at IS NULL;

CREATE TABLE payment_runs (
    id INTEGER PRIMARY KEY,
    cutoff_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'confirmed', 'cancelled')),
    fee_basis_points INTEGER NOT NULL CHECK (fee_basis_points BETWEEN 0 AND 2000),
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    cancelled_at INTEGER
);

CREATE TABLE payment_run_items (
    run_id INTEGER NOT NULL REFERENCES payment_runs (id),
    redemption_id INTEGER NOT NULL REFERENCES redemptions (id),
    cheque_id INTEGER NOT NULL REFERENCES cheques (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    bank_account_id INTEGER NOT NULL REFERENCES venue_bank_accounts (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0 AND fee_cents < amount_cents),
    cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    PRIMARY KEY (run_id, redemption_id)
);
-- A redemption belongs to at most one run that is not cancelled: two runs started at once
-- cannot both take it.
CREATE UNIQUE INDEX payment_items_once ON payment_run_items (redemption_id) WHERE cancelled = 0;
CREATE INDEX payment_items_venue ON payment_run_items (run_id, venue_id, redemption_id);
