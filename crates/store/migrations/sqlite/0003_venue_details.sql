-- What a person needs to find a venue, and the services each venue offers.
ALTER TABLE venues ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN contact TEXT NOT NULL DEFAULT '';

CREATE TABLE venue_services (
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    service_code TEXT NOT NULL REFERENCES services (code),
    PRIMARY KEY (venue_id, service_code)
);
