-- Where each venue's unpaid redemptions start; see the PostgreSQL migration of the same
-- number.
CREATE TABLE venue_payment_marks (
    venue_id INTEGER PRIMARY KEY REFERENCES venues (id),
    below_id INTEGER NOT NULL
);
