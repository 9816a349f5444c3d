-- The activity record (compte rendu) of a workshop, filled by its venue at the end: what
-- happened, never who came. Themes and equipment hold the Coop de la médiation numérique's
-- codes, space-separated, checked by passnum's core before they are written.
CREATE TABLE workshop_records (
    workshop_id INTEGER PRIMARY KEY REFERENCES workshops (id),
    attendance INTEGER NOT NULL CHECK (attendance BETWEEN 0 AND 200),
    duration_min INTEGER NOT NULL CHECK (duration_min BETWEEN 1 AND 600),
    themes TEXT NOT NULL CHECK (length(themes) BETWEEN 1 AND 1000),
    equipment TEXT NOT NULL DEFAULT '' CHECK (length(equipment) <= 200),
    recorded_at INTEGER NOT NULL,
    -- A page (by_staff set) or the API (a token, no staff member).
    by_staff INTEGER REFERENCES staff (id),
    via TEXT NOT NULL CHECK (via IN ('page', 'api')),
    -- How many times it was corrected (0: as first filled).
    revision INTEGER NOT NULL DEFAULT 0
);

-- Anonymous bands, one row per participant something was said about.
CREATE TABLE workshop_record_participants (
    workshop_id INTEGER NOT NULL REFERENCES workshop_records (workshop_id),
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 200),
    age_band TEXT CHECK (age_band IS NULL OR age_band IN ('moins_de_douze', 'douze_dix_huit', 'dix_huit_vingt_quatre', 'vingt_cinq_trente_neuf', 'quarante_cinquante_neuf', 'soixante_soixante_neuf', 'soixante_dix_plus')),
    autonomy TEXT CHECK (autonomy IS NULL OR autonomy IN ('entierement_accompagne', 'partiellement_autonome', 'autonome')),
    oriented INTEGER CHECK (oriented IS NULL OR oriented IN (0, 1)),
    PRIMARY KEY (workshop_id, position)
);
