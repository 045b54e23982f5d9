-- Sign-in for the web inbox and for devices (issue 18).

-- A user's password as an argon2id PHC string (salt and parameters inside); NULL: none set, the
-- user signs in with tokens only.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- Browser sessions. Only the SHA-256 of the cookie's 256 random bits is kept, like a token's. A
-- session unused for 30 days is over; last_used_at is refreshed at most hourly.
CREATE TABLE sessions (
    hash         BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- A device: a user token made for one named device (a desktop, a phone, a script), which its
-- user lists and revokes. Revoking deletes the token, and with it this row.
CREATE TABLE devices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE REFERENCES tokens (hash) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX devices_by_user ON devices (user_id, id);
