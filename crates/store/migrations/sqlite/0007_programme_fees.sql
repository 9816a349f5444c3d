-- The programme's operator fees: on the venue side (kept from each cheque paid, default of
-- payment runs) and on the funder side (charged on top of an order's face value).
CREATE TABLE programme_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    venue_fee_bp INTEGER NOT NULL DEFAULT 0 CHECK (venue_fee_bp BETWEEN 0 AND 2000),
    funder_fee_bp INTEGER NOT NULL DEFAULT 0 CHECK (funder_fee_bp BETWEEN 0 AND 2000),
    updated_at INTEGER
);
INSERT INTO programme_settings (id) VALUES (1);

-- The funder-side fee of an order, frozen when the order is confirmed (its invoice).
ALTER TABLE orders ADD COLUMN funder_fee_bp INTEGER NOT NULL DEFAULT 0 CHECK (funder_fee_bp >= 0);
ALTER TABLE orders ADD COLUMN funder_fee_cents INTEGER NOT NULL DEFAULT 0 CHECK (funder_fee_cents >= 0);
