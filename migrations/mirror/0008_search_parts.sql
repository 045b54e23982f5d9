-- Desktop mirror, step 8: the search index cut by age into parts of a bounded size, in place of one
-- whole index and a recent one (herald_client::mirror::search_parts says why). Every row is
-- indexed anew by the indexer after this step: search finds nothing for a few seconds at 1M rows.

DROP TRIGGER fts_on_delete;
DROP TRIGGER fts_on_update;
DROP TABLE notifications_fts;
DROP TABLE notifications_recent_fts;
DROP TABLE recent_search;
DROP INDEX notifications_to_index;
ALTER TABLE notifications DROP COLUMN indexed;

-- Each part is an FTS5 table `search_part_<part>`, made by the indexer, that holds every searchable
-- notification after (after_created_at, after_id) in the inbox's order and up to the next part's
-- start. `rows`: how many it holds.
CREATE TABLE search_parts (
    part             INTEGER PRIMARY KEY,
    after_created_at TEXT NOT NULL,
    after_id         INTEGER NOT NULL,
    rows             INTEGER NOT NULL
);

-- The part a row is searchable in; NULL: waiting for the indexer.
ALTER TABLE notifications ADD COLUMN search_part INTEGER;
CREATE INDEX notifications_to_index ON notifications (id) WHERE search_part IS NULL;

-- Entries a part still holds for rows deleted or changed since: a trigger cannot name a part's
-- table, so the indexer drops them before it indexes anything. Until then a search ignores them:
-- it keeps a match only if the row is still searchable in that part.
CREATE TABLE search_stale (
    id   INTEGER NOT NULL,
    part INTEGER NOT NULL
);
CREATE TRIGGER search_on_delete AFTER DELETE ON notifications WHEN old.search_part IS NOT NULL BEGIN
    INSERT INTO search_stale (id, part) VALUES (old.id, old.search_part);
END;
-- A hub's update rewrites every column, so the text and time are compared: a read-state change
-- keeps the row searchable. A changed time counts: it can move the row to another part.
CREATE TRIGGER search_on_update AFTER UPDATE OF subject, body, created_at ON notifications
    WHEN old.search_part IS NOT NULL
     AND (old.subject IS NOT new.subject OR old.body IS NOT new.body OR old.created_at IS NOT new.created_at) BEGIN
    INSERT INTO search_stale (id, part) VALUES (old.id, old.search_part);
    UPDATE notifications SET search_part = NULL WHERE id = new.id;
END;
