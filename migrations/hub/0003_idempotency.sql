-- herald-hub schema, step 3: answers to requests sent with an `Idempotency-Key`, so a client
-- that retries (a flaky network, an outbox after a crash) gets the first answer and nothing is
-- applied twice. Keys are per caller (`user:ID`, `app:NAME`, `admin`); the request's hash catches
-- a key reused for another request.

CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    response     BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (principal, key)
) WITHOUT ROWID;
