-- herald-hub schema, step 14: email (seeds 001, 002). Each user's address, and a durable mail
-- queue written in the same transaction as the notification it is about.

-- Where a user's mail goes; NULL: they get none (counted as `no_address`, not an error).
ALTER TABLE users ADD COLUMN email TEXT;

-- One row per mail owed. `mode` is how the type reaches email: `immediate` (due at once),
-- `unread` (due after the type's delay, sent only if still unread then) or `digest` (held for
-- the user's daily digest). `state`: queued (to be tried at `due_at`), sent (the SMTP server
-- accepted it), failed (a permanent refusal, or the user had no address: `no_address`),
-- skipped (an `unread` mail whose notification was read, answered or deleted in time).
CREATE TABLE mail_queue (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id INTEGER,
    mode            TEXT NOT NULL CHECK (mode IN ('immediate', 'unread', 'digest')),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'held', 'sent', 'failed', 'skipped', 'no_address')),
    due_at          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX mail_queue_due ON mail_queue (due_at) WHERE state = 'queued';
CREATE INDEX mail_queue_held ON mail_queue (user_id) WHERE state = 'held';
