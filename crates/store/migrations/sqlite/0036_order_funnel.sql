-- The booklets' funnel per order; see the PostgreSQL migration of the same number.
CREATE TABLE order_funnel (
    order_id INTEGER PRIMARY KEY REFERENCES orders (id),
    bought INTEGER NOT NULL,
    handed_out INTEGER NOT NULL DEFAULT 0,
    first_used INTEGER NOT NULL DEFAULT 0
);

INSERT INTO order_funnel (order_id, bought, handed_out, first_used)
SELECT order_id, COUNT(*),
    SUM(CASE WHEN handed_out_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN cheques_used > 0 THEN 1 ELSE 0 END)
FROM booklets GROUP BY order_id;
