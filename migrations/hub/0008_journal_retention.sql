-- herald-hub schema, step 8: the change journal is trimmed after a while. `at` says when each
-- entry was written (entries from before this step have none and count as old); `journal_floor`
-- keeps, per user, the highest seq trimmed away: a client whose cursor is below it missed
-- entries that no longer exist and is sent a snapshot instead (a `resync`).
ALTER TABLE changes ADD COLUMN at TEXT;
CREATE INDEX changes_by_time ON changes (at);

CREATE TABLE journal_floor (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    floor   INTEGER NOT NULL
);
