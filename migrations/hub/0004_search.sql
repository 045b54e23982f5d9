-- herald-hub schema, step 4: history search (seed 003's im.notify.history.search) and the
-- indexes the list filters use.

CREATE VIRTUAL TABLE notifications_fts USING fts5(
    subject, body,
    content = 'notifications', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO notifications_fts (rowid, subject, body) SELECT id, subject, body FROM notifications;

CREATE TRIGGER notifications_fts_insert AFTER INSERT ON notifications BEGIN
    INSERT INTO notifications_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;
CREATE TRIGGER notifications_fts_delete AFTER DELETE ON notifications BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
END;
CREATE TRIGGER notifications_fts_update AFTER UPDATE OF subject, body ON notifications BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);
    INSERT INTO notifications_fts (rowid, subject, body) VALUES (new.id, new.subject, new.body);
END;

CREATE INDEX notifications_by_type ON notifications (user_id, type, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id, read, id DESC);
