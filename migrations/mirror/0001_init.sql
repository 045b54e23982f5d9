-- Desktop mirror, step 1: the user's notifications as last synced, the sync cursor, and the
-- outbox of user actions not yet accepted by the hub.

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,          -- the hub's id
    type        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT,
    tag         TEXT,
    sub_tag     TEXT,
    priority    TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    sender      TEXT,
    buttons     TEXT,
    reply       TEXT,
    answer      TEXT,
    created_at  TEXT NOT NULL,                -- RFC 3339 UTC, as the hub wrote it
    read        INTEGER NOT NULL CHECK (read IN (0, 1))
);
CREATE INDEX notifications_unread ON notifications (read) WHERE read = 0;

-- One row. `cursor` is the seq of the last change applied; it is written in the same transaction
-- as the rows that change carried, so a crash can never leave them apart. `caught_up_once` turns 1
-- the first time a catch-up completes: before that, whatever arrives is history, not news.
-- `hub_id` and `user_id` say whose inbox this is; a feed from another hub or user resets it.
CREATE TABLE sync_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    cursor         INTEGER NOT NULL,
    caught_up_once INTEGER NOT NULL CHECK (caught_up_once IN (0, 1)),
    hub_id         TEXT,
    user_id        INTEGER
);
INSERT INTO sync_state (id, cursor, caught_up_once) VALUES (1, 0, 0);

-- What the user did that the hub has not yet acknowledged, oldest first. `action` is JSON of
-- herald_client::outbox::Action. Written with its local effect in one transaction.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    action     TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
