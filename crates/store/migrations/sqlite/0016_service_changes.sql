-- The référentiel's history: every service created, renamed, moved to another standard value,
-- deactivated or reactivated, and every level or category renamed, with who did it and how
-- (the shipped référentiel, loaded at first start, is where it begins) and when, in a French sentence.
CREATE TABLE service_changes (
    id INTEGER PRIMARY KEY,
    service_code TEXT NOT NULL REFERENCES services (code),
    at INTEGER NOT NULL,
    by_staff INTEGER REFERENCES staff (id),
    -- How: a page (by_staff set), the API (a token, no staff member) or a loaded file.
    via TEXT NOT NULL CHECK (via IN ('page', 'api', 'file')),
    change TEXT NOT NULL CHECK (length(change) BETWEEN 1 AND 1000)
);
CREATE INDEX service_changes_at ON service_changes (at, id);
