-- herald-hub schema, step 1: users, hashed tokens, one notification row per recipient, and the
-- per-user change log the feed replays.

-- Who this hub is. Clients keep it with their mirror: a mirror filled by another hub (or for
-- another user) is never mixed with this one's changes.
CREATE TABLE hub_identity (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    hub_id TEXT NOT NULL
);
INSERT INTO hub_identity (id, hub_id) VALUES (1, lower(hex(randomblob(16))));

-- AUTOINCREMENT here and below: an id is never given out twice, even after the newest row was
-- deleted, so a queued action or a kept idempotent answer can never hit someone else's row.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Only the SHA-256 of a bearer token is kept; a stolen database holds no usable credential.
-- Three kinds: a user's (their own inbox, personal sends), an app's (system sends, live events,
-- ingest; an optional callback URL for answers), an admin's (manages the hub).
CREATE TABLE tokens (
    hash         BLOB PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'app', 'admin')),
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    app          TEXT,
    callback_url TEXT,
    created_at   TEXT NOT NULL,
    CHECK ((kind = 'user') = (user_id IS NOT NULL)),
    CHECK ((kind = 'app') = (app IS NOT NULL))
) WITHOUT ROWID;

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT,
    tag         TEXT,
    sub_tag     TEXT,
    priority    TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    object_type TEXT,
    object_id   TEXT,
    sender      TEXT,
    buttons     TEXT,                       -- JSON [{value, label, style}]: a confirm-type notification
    reply       TEXT,                       -- JSON {placeholder}: a text answer is allowed
    answer      TEXT,                       -- JSON {value?, text?, at}: the user's answer, once
    read        INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    created_at  TEXT NOT NULL
);
CREATE INDEX notifications_by_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_by_tag ON notifications (user_id, tag) WHERE tag IS NOT NULL;

-- Append-only. `seq` rises across all users (AUTOINCREMENT never reuses a value), so it also
-- rises within each user's log. `payload` is the JSON of herald_proto::ChangeKind.
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    payload TEXT NOT NULL
);
CREATE INDEX changes_by_user ON changes (user_id, seq);
