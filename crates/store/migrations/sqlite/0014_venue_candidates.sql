-- Places imported from files of the national venue standard: candidates, never qualified by
-- import. Each keeps its source and the source's own id (one row per pair: importing again
-- updates it), and what duplicate detection found: a link (to a venue or another source's
-- candidate) made at once above the higher threshold, or suggested to the operator above the
-- lower one.
CREATE TABLE venue_candidates (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
    source_id TEXT NOT NULL CHECK (length(source_id) BETWEEN 1 AND 100),
    pivot TEXT,
    name TEXT NOT NULL,
    commune_insee TEXT NOT NULL CHECK (length(commune_insee) = 5),
    postcode TEXT NOT NULL,
    address TEXT NOT NULL,
    -- Micro-degrees and thousandths: integers, because sqlx 0.9's Any driver declares a NULL
    -- double as float4 on PostgreSQL, which breaks a cached statement later bound with a value.
    latitude_e6 INTEGER,
    longitude_e6 INTEGER,
    phone TEXT,
    email TEXT,
    website TEXT,
    hours TEXT NOT NULL DEFAULT '',
    services TEXT NOT NULL DEFAULT '',
    modalites TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    match_verdict TEXT NOT NULL CHECK (match_verdict IN ('new', 'suggest', 'link')),
    match_venue_id INTEGER REFERENCES venues (id),
    match_candidate_id INTEGER REFERENCES venue_candidates (id),
    match_score_pm INTEGER CHECK (match_score_pm BETWEEN 0 AND 1000),
    UNIQUE (source, source_id)
);
CREATE INDEX venue_candidates_commune ON venue_candidates (commune_insee);
