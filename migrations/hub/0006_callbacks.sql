-- herald-hub schema, step 6: answers reach the app that asked.

-- The app that sent a system notification (a personal one names its user in `sender`).
ALTER TABLE notifications ADD COLUMN sender_app TEXT;

-- POSTs to apps' callback URLs not yet accepted: written in the same transaction as the answer
-- they report, so a crash never loses one; retried with backoff until the app answers 2xx, then
-- deleted. `failed_at` is set when the hub gives up.
CREATE TABLE callbacks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    app             TEXT NOT NULL,
    url             TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    failed_at       TEXT
);
CREATE INDEX callbacks_due ON callbacks (next_attempt_at) WHERE failed_at IS NULL;
