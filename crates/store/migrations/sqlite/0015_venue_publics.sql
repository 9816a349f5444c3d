-- What a venue's catalogue says beyond its services, in the national standard's own values
-- (pipe-separated): the publics it addresses specifically and the specific support it gives.
ALTER TABLE venues ADD COLUMN publics TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN specific_support TEXT NOT NULL DEFAULT '';
