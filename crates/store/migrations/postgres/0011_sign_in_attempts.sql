-- Sign-in attempts are recorded before the password is checked (so parallel requests cannot
-- slip past the limit) and keyed by account and client (so nobody can lock the owner out
-- from elsewhere). They replace login_failures, which counted failures after the check.
DROP TABLE login_failures;

CREATE TABLE sign_in_attempts (
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_attempts_account ON sign_in_attempts (email, client, at);
CREATE INDEX sign_in_attempts_client ON sign_in_attempts (client, at);
CREATE INDEX sign_in_attempts_at ON sign_in_attempts (at);

-- Housekeeping (passnum jobs run) forgets idempotency keys and sessions by age.
-- A BRIN index (a summary per block range, nearly free to keep up as keys are written in time
-- order) rather than a B-tree that every redemption would pay for.
CREATE INDEX idempotency_keys_created ON idempotency_keys USING brin (created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX password_resets_expires ON password_resets (expires_at);
