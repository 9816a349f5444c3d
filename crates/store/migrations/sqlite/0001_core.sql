-- passnum core schema (SQLite). Money is INTEGER cents, instants are INTEGER Unix milliseconds
-- (UTC), calendar dates are TEXT 'YYYY-MM-DD' (Paris calendar days).

CREATE TABLE funders (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE venues (
    id INTEGER PRIMARY KEY,
    siret TEXT NOT NULL UNIQUE CHECK (length(siret) = 14),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    commune_insee TEXT NOT NULL CHECK (length(commune_insee) = 5),
    status TEXT NOT NULL CHECK (status IN ('applied', 'qualified', 'suspended', 'revoked')),
    qualified_until TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE services (
    code TEXT PRIMARY KEY,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
    level_name TEXT NOT NULL,
    category_code TEXT NOT NULL,
    category_name TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    funder_id INTEGER NOT NULL REFERENCES funders (id),
    status TEXT NOT NULL CHECK (status IN ('issued', 'closed')),
    booklet_count INTEGER NOT NULL CHECK (booklet_count > 0),
    cheques_per_booklet INTEGER NOT NULL CHECK (cheques_per_booklet > 0),
    face_value_cents INTEGER NOT NULL CHECK (face_value_cents > 0),
    total_cents INTEGER NOT NULL CHECK (total_cents = booklet_count * cheques_per_booklet * face_value_cents),
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    tolerance_days INTEGER NOT NULL CHECK (tolerance_days >= 0),
    created_at INTEGER NOT NULL,
    CHECK (valid_from <= valid_until)
);
CREATE INDEX orders_funder ON orders (funder_id);

CREATE TABLE order_perimeter (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL CHECK (kind IN ('commune', 'departement')),
    code TEXT NOT NULL,
    PRIMARY KEY (order_id, kind, code)
);

CREATE TABLE booklets (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    number INTEGER NOT NULL CHECK (number > 0),
    UNIQUE (order_id, number)
);

CREATE TABLE cheques (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    booklet_id INTEGER NOT NULL REFERENCES booklets (id),
    number INTEGER NOT NULL CHECK (number > 0),
    code TEXT NOT NULL UNIQUE CHECK (length(code) = 15),
    state TEXT NOT NULL CHECK (state IN ('issued', 'redeemed', 'paid', 'blocked', 'expired')),
    face_value_cents INTEGER NOT NULL CHECK (face_value_cents > 0),
    UNIQUE (booklet_id, number)
);
CREATE INDEX cheques_order ON cheques (order_id, id);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('world', 'operator', 'funder_held', 'venue_payable')),
    owner_id INTEGER NOT NULL,
    debits_cents INTEGER NOT NULL DEFAULT 0 CHECK (debits_cents >= 0),
    credits_cents INTEGER NOT NULL DEFAULT 0 CHECK (credits_cents >= 0),
    UNIQUE (kind, owner_id),
    -- Only the outside world may have a negative balance (credits - debits).
    CHECK (kind = 'world' OR credits_cents >= debits_cents)
);
INSERT INTO accounts (kind, owner_id) VALUES ('world', 0), ('operator', 0);

CREATE TABLE redemptions (
    id INTEGER PRIMARY KEY,
    cheque_id INTEGER NOT NULL REFERENCES cheques (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    service_code TEXT NOT NULL REFERENCES services (code),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    redeemed_at INTEGER NOT NULL,
    rolled_back_at INTEGER,
    CHECK (rolled_back_at IS NULL OR rolled_back_at >= redeemed_at)
);
-- A cheque is redeemed at most once at any time.
CREATE UNIQUE INDEX redemptions_one_active ON redemptions (cheque_id) WHERE rolled_back_at IS NULL;
CREATE INDEX redemptions_venue ON redemptions (venue_id, id);

CREATE TABLE transfers (
    id INTEGER PRIMARY KEY,
    debit_account_id INTEGER NOT NULL REFERENCES accounts (id),
    credit_account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    kind TEXT NOT NULL CHECK (kind IN ('prepayment', 'redemption', 'redemption_reversal', 'venue_payment', 'operator_fee', 'credit_note')),
    order_id INTEGER REFERENCES orders (id),
    redemption_id INTEGER REFERENCES redemptions (id),
    reverses_id INTEGER UNIQUE REFERENCES transfers (id),
    payment_run_id INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (debit_account_id <> credit_account_id)
);
-- One redemption transfer and at most one reversal per redemption.
CREATE UNIQUE INDEX transfers_one_per_redemption ON transfers (redemption_id, kind) WHERE redemption_id IS NOT NULL;

-- Posted entries are never changed: corrections are reversing transfers.
CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END;
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END;

-- A cheque is paid at most once, ever (payment runs fill this table).
CREATE TABLE payouts (
    id INTEGER PRIMARY KEY,
    cheque_id INTEGER NOT NULL UNIQUE REFERENCES cheques (id),
    redemption_id INTEGER NOT NULL UNIQUE REFERENCES redemptions (id),
    transfer_id INTEGER NOT NULL REFERENCES transfers (id),
    paid_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue')),
    actor_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    outcome TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (actor, idem_key)
);
