-- Observers: the State's programme team or a territorial hub that reads the figures of the
-- funders it is granted, and nothing else (no cheque code, no household, no bank detail).
CREATE TABLE observers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind TEXT NOT NULL CHECK (kind IN ('etat', 'hub', 'autre')),
    created_at INTEGER NOT NULL
);
CREATE TABLE observer_funders (
    observer_id INTEGER NOT NULL REFERENCES observers (id),
    funder_id INTEGER NOT NULL REFERENCES funders (id),
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (observer_id, funder_id)
);

-- A fifth role. SQLite cannot alter a CHECK: both tables are rebuilt, as in migration 10.
CREATE TABLE staff_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue', 'distributor', 'observer')),
    org_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    org_admin INTEGER NOT NULL DEFAULT 0 CHECK (org_admin IN (0, 1))
);
INSERT INTO staff_new (id, email, display_name, password_hash, role, org_id, created_at, disabled_at, org_admin)
    SELECT id, email, display_name, password_hash, role, org_id, created_at, disabled_at, org_admin FROM staff;
DROP TABLE staff;
ALTER TABLE staff_new RENAME TO staff;

CREATE TABLE api_tokens_new (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('operator', 'funder', 'venue', 'distributor', 'observer')),
    actor_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
INSERT INTO api_tokens_new (id, token_hash, role, actor_id, label, created_at, revoked_at)
    SELECT id, token_hash, role, actor_id, label, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
