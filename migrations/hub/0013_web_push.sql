-- herald-hub schema, step 13: the `web_push` channel (a browser notification raised by an open
-- web inbox, seed 001), switched per type apart from `desktop`. SQLite cannot change a CHECK,
-- so both switch tables are made again with the new channel allowed, their rows kept. Until
-- now the web inbox raised browser notifications for `desktop`: each `desktop` switch is copied
-- to `web_push`, so nobody who turned pop-ups off gets browser ones back.

CREATE TABLE role_preferences_new (
    role    TEXT NOT NULL,
    type    TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('inbox', 'desktop', 'web_push', 'email')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (role, type, channel)
) WITHOUT ROWID;
INSERT INTO role_preferences_new SELECT role, type, channel, enabled FROM role_preferences;
INSERT INTO role_preferences_new SELECT role, type, 'web_push', enabled FROM role_preferences WHERE channel = 'desktop';
DROP TABLE role_preferences;
ALTER TABLE role_preferences_new RENAME TO role_preferences;
CREATE INDEX role_preferences_by_type ON role_preferences (type);

CREATE TABLE user_preferences_new (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type    TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('inbox', 'desktop', 'web_push', 'email')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (user_id, type, channel)
) WITHOUT ROWID;
INSERT INTO user_preferences_new SELECT user_id, type, channel, enabled FROM user_preferences;
INSERT INTO user_preferences_new SELECT user_id, type, 'web_push', enabled FROM user_preferences WHERE channel = 'desktop';
DROP TABLE user_preferences;
ALTER TABLE user_preferences_new RENAME TO user_preferences;
CREATE INDEX user_preferences_by_type ON user_preferences (type);
