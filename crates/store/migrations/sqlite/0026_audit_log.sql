-- Who changed what, when and from where: one line per action of a person or a token that
-- changed something (recorded by the server after the change), append-only, each line chained
-- to the previous one by a SHA-256 hash; `audit_head` holds the last id and hash, so that
-- removing the last lines is detected too (`passnum audit verify`).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    org_id INTEGER,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    status INTEGER NOT NULL,
    client TEXT NOT NULL,
    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
);
CREATE INDEX audit_log_org ON audit_log (role, org_id, id);
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'le journal d''audit est en ajout seul'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'le journal d''audit est en ajout seul'); END;
