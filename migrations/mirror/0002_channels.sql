-- Desktop mirror, step 2: the channels the hub resolved for each notification (JSON array; a
-- toast only for `desktop`) and its expiry time.
ALTER TABLE notifications ADD COLUMN channels TEXT NOT NULL DEFAULT '["inbox","desktop"]';
ALTER TABLE notifications ADD COLUMN expires_at TEXT;
