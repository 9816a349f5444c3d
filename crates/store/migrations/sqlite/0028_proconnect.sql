-- ProConnect (OpenID Connect) sign-in. An account is linked to the provider's subject once, by
-- an invitation (a password link used through ProConnect, the e-mail checked), then found by it.
ALTER TABLE staff ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX staff_oidc_subject ON staff (oidc_subject) WHERE oidc_subject IS NOT NULL;
-- A sign-in under way: what the callback must find again (the state is only stored hashed; the
-- browser holds it in a cookie). Used once, kept 10 minutes at most.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    invitation_hash TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
-- The ID token of a session opened through ProConnect, for signing out at the provider too.
ALTER TABLE sessions ADD COLUMN id_token TEXT;
