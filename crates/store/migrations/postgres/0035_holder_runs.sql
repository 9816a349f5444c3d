-- Who holds a booklet, searchable by holder (issue 16 and issue 18 item 2).
--
-- `booklets.territory_id` and `booklets.distributor_id` stay the truth for one booklet: a
-- handout checks them on the row it updates. Searching by holder (a structure's stock, a
-- territory's stock, a structure's figures) goes through runs of consecutive booklet ids
-- with one holder, written in the same transaction as the booklets and under the order's
-- lock. Without an index on the holder columns, giving 100,000 booklets a holder updates
-- their rows in place (heap-only tuples, room left by fillfactor 50): 116–150 ms in psql
-- against 726 ms when four indexes took a new entry per row (BENCHMARKS.md, eighteenth
-- session). Booklets the funder still holds have no run.
CREATE TABLE holder_runs (
    first_id BIGINT PRIMARY KEY,
    last_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    territory_id BIGINT,
    distributor_id BIGINT,
    CHECK (last_id >= first_id),
    CHECK (territory_id IS NOT NULL OR distributor_id IS NOT NULL)
);
CREATE INDEX holder_runs_structure ON holder_runs (distributor_id, first_id);
CREATE INDEX holder_runs_territory ON holder_runs (territory_id, first_id);
CREATE INDEX holder_runs_order ON holder_runs (order_id, first_id);

-- The runs of the booklets already allocated: within one order and holder, ids that follow
-- each other keep the same difference to their rank.
INSERT INTO holder_runs (first_id, last_id, order_id, territory_id, distributor_id)
SELECT MIN(id), MAX(id), order_id, territory_id, distributor_id FROM (
    SELECT id, order_id, territory_id, distributor_id,
        id - ROW_NUMBER() OVER (PARTITION BY order_id, territory_id, distributor_id ORDER BY id) AS island
    FROM booklets WHERE territory_id IS NOT NULL OR distributor_id IS NOT NULL) b
GROUP BY order_id, territory_id, distributor_id, island;

DROP INDEX booklets_stock;
DROP INDEX booklets_territory_stock;
