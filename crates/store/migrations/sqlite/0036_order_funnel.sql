-- The booklets' funnel without counting every booklet; see the PostgreSQL migration of the
-- same number.
CREATE TABLE order_funnel (
    order_id INTEGER PRIMARY KEY REFERENCES orders (id),
    bought INTEGER NOT NULL,
    handed_out INTEGER NOT NULL DEFAULT 0
);

INSERT INTO order_funnel (order_id, bought, handed_out)
SELECT order_id, COUNT(*), SUM(CASE WHEN handed_out_at IS NOT NULL THEN 1 ELSE 0 END)
FROM booklets GROUP BY order_id;

ALTER TABLE usage_months ADD COLUMN first_uses INTEGER NOT NULL DEFAULT 0;

UPDATE usage_months SET first_uses = (
    SELECT COUNT(*) FROM booklets b WHERE b.order_id = usage_months.order_id AND b.cheques_used > 0)
WHERE (month, venue_id, service_code, format) = (
    SELECT u.month, u.venue_id, u.service_code, u.format FROM usage_months u
    WHERE u.order_id = usage_months.order_id
    ORDER BY u.month, u.venue_id, u.service_code, u.format LIMIT 1);
