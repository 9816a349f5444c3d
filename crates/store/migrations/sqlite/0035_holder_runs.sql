-- Who holds a booklet, searchable by holder; see the PostgreSQL migration of the same number.
CREATE TABLE holder_runs (
    first_id INTEGER PRIMARY KEY,
    last_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    territory_id INTEGER,
    distributor_id INTEGER,
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
