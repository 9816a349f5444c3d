-- An observer may also be granted a territory (commune, EPCI, département or région): it
-- then reads the figures of every order whose perimeter lies inside it.
CREATE TABLE observer_territories (
    observer_id BIGINT NOT NULL REFERENCES observers (id),
    level TEXT NOT NULL CHECK (level IN ('commune', 'epci', 'departement', 'region')),
    code TEXT NOT NULL CHECK (length(code) BETWEEN 2 AND 9),
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (observer_id, level, code)
);

-- The open-data export reads the few transfers of each confirmed payment run, and confirming
-- a run joins its venues' transfers: both find them by run.
CREATE INDEX transfers_by_run ON transfers (payment_run_id) WHERE payment_run_id IS NOT NULL;
