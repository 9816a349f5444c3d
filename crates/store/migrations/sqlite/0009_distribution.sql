-- Distributors (CCAS, mairies, médiathèques, France Services…) and the booklets allocated to
-- them. A booklet is in its funder's stock (distributor_id NULL) or at exactly one
-- distributor; every move is recorded.
CREATE TABLE distributors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind TEXT NOT NULL,
    commune_insee TEXT NOT NULL CHECK (length(commune_insee) = 5),
    created_at INTEGER NOT NULL
);

ALTER TABLE booklets ADD COLUMN distributor_id INTEGER REFERENCES distributors (id);
-- Set when an agent hands the booklet to a person (distribution, next step).
ALTER TABLE booklets ADD COLUMN handed_out_at INTEGER;
CREATE INDEX booklets_stock ON booklets (order_id, distributor_id, number);
-- A booklet declared lost or stolen: its unused cheques are blocked at once.
ALTER TABLE booklets ADD COLUMN blocked_at INTEGER;
ALTER TABLE booklets ADD COLUMN blocked_reason TEXT CHECK (blocked_reason IN ('lost', 'stolen'));

CREATE TABLE allocation_moves (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    -- NULL: the funder's stock.
    from_distributor_id INTEGER REFERENCES distributors (id),
    to_distributor_id INTEGER NOT NULL REFERENCES distributors (id),
    booklets INTEGER NOT NULL CHECK (booklets > 0),
    created_at INTEGER NOT NULL,
    CHECK (from_distributor_id IS NULL OR from_distributor_id <> to_distributor_id)
);
CREATE INDEX allocation_moves_order ON allocation_moves (order_id, id);
