-- Member territories of an order (issue 16); see the PostgreSQL migration of the same number.
-- SQLite drops a NOT NULL by rebuilding the table.
CREATE TABLE order_territories (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    deliberation_ref TEXT NOT NULL CHECK (length(deliberation_ref) BETWEEN 1 AND 100),
    deliberation_on TEXT NOT NULL CHECK (length(deliberation_on) = 10),
    convention_ref TEXT CHECK (length(convention_ref) BETWEEN 1 AND 100),
    convention_on TEXT CHECK (length(convention_on) = 10),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    CHECK ((convention_ref IS NULL) = (convention_on IS NULL)),
    UNIQUE (order_id, name)
);

CREATE TABLE territory_communes (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    territory_id INTEGER NOT NULL REFERENCES order_territories (id),
    commune_insee TEXT NOT NULL CHECK (length(commune_insee) = 5),
    PRIMARY KEY (order_id, commune_insee)
);
CREATE INDEX territory_communes_territory ON territory_communes (territory_id);

CREATE TABLE territory_documents (
    id INTEGER PRIMARY KEY,
    territory_id INTEGER NOT NULL REFERENCES order_territories (id),
    kind TEXT NOT NULL CHECK (kind IN ('deliberation', 'convention', 'autre')),
    file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    size_bytes INTEGER NOT NULL CHECK (size_bytes BETWEEN 1 AND 5242880),
    content BLOB NOT NULL,
    uploaded_at INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL
);
CREATE INDEX territory_documents_territory ON territory_documents (territory_id);

ALTER TABLE booklets ADD COLUMN territory_id INTEGER REFERENCES order_territories (id);
CREATE INDEX booklets_territory_stock ON booklets (territory_id, number)
    WHERE territory_id IS NOT NULL AND distributor_id IS NULL;

CREATE TABLE allocation_moves_new (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    -- Both NULL: the funder's stock.
    from_distributor_id INTEGER REFERENCES distributors (id),
    from_territory_id INTEGER REFERENCES order_territories (id),
    to_distributor_id INTEGER REFERENCES distributors (id),
    to_territory_id INTEGER REFERENCES order_territories (id),
    booklets INTEGER NOT NULL CHECK (booklets > 0),
    created_at INTEGER NOT NULL,
    decided_by TEXT,
    numbers TEXT,
    CHECK (from_distributor_id IS NULL OR from_distributor_id <> to_distributor_id),
    CHECK ((to_distributor_id IS NULL) <> (to_territory_id IS NULL)),
    CHECK (from_distributor_id IS NULL OR from_territory_id IS NULL)
);
INSERT INTO allocation_moves_new (id, order_id, from_distributor_id, to_distributor_id, booklets, created_at)
    SELECT id, order_id, from_distributor_id, to_distributor_id, booklets, created_at FROM allocation_moves;
DROP TABLE allocation_moves;
ALTER TABLE allocation_moves_new RENAME TO allocation_moves;
CREATE INDEX allocation_moves_order ON allocation_moves (order_id, id);

-- A sixth role, the référent territorial (see the PostgreSQL migration). SQLite cannot alter a
-- CHECK: both tables are rebuilt, as in migration 21 (keys are off during migrations).
CREATE TABLE staff_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue', 'distributor', 'observer', 'referent')),
    org_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    org_admin INTEGER NOT NULL DEFAULT 0 CHECK (org_admin IN (0, 1)),
    oidc_subject TEXT
);
INSERT INTO staff_new (id, email, display_name, password_hash, role, org_id, created_at, disabled_at, org_admin, oidc_subject)
    SELECT id, email, display_name, password_hash, role, org_id, created_at, disabled_at, org_admin, oidc_subject FROM staff;
DROP TABLE staff;
ALTER TABLE staff_new RENAME TO staff;
CREATE UNIQUE INDEX staff_oidc_subject ON staff (oidc_subject) WHERE oidc_subject IS NOT NULL;

CREATE TABLE api_tokens_new (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue', 'distributor', 'observer', 'referent')),
    actor_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
INSERT INTO api_tokens_new (id, token_hash, role, actor_id, label, created_at, revoked_at)
    SELECT id, token_hash, role, actor_id, label, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;

-- One organisation, several hats (see the PostgreSQL migration).
ALTER TABLE distributors ADD COLUMN venue_id INTEGER REFERENCES venues (id);
CREATE UNIQUE INDEX distributors_venue ON distributors (venue_id) WHERE venue_id IS NOT NULL;
