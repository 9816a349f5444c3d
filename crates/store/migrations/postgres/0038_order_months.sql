-- The programme's funnel and monthly series read one line per order and month (issue 18,
-- item 6). They summed `usage_months` (order × venue × service × format × month) and
-- `usage_paid` (order × venue): the whole programme's dashboard read as many lines as there
-- are venues times orders times months, 1.37 ms on an empty database and 3.00 ms once ten
-- million cheques had been issued at 200 venues (SQLite 0.35 → 1.33 ms), and more at national
-- scale, where thousands of venues scan for hundreds of orders.
--
-- `order_months` keeps, per order and Paris month, the cheques in force, their cents and the
-- booklets first used: the redemption batch adds to it in the same statement as the month
-- lines (on PostgreSQL), just after them, so every batch locks the two tables in the same order;
-- a rollback takes its cheque out of both. An order's batches already take turns on their
-- funder's account, so the line adds no wait. `order_funnel.paid` and `paid_cents`: what
-- confirmed payment runs paid, per order, written with `usage_paid`. `passnum ledger check`
-- recounts both from the finer lines.
CREATE TABLE order_months (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    month BIGINT NOT NULL CHECK (month BETWEEN 200001 AND 299912),
    cheques BIGINT NOT NULL CHECK (cheques >= 0),
    cents BIGINT NOT NULL CHECK (cents >= 0),
    first_uses BIGINT NOT NULL,
    PRIMARY KEY (order_id, month)
);

INSERT INTO order_months (order_id, month, cheques, cents, first_uses)
SELECT order_id, month, SUM(cheques), SUM(cents), SUM(first_uses)
FROM usage_months GROUP BY order_id, month;

ALTER TABLE order_funnel ADD COLUMN paid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_funnel ADD COLUMN paid_cents BIGINT NOT NULL DEFAULT 0;

UPDATE order_funnel SET
    paid = COALESCE((SELECT SUM(p.cheques) FROM usage_paid p WHERE p.order_id = order_funnel.order_id), 0),
    paid_cents = COALESCE((SELECT SUM(p.cents) FROM usage_paid p WHERE p.order_id = order_funnel.order_id), 0);
