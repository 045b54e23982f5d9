-- Desktop mirror, step 7: a second, small search index over the newest notifications, asked
-- before the whole one (herald_client::mirror::recent_index says why).
--
-- Contentless with contentless_delete, so a row leaves it by id alone, whether or not it is in it.
CREATE VIRTUAL TABLE notifications_recent_fts USING fts5(
    subject, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- What it holds: every searchable notification newer than (after_created_at, after_id) in the
-- inbox's order. `added`: rows put in since it was last built. No row yet: the indexer builds it
-- in its next batch (so an upgraded mirror gets one too).
CREATE TABLE recent_search (
    only             INTEGER PRIMARY KEY CHECK (only = 1),
    after_created_at TEXT NOT NULL,
    after_id         INTEGER NOT NULL,
    added            INTEGER NOT NULL
);

-- A searchable row that is deleted or changed leaves both indexes; a changed row is indexed anew.
-- A changed time counts as a change: it can move the row into or out of the newest. A hub's update
-- rewrites every column, so the text and time are compared: a read-state change keeps the row
-- searchable.
DROP TRIGGER fts_on_delete;
DROP TRIGGER fts_on_update;
CREATE TRIGGER fts_on_delete AFTER DELETE ON notifications WHEN old.indexed = 1 BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
    DELETE FROM notifications_recent_fts WHERE rowid = old.id;
END;
CREATE TRIGGER fts_on_update AFTER UPDATE OF subject, body, created_at ON notifications
    WHEN old.indexed = 1
     AND (old.subject IS NOT new.subject OR old.body IS NOT new.body OR old.created_at IS NOT new.created_at) BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
    DELETE FROM notifications_recent_fts WHERE rowid = old.id;
    UPDATE notifications SET indexed = 0 WHERE id = new.id;
END;
