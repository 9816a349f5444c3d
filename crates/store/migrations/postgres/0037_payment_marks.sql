-- Where each venue's unpaid redemptions start (issue 18, item 6). A payment run chose its
-- cheques among every redemption in force and anti-joined every run item: a run of 100,000
-- cheques took 0.73 s on an empty database and 1.52 s once a million redemptions had been
-- paid (0.42 s and 1.84 s on SQLite), growing with the books.
--
-- `below_id`: every redemption of the venue with a smaller id is settled for good: rolled
-- back, or in a confirmed run. A run reads the venue's redemptions from there on through
-- `redemptions_venue (venue_id, id)`. Confirming a run moves the mark to just above the last
-- of the redemptions that follow it and are settled and made before the end of the rollback
-- window, never past the first that is not: redemptions commit out of id order, and an id
-- below one taken that long ago (24 h by default) belongs to no write still open.
-- `passnum ledger check` finds a redemption in force below its venue's mark that no
-- confirmed run paid. A venue without a row starts at 0: the table starts empty, and each
-- venue's first confirmed run after the upgrade sets its mark.
CREATE TABLE venue_payment_marks (
    venue_id BIGINT PRIMARY KEY REFERENCES venues (id),
    below_id BIGINT NOT NULL
);
