-- Desktop mirror, step 5: unread counts that never need a scan, indexes for the inbox's filters,
-- and full-text search that may lag behind the rows (filled in the background, so a catch-up of
-- 100,000 notifications is visible at once and searchable moments later).

-- Unread notifications per type, kept in the same transaction as the rows: new rows are counted by
-- the writer once per batch (a trigger per insert halved the catch-up rate), reads and deletes by
-- the triggers below.
CREATE TABLE unread_counts (
    type   TEXT PRIMARY KEY,
    unread INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO unread_counts (type, unread) SELECT type, count(*) FROM notifications WHERE read = 0 GROUP BY type;

-- Decrements are upserts too: a row inserted and read in the same batch is counted down before
-- the batch adds its +1, so its type may not have a row yet (it goes to -1, then back to 0).
CREATE TRIGGER unread_on_delete AFTER DELETE ON notifications WHEN old.read = 0 BEGIN
    INSERT INTO unread_counts (type, unread) VALUES (old.type, -1)
        ON CONFLICT (type) DO UPDATE SET unread = unread - 1;
END;
CREATE TRIGGER unread_on_update AFTER UPDATE OF read, type ON notifications
    WHEN old.read != new.read OR old.type != new.type BEGIN
    INSERT INTO unread_counts (type, unread) SELECT old.type, -1 WHERE old.read = 0
        ON CONFLICT (type) DO UPDATE SET unread = unread - 1;
    INSERT INTO unread_counts (type, unread) SELECT new.type, 1 WHERE new.read = 0
        ON CONFLICT (type) DO UPDATE SET unread = unread + 1;
END;

-- Ids follow time, so a newest-first walk serves the date filters without an index of their own.
CREATE INDEX notifications_by_type ON notifications (type, id DESC);
CREATE INDEX notifications_by_tag ON notifications (tag) WHERE tag IS NOT NULL;
CREATE INDEX notifications_by_sub_tag ON notifications (sub_tag) WHERE sub_tag IS NOT NULL;

-- Full-text search over subject and body. `indexed` says whether a row is in the index yet; the
-- indexer takes rows with 0. A row leaves the index only if it was in it.
ALTER TABLE notifications ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notifications_to_index ON notifications (id) WHERE indexed = 0;
CREATE VIRTUAL TABLE notifications_fts USING fts5(
    subject, body,
    content = 'notifications', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER fts_on_delete AFTER DELETE ON notifications WHEN old.indexed = 1 BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
END;
CREATE TRIGGER fts_on_update AFTER UPDATE OF subject, body ON notifications WHEN old.indexed = 1 BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
    UPDATE notifications SET indexed = 0 WHERE id = new.id;
END;
