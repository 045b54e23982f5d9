-- herald-hub schema, step 15: the daily digest, signed links in mail, per-user email modes, and
-- claims on the mail queue (a mail being sent is not taken again).

-- The queue again, with what the digest needs: a notification held for a digest becomes
-- `digested` (with the digest mail's id) when a digest run lists it, and the digest mail itself
-- is a row of mode `digest` without a notification, listing its notifications in `items` (a
-- JSON array of ids, newest first), decided in the same transaction as the run.
CREATE TABLE mail_queue_v2 (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER,
    mode            TEXT NOT NULL CHECK (mode IN ('immediate', 'unread', 'digest')),
    state           TEXT NOT NULL
                    CHECK (state IN ('queued', 'held', 'digested', 'sent', 'failed', 'skipped', 'no_address')),
    due_at          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    digest_id       INTEGER,
    items           TEXT,
    -- Taken by a mail worker until then (its send is under way); released at the outcome, or
    -- by the next start of the hub after a crash.
    claimed_until   TEXT
);
INSERT INTO mail_queue_v2 (id, user_id, notification_id, mode, state, due_at, attempts, last_error, created_at, sent_at)
    SELECT id, user_id, notification_id, mode, state, due_at, attempts, last_error, created_at, sent_at FROM mail_queue;
DROP TABLE mail_queue;
ALTER TABLE mail_queue_v2 RENAME TO mail_queue;
CREATE INDEX mail_queue_due ON mail_queue (due_at) WHERE state = 'queued';
CREATE INDEX mail_queue_held ON mail_queue (user_id) WHERE state = 'held';

-- Mail owed by one send, as one row written in the send's transaction (a send to 10,000 adds one
-- row there, not 10,000): `entries` is a JSON array of [user_id, notification_id, mode,
-- after_seconds]. The mail worker turns it into mail_queue rows right after, in a transaction of
-- its own, so the feeds do not wait for them.
CREATE TABLE mail_pending (
    id         INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    entries    TEXT NOT NULL
);

-- When each user's last digest run was (whether or not it found anything to send): the next
-- one lists what was held after it.
CREATE TABLE digest_runs (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    ran_at  TEXT NOT NULL
);

-- The key that signs links in mail (unsubscribe, answer). Made once, kept with the data: a
-- link in an old mail keeps working as long as this hub's data does.
CREATE TABLE hub_secrets (
    name   TEXT PRIMARY KEY,
    secret BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO hub_secrets (name, secret) VALUES ('mail_links', randomblob(32));

-- A user's own choice of how a type (or a whole module) reaches their mail, over types.toml's.
CREATE TABLE user_email_modes (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('immediate', 'unread', 'digest')),
    after_minutes REAL,
    PRIMARY KEY (user_id, type)
) WITHOUT ROWID;
