-- E-mails waiting to be sent: one row per message and recipient, written in the same
-- transaction as the event it tells about (a payment run confirmed, a booking…), so that a crash
-- never loses one; a worker of `passnum serve --smtp-url` sends them, with retries.
-- `dedupe_key` makes an event produce its message once, however often a job runs.
-- `notice` holds the facts the message is composed from (JSON); it is emptied once the message
-- is sent or given up, so that password links and contacts do not stay here.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    notice TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    done_at INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_done ON outbox (done_at) WHERE status <> 'pending';
