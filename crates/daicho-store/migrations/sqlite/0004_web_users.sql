-- People who use the collector's web pages. Passwords are kept only as
-- argon2id hashes (PHC strings); a viewer reads, an editor also settles
-- diff items.
CREATE TABLE web_users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- A signed-in browser: SHA-256 of its random cookie, the CSRF token its
-- forms carry, and when it stops being valid.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES web_users(name) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
