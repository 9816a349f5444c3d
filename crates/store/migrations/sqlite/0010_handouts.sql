-- Distributor agents, handouts with their needs diagnostic, and what orientation shows.

-- A fourth role, "distributor" (agents of a distributing structure; org_id is the
-- distributor). SQLite cannot alter a CHECK, so both tables are rebuilt (the migration
-- runner turns foreign keys off around migrations and checks them afterwards).
CREATE TABLE staff_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue', 'distributor')),
    org_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);
INSERT INTO staff_new (id, email, display_name, password_hash, role, org_id, created_at, disabled_at)
    SELECT id, email, display_name, password_hash, role, org_id, created_at, disabled_at FROM staff;
DROP TABLE staff;
ALTER TABLE staff_new RENAME TO staff;

CREATE TABLE api_tokens_new (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue', 'distributor')),
    actor_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
INSERT INTO api_tokens_new (id, token_hash, role, actor_id, label, created_at, revoked_at)
    SELECT id, token_hash, role, actor_id, label, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;

-- The funder's distribution rules, per order.
ALTER TABLE orders ADD COLUMN target_only INTEGER NOT NULL DEFAULT 0 CHECK (target_only IN (0, 1));
ALTER TABLE orders ADD COLUMN one_per_household INTEGER NOT NULL DEFAULT 0 CHECK (one_per_household IN (0, 1));

-- What a person needs to choose a venue.
ALTER TABLE venues ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN accessibility TEXT NOT NULL DEFAULT '';

-- Servers sharing a database must hash households with the same secret; the database keeps
-- a fingerprint of it (never the secret) so that a server with another one refuses to start.
ALTER TABLE programme_settings ADD COLUMN household_key_fingerprint TEXT;

-- One row per booklet handed out. Nothing here names the person: the commune, the priority
-- publics and the diagnostic answers, and, when the order limits booklets per household, a
-- keyed hash (HMAC-SHA-256 with the instance's household secret) of surname, birth date and
-- postcode.
CREATE TABLE handouts (
    id INTEGER PRIMARY KEY,
    booklet_id INTEGER NOT NULL UNIQUE REFERENCES booklets (id),
    order_id INTEGER NOT NULL REFERENCES orders (id),
    distributor_id INTEGER NOT NULL REFERENCES distributors (id),
    staff_id INTEGER REFERENCES staff (id),
    commune_insee TEXT NOT NULL CHECK (length(commune_insee) = 5),
    publics TEXT NOT NULL,
    needs TEXT NOT NULL,
    equipment TEXT NOT NULL,
    level TEXT NOT NULL,
    language_need INTEGER NOT NULL CHECK (language_need IN (0, 1)),
    disability_need INTEGER NOT NULL CHECK (disability_need IN (0, 1)),
    override_reason TEXT CHECK (override_reason IS NULL OR length(override_reason) BETWEEN 3 AND 500),
    household_hash TEXT CHECK (household_hash IS NULL OR length(household_hash) = 64),
    handed_out_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX handouts_one_per_household ON handouts (order_id, household_hash)
    WHERE household_hash IS NOT NULL;
CREATE INDEX handouts_distributor ON handouts (distributor_id, handed_out_at);
CREATE INDEX handouts_order ON handouts (order_id, handed_out_at);
