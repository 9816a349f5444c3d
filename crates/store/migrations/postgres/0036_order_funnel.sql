-- The booklets' funnel without counting every booklet (issue 18, item 6). The whole
-- programme's dashboard counted booklets bought, handed out and first used over every booklet
-- (79 ms for ten million cheques on PostgreSQL, 148 ms on SQLite, growing with the books).
--
-- `order_funnel` keeps, per order, the booklets bought (issuance) and handed out (handouts),
-- in the same transactions. The booklets first used are counted on the month lines a
-- redemption batch already writes last (`usage_months.first_uses`, +1 on the line of a
-- booklet's first cheque, -1 on the line of a rollback that leaves it with none): a per-order
-- row there would be one more row every batch of the order updates while it holds the
-- funder's account. Only their sum per order means something. Booklets given to a territory
-- or a structure are summed from `holder_runs`. `passnum ledger check` recounts both from
-- the booklets.
CREATE TABLE order_funnel (
    order_id BIGINT PRIMARY KEY REFERENCES orders (id),
    bought BIGINT NOT NULL,
    handed_out BIGINT NOT NULL DEFAULT 0
);

INSERT INTO order_funnel (order_id, bought, handed_out)
SELECT order_id, COUNT(*), SUM(CASE WHEN handed_out_at IS NOT NULL THEN 1 ELSE 0 END)
FROM booklets GROUP BY order_id;

ALTER TABLE usage_months ADD COLUMN first_uses BIGINT NOT NULL DEFAULT 0;

-- The booklets already used, counted on one line of their order (its first by key).
UPDATE usage_months SET first_uses = (
    SELECT COUNT(*) FROM booklets b WHERE b.order_id = usage_months.order_id AND b.cheques_used > 0)
WHERE (month, venue_id, service_code, format) = (
    SELECT u.month, u.venue_id, u.service_code, u.format FROM usage_months u
    WHERE u.order_id = usage_months.order_id
    ORDER BY u.month, u.venue_id, u.service_code, u.format LIMIT 1);
