-- Orders go draft → confirmed → paid → issued (→ closed), or are cancelled before payment.

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('draft', 'confirmed', 'paid', 'issued', 'closed', 'cancelled'));
ALTER TABLE orders ADD COLUMN target_publics TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN cover_text TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN confirmed_at BIGINT;
ALTER TABLE orders ADD COLUMN paid_at BIGINT;
ALTER TABLE orders ADD COLUMN issued_at BIGINT;
ALTER TABLE orders ADD COLUMN cancelled_at BIGINT;
UPDATE orders SET confirmed_at = created_at, paid_at = created_at, issued_at = created_at;

-- How an order is funded (State, FEDER, own funds…), in basis points summing to 10,000.
CREATE TABLE order_funding (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    position BIGINT NOT NULL,
    source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
    basis_points BIGINT NOT NULL CHECK (basis_points > 0 AND basis_points <= 10000),
    PRIMARY KEY (order_id, position)
);

CREATE TABLE order_logos (
    order_id BIGINT PRIMARY KEY REFERENCES orders (id),
    media_type TEXT NOT NULL CHECK (media_type IN ('image/png', 'image/svg+xml')),
    bytes BYTEA NOT NULL CHECK (length(bytes) <= 524288)
);

-- What a funder declares it may spend; orders beyond it are refused. NULL: not declared.
ALTER TABLE funders ADD COLUMN budget_cents BIGINT CHECK (budget_cents >= 0);

-- Public keys that sign the QR codes of printed cheques. The secret keys never enter the
-- database: each lives in a file readable only by the server that signs with it.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY CHECK (length(kid) = 4),
    public_key BYTEA NOT NULL UNIQUE CHECK (length(public_key) = 32),
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    revoked_at BIGINT
);
