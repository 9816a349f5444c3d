-- Figures read from small tables kept up to date in the same transactions as the events, so
-- that a dashboard costs the same with a million cheques as with a hundred (reading the
-- cheques took 1.2–2.2 s at a million). `passnum ledger check` recounts them from the rows.

-- Per booklet: cheques in force (redeemed or paid), their sum, the first use. Written by the
-- redemption batch and by a rollback.
ALTER TABLE booklets ADD COLUMN cheques_used INTEGER NOT NULL DEFAULT 0 CHECK (cheques_used >= 0);
ALTER TABLE booklets ADD COLUMN used_cents INTEGER NOT NULL DEFAULT 0 CHECK (used_cents >= 0);
ALTER TABLE booklets ADD COLUMN first_used_at INTEGER;
UPDATE booklets SET
    cheques_used = (SELECT COUNT(*) FROM cheques c JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL WHERE c.booklet_id = booklets.id),
    used_cents = (SELECT COALESCE(SUM(r.amount_cents), 0) FROM cheques c JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL WHERE c.booklet_id = booklets.id),
    first_used_at = (SELECT MIN(r.redeemed_at) FROM cheques c JOIN redemptions r ON r.cheque_id = c.id AND r.rolled_back_at IS NULL WHERE c.booklet_id = booklets.id);
CREATE INDEX booklets_figures ON booklets (order_id, handed_out_at);

-- Cheques used per order, venue, service, workshop format ('none' without a workshop) and
-- Paris month (YYYYMM). Filled here by the migration's Rust step (a Paris month cannot be
-- computed in SQLite's SQL), then by each redemption batch and rollback.
CREATE TABLE usage_months (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    service_code TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('none', 'individual', 'collective')),
    month INTEGER NOT NULL CHECK (month BETWEEN 200001 AND 299912),
    cheques INTEGER NOT NULL CHECK (cheques >= 0),
    cents INTEGER NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (order_id, venue_id, service_code, format, month)
);

-- Cheques paid to venues per order and venue, written when a payment run is confirmed.
CREATE TABLE usage_paid (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    cheques INTEGER NOT NULL CHECK (cheques >= 0),
    cents INTEGER NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (order_id, venue_id)
);
INSERT INTO usage_paid (order_id, venue_id, cheques, cents)
    SELECT c.order_id, i.venue_id, COUNT(*), SUM(i.amount_cents)
    FROM payment_run_items i JOIN payment_runs p ON p.id = i.run_id AND p.status = 'confirmed'
    JOIN cheques c ON c.id = i.cheque_id
    WHERE i.cancelled = 0
    GROUP BY c.order_id, i.venue_id;
