-- Venues apply on a public page, the operator reviews them, qualifications end on their date.
--
-- Two statuses for applications (waiting for the venue, refused) and one for a qualification
-- past its end date; a venue's organisation is identified by its SIRET or, for an
-- association without one, its RNA number (the standard's "pivot"). SQLite cannot alter a
-- CHECK, so the table is rebuilt (foreign keys are off during migrations and checked after).
CREATE TABLE venues_new (
    id INTEGER PRIMARY KEY,
    siret TEXT NOT NULL UNIQUE CHECK (length(siret) = 14 OR (length(siret) = 10 AND substr(siret, 1, 1) = 'W')),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    commune_insee TEXT NOT NULL CHECK (length(commune_insee) = 5),
    status TEXT NOT NULL CHECK (status IN ('applied', 'waiting', 'qualified', 'refused', 'suspended', 'expired', 'revoked')),
    qualified_until TEXT,
    created_at INTEGER NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    opening_hours TEXT NOT NULL DEFAULT '',
    accessibility TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0,
    legal_representative TEXT NOT NULL DEFAULT '',
    charter_accepted_at INTEGER
);
INSERT INTO venues_new (id, siret, name, commune_insee, status, qualified_until, created_at, address, contact, opening_hours, accessibility, updated_at)
    SELECT id, siret, name, commune_insee, status, qualified_until, created_at, address, contact, opening_hours, accessibility, updated_at FROM venues;
DROP TABLE venues;
ALTER TABLE venues_new RENAME TO venues;
CREATE INDEX venues_directory ON venues (status, commune_insee, name);
CREATE INDEX venues_directory_by_name ON venues (status, name);

-- Every status a venue went through: who decided (NULL: the daily job or an upgrade), why.
CREATE TABLE venue_status_changes (
    id INTEGER PRIMARY KEY,
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    at INTEGER NOT NULL,
    by_staff INTEGER REFERENCES staff (id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    qualified_until TEXT,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX venue_status_changes_venue ON venue_status_changes (venue_id, at);
INSERT INTO venue_status_changes (venue_id, at, by_staff, from_status, to_status, qualified_until, reason)
    SELECT id, created_at, NULL, NULL, status, qualified_until, 'Statut repris à la mise à jour (l''historique commence ici).' FROM venues;

-- The daily job's steps on a qualification's end date: once per venue and end date.
CREATE TABLE venue_qualification_steps (
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    qualified_until TEXT NOT NULL,
    step TEXT NOT NULL CHECK (step IN ('warn', 'end')),
    done_at INTEGER NOT NULL,
    PRIMARY KEY (venue_id, qualified_until, step)
);

-- Supporting documents of an application (PDF, JPEG or PNG), kept with the venue.
CREATE TABLE venue_documents (
    id INTEGER PRIMARY KEY,
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    content BLOB NOT NULL,
    uploaded_at INTEGER NOT NULL
);
CREATE INDEX venue_documents_venue ON venue_documents (venue_id);

-- The programme's charter, which an applying venue accepts; the operator edits it.
ALTER TABLE programme_settings ADD COLUMN charter_text TEXT NOT NULL DEFAULT '';
ALTER TABLE programme_settings ADD COLUMN charter_updated_at INTEGER;

-- A venue's own administrator (its applicant) invites the venue's mediators.
ALTER TABLE staff ADD COLUMN org_admin INTEGER NOT NULL DEFAULT 0 CHECK (org_admin IN (0, 1));
