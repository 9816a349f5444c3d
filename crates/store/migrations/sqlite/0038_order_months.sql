-- The programme's funnel and monthly series read one line per order and month; see the
-- PostgreSQL migration of the same number.
CREATE TABLE order_months (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    month INTEGER NOT NULL CHECK (month BETWEEN 200001 AND 299912),
    cheques INTEGER NOT NULL CHECK (cheques >= 0),
    cents INTEGER NOT NULL CHECK (cents >= 0),
    first_uses INTEGER NOT NULL,
    PRIMARY KEY (order_id, month)
);

INSERT INTO order_months (order_id, month, cheques, cents, first_uses)
SELECT order_id, month, SUM(cheques), SUM(cents), SUM(first_uses)
FROM usage_months GROUP BY order_id, month;

ALTER TABLE order_funnel ADD COLUMN paid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_funnel ADD COLUMN paid_cents INTEGER NOT NULL DEFAULT 0;

UPDATE order_funnel SET
    paid = COALESCE((SELECT SUM(p.cheques) FROM usage_paid p WHERE p.order_id = order_funnel.order_id), 0),
    paid_cents = COALESCE((SELECT SUM(p.cents) FROM usage_paid p WHERE p.order_id = order_funnel.order_id), 0);
