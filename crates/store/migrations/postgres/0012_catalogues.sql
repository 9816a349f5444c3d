-- Venues publish their offer: each service of a catalogue is given individually, collectively
-- or both; an empty catalogue no longer means "every service". Services of the référentiel are
-- deactivated, never deleted, and each maps to one of the nine "services" values of the
-- national venue standard (schema v1.0.2) so that exports stay valid.
ALTER TABLE venue_services ADD COLUMN format TEXT NOT NULL DEFAULT 'both'
    CHECK (format IN ('individual', 'collective', 'both'));

ALTER TABLE services ADD COLUMN active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE services ADD COLUMN standard_service TEXT NOT NULL DEFAULT '';

-- The public directory looks qualified venues up by commune, lists them by name, and finds
-- those giving a service (of a category) in a format.
CREATE INDEX venues_directory ON venues (status, commune_insee, name);
CREATE INDEX venues_directory_by_name ON venues (status, name);
CREATE INDEX venue_services_by_service ON venue_services (service_code, format, venue_id);

-- When a venue's public data last changed (the standard's date_maj).
ALTER TABLE venues ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE venues SET updated_at = created_at;

-- Every catalogue change, for the operator and the venue: who, when, what.
CREATE TABLE venue_catalogue_changes (
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    at BIGINT NOT NULL,
    by_staff BIGINT,
    summary TEXT NOT NULL
);
CREATE INDEX venue_catalogue_changes_venue ON venue_catalogue_changes (venue_id, at);

-- Until now an empty catalogue let a venue give every service. Venues that are qualified or
-- suspended with an empty catalogue keep what they could do: their catalogue now lists every
-- service of the référentiel, explicitly, for them to trim.
INSERT INTO venue_catalogue_changes (venue_id, at, by_staff, summary)
SELECT v.id, v.created_at, NULL, 'Catalogue vide rempli de tout le référentiel à la mise à jour (un catalogue vide ne vaut plus « tous les services »).'
FROM venues v
WHERE v.status IN ('qualified', 'suspended')
  AND NOT EXISTS (SELECT 1 FROM venue_services s WHERE s.venue_id = v.id);
INSERT INTO venue_services (venue_id, service_code, format)
SELECT v.id, s.code, 'both'
FROM venues v CROSS JOIN services s
WHERE v.status IN ('qualified', 'suspended')
  AND NOT EXISTS (SELECT 1 FROM venue_services x WHERE x.venue_id = v.id);
