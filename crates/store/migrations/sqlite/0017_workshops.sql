-- Workshops a venue publishes, the places booked in them for a booklet (no account, no name),
-- and "one cheque per booklet per workshop" held by the database itself.
CREATE TABLE workshops (
    id INTEGER PRIMARY KEY,
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    -- The first workshop of its series (itself included); NULL for a one-off.
    series_id INTEGER REFERENCES workshops (id),
    format TEXT NOT NULL CHECK (format IN ('individual', 'collective')),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    level TEXT NOT NULL CHECK (level IN ('beginner', 'intermediate', 'advanced')),
    starts_at INTEGER NOT NULL,
    duration_min INTEGER NOT NULL CHECK (duration_min BETWEEN 15 AND 480),
    place_kind TEXT NOT NULL CHECK (place_kind IN ('venue', 'elsewhere', 'remote')),
    place_commune TEXT CHECK (place_commune IS NULL OR length(place_commune) = 5),
    place_detail TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 200),
    -- Places taken by bookings and by people scanned without one: the conditional increment
    -- (`seats_taken < capacity`) is what makes the last place go to one booking only.
    seats_taken INTEGER NOT NULL DEFAULT 0 CHECK (seats_taken >= 0 AND seats_taken <= capacity),
    mediator TEXT NOT NULL DEFAULT '',
    accessibility TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- iCalendar SEQUENCE: moved on every change a calendar must see.
    revision INTEGER NOT NULL DEFAULT 0,
    cancelled_at INTEGER,
    cancel_reason TEXT,
    CHECK ((cancelled_at IS NULL) = (cancel_reason IS NULL))
);
CREATE INDEX workshops_venue_start ON workshops (venue_id, starts_at);
CREATE INDEX workshops_start ON workshops (starts_at) WHERE cancelled_at IS NULL;

CREATE TABLE workshop_services (
    workshop_id INTEGER NOT NULL REFERENCES workshops (id),
    service_code TEXT NOT NULL REFERENCES services (code),
    PRIMARY KEY (workshop_id, service_code)
);

-- The short code printed on a booklet's cover: with the booklet's reference (order and
-- number), it books a place without an account. Not unique by itself (8 characters among 31
-- would collide across a million booklets); unguessable with the reference.
ALTER TABLE booklets ADD COLUMN booking_code TEXT;
UPDATE booklets SET booking_code = substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1) || substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + abs(random()) % 31, 1);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    workshop_id INTEGER NOT NULL REFERENCES workshops (id),
    booklet_id INTEGER NOT NULL REFERENCES booklets (id),
    status TEXT NOT NULL CHECK (status IN ('booked', 'waiting', 'cancelled', 'attended')),
    booked_by TEXT NOT NULL CHECK (booked_by IN ('person', 'agent', 'venue')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- For reminders only, only with consent, erased after the workshop.
    contact TEXT,
    consent_at INTEGER,
    redemption_id INTEGER REFERENCES redemptions (id),
    cancel_reason TEXT,
    CHECK (contact IS NULL OR consent_at IS NOT NULL)
);
CREATE UNIQUE INDEX bookings_one_per_booklet ON bookings (workshop_id, booklet_id) WHERE status <> 'cancelled';
CREATE INDEX bookings_booklet ON bookings (booklet_id, status);
CREATE INDEX bookings_waiting ON bookings (workshop_id, id) WHERE status = 'waiting';

-- A redemption for a workshop names it and the cheque's booklet: one cheque per booklet per
-- workshop, whatever the servers.
ALTER TABLE redemptions ADD COLUMN workshop_id INTEGER REFERENCES workshops (id);
ALTER TABLE redemptions ADD COLUMN booklet_id INTEGER REFERENCES booklets (id);
CREATE UNIQUE INDEX redemptions_one_per_workshop ON redemptions (workshop_id, booklet_id)
    WHERE workshop_id IS NOT NULL AND rolled_back_at IS NULL;
-- A funder's figures: a booklet's first workshop.
CREATE INDEX redemptions_booklet ON redemptions (booklet_id, redeemed_at) WHERE booklet_id IS NOT NULL;

-- Whether every scan must name a workshop (programmes where venues publish them all).
ALTER TABLE programme_settings ADD COLUMN workshop_required INTEGER NOT NULL DEFAULT 0 CHECK (workshop_required IN (0, 1));
