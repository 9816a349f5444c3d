-- Perimeters by intercommunalité (EPCI, by SIREN) and by région as well as by commune and
-- département (issue 16; see the PostgreSQL migration of the same number). SQLite changes a
-- CHECK by rebuilding the table.
CREATE TABLE order_perimeter_new (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL CHECK (kind IN ('commune', 'epci', 'departement', 'region')),
    code TEXT NOT NULL,
    PRIMARY KEY (order_id, kind, code)
);
INSERT INTO order_perimeter_new (order_id, kind, code) SELECT order_id, kind, code FROM order_perimeter;
DROP TABLE order_perimeter;
ALTER TABLE order_perimeter_new RENAME TO order_perimeter;
