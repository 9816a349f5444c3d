-- A funder's own publics for one order (issue 16); see the PostgreSQL migration of the same number.
CREATE TABLE order_publics (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    label TEXT NOT NULL CHECK (length(label) BETWEEN 3 AND 80),
    -- The label as compared (passnum_core::own_public::label_key): two publics of one order
    -- never share it, even when added by two requests at once.
    label_key TEXT NOT NULL,
    age_min INTEGER CHECK (age_min BETWEEN 0 AND 120),
    age_max INTEGER CHECK (age_max BETWEEN 0 AND 120),
    criteria TEXT NOT NULL DEFAULT '' CHECK (length(criteria) <= 500),
    target INTEGER NOT NULL DEFAULT 0 CHECK (target IN (0, 1)),
    retired_at INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    CHECK (age_min IS NULL OR age_max IS NULL OR age_min <= age_max),
    -- A retired public is no target.
    CHECK (retired_at IS NULL OR target = 0),
    UNIQUE (order_id, label_key)
);
