-- Orders go draft → confirmed → paid → issued (→ closed), or are cancelled before payment.
-- SQLite cannot change a CHECK constraint: the table is rebuilt (the runner turns foreign key
-- enforcement off around migrations and checks every reference before committing).

CREATE TABLE orders_new (
    id INTEGER PRIMARY KEY,
    funder_id INTEGER NOT NULL REFERENCES funders (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'confirmed', 'paid', 'issued', 'closed', 'cancelled')),
    booklet_count INTEGER NOT NULL CHECK (booklet_count > 0),
    cheques_per_booklet INTEGER NOT NULL CHECK (cheques_per_booklet > 0),
    face_value_cents INTEGER NOT NULL CHECK (face_value_cents > 0),
    total_cents INTEGER NOT NULL CHECK (total_cents = booklet_count * cheques_per_booklet * face_value_cents),
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    tolerance_days INTEGER NOT NULL CHECK (tolerance_days >= 0),
    created_at INTEGER NOT NULL,
    distribution_stopped_at INTEGER,
    target_publics TEXT NOT NULL DEFAULT '',
    cover_text TEXT NOT NULL DEFAULT '',
    confirmed_at INTEGER,
    paid_at INTEGER,
    issued_at INTEGER,
    cancelled_at INTEGER,
    CHECK (valid_from <= valid_until)
);
INSERT INTO orders_new (id, funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents,
    valid_from, valid_until, tolerance_days, created_at, distribution_stopped_at, confirmed_at, paid_at, issued_at)
SELECT id, funder_id, status, booklet_count, cheques_per_booklet, face_value_cents, total_cents,
    valid_from, valid_until, tolerance_days, created_at, distribution_stopped_at, created_at, created_at, created_at
FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_funder ON orders (funder_id);

-- How an order is funded (State, FEDER, own funds…), in basis points summing to 10,000.
CREATE TABLE order_funding (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    position INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
    basis_points INTEGER NOT NULL CHECK (basis_points > 0 AND basis_points <= 10000),
    PRIMARY KEY (order_id, position)
);

CREATE TABLE order_logos (
    order_id INTEGER PRIMARY KEY REFERENCES orders (id),
    media_type TEXT NOT NULL CHECK (media_type IN ('image/png', 'image/svg+xml')),
    bytes BLOB NOT NULL CHECK (length(bytes) <= 524288)
);

-- What a funder declares it may spend; orders beyond it are refused. NULL: not declared.
ALTER TABLE funders ADD COLUMN budget_cents INTEGER CHECK (budget_cents >= 0);

-- Public keys that sign the QR codes of printed cheques. The secret keys never enter the
-- database: each lives in a file readable only by the server that signs with it.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY CHECK (length(kid) = 4),
    public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    revoked_at INTEGER
);
