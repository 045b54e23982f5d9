-- herald-hub schema, step 5: channels and preferences (seed 001), expiry, quiet hours.

-- The channels resolved for the recipient at send time (JSON array). Rows sent before this step
-- went to the inbox and the desktop, which is what they get.
ALTER TABLE notifications ADD COLUMN channels TEXT NOT NULL DEFAULT '["inbox","desktop"]';
-- RFC 3339 UTC; the hub deletes the notification (with a journal entry) once it has passed.
ALTER TABLE notifications ADD COLUMN expires_at TEXT;
CREATE INDEX notifications_expiring ON notifications (expires_at) WHERE expires_at IS NOT NULL;

-- Switches, per role (set by admins: the defaults of everyone with the role) and per user.
-- `type` is a full type (`social.reply`) or a module (`social`).
CREATE TABLE role_preferences (
    role    TEXT NOT NULL,
    type    TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('inbox', 'desktop', 'email')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (role, type, channel)
) WITHOUT ROWID;
CREATE INDEX role_preferences_by_type ON role_preferences (type);

CREATE TABLE user_preferences (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type    TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('inbox', 'desktop', 'email')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (user_id, type, channel)
) WITHOUT ROWID;
CREATE INDEX user_preferences_by_type ON user_preferences (type);

-- Quiet hours (JSON of herald_proto::QuietHours) and do-not-disturb, kept here so every device
-- of the user honours the same ones.
CREATE TABLE user_quiet (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    quiet_hours TEXT,
    dnd_until   TEXT
);

-- "Unanswered confirm-type first" (confirm_first=true) lists these before the rest.
CREATE INDEX notifications_awaiting ON notifications (user_id, id DESC)
    WHERE buttons IS NOT NULL AND answer IS NULL;
