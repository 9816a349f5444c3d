-- The end-of-validity process of each order: dated, idempotent steps.

ALTER TABLE orders ADD COLUMN distribution_stopped_at INTEGER;

CREATE TABLE order_steps (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    step TEXT NOT NULL CHECK (step IN ('alert_j30', 'stop_j15', 'expiry')),
    done_at INTEGER NOT NULL,
    -- What the funder reads about it, in French.
    summary TEXT NOT NULL,
    PRIMARY KEY (order_id, step)
);

-- The unused face value returned to the funder once an order has expired.
CREATE TABLE credit_notes (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE REFERENCES orders (id),
    expired_cheques INTEGER NOT NULL CHECK (expired_cheques >= 0),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    issued_at INTEGER NOT NULL
);
