-- Desktop mirror, step 6: several accounts (several hubs, or several users of one hub) in one
-- mirror, each with its own cursor, identity and do-not-disturb.
--
-- A notification's id in the mirror is the hub's id for account 1 and the hub's id plus
-- (account - 1) << 40 for the others (herald_client::mirror::ids), so two hubs' ids never collide,
-- every existing row and queued action keeps its id, and one account's rows are one range of the
-- primary key.

-- AUTOINCREMENT: an id is never given twice, so a removed account's mirror ids (held by a window,
-- a script or a still-running engine) can never point at another hub's notifications.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT CHECK (id BETWEEN 1 AND 8192),
    name           TEXT NOT NULL UNIQUE,
    -- Base URL of the hub; NULL until set (the account carried over from a one-account mirror
    -- gets it from HERALD_SERVER or the config file).
    server         TEXT,
    hub_id         TEXT,
    user_id        INTEGER,
    cursor         INTEGER NOT NULL DEFAULT 0,
    caught_up_once INTEGER NOT NULL DEFAULT 0 CHECK (caught_up_once IN (0, 1)),
    do_not_disturb TEXT
);
INSERT INTO accounts (id, name, hub_id, user_id, cursor, caught_up_once, do_not_disturb)
    SELECT 1, 'default', hub_id, user_id, cursor, caught_up_once, do_not_disturb FROM sync_state;
DROP TABLE sync_state;

-- Queued actions belong to the account whose hub is told.
ALTER TABLE outbox ADD COLUMN account INTEGER NOT NULL DEFAULT 1;

-- Unread counts per account and type.
DROP TRIGGER unread_on_delete;
DROP TRIGGER unread_on_update;
DROP TABLE unread_counts;
CREATE TABLE unread_counts (
    account INTEGER NOT NULL,
    type    TEXT NOT NULL,
    unread  INTEGER NOT NULL,
    PRIMARY KEY (account, type)
) WITHOUT ROWID;
INSERT INTO unread_counts (account, type, unread)
    SELECT (id >> 40) + 1, type, count(*) FROM notifications WHERE read = 0 GROUP BY (id >> 40) + 1, type;
CREATE TRIGGER unread_on_delete AFTER DELETE ON notifications WHEN old.read = 0 BEGIN
    INSERT INTO unread_counts (account, type, unread) VALUES ((old.id >> 40) + 1, old.type, -1)
        ON CONFLICT (account, type) DO UPDATE SET unread = unread - 1;
END;
CREATE TRIGGER unread_on_update AFTER UPDATE OF read, type ON notifications
    WHEN old.read != new.read OR old.type != new.type BEGIN
    INSERT INTO unread_counts (account, type, unread) SELECT (old.id >> 40) + 1, old.type, -1 WHERE old.read = 0
        ON CONFLICT (account, type) DO UPDATE SET unread = unread - 1;
    INSERT INTO unread_counts (account, type, unread) SELECT (new.id >> 40) + 1, new.type, 1 WHERE new.read = 0
        ON CONFLICT (account, type) DO UPDATE SET unread = unread + 1;
END;

-- The inbox of several hubs is one list in the order things happened: newest first by the
-- hub's time, ties by id (every index ends with the rowid, which is the id).
DROP INDEX notifications_unread;
DROP INDEX notifications_by_type;
CREATE INDEX notifications_newest ON notifications (created_at);
CREATE INDEX notifications_unread ON notifications (created_at) WHERE read = 0;
CREATE INDEX notifications_by_type ON notifications (type, created_at);
