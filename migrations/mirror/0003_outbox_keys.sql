-- Desktop mirror, step 3: every queued action carries the Idempotency-Key it is sent with (the
-- same on every try, so an action whose answer was lost is not applied twice) and what undoes
-- its local effect if the hub refuses it (JSON of herald_client::outbox::Undo).
ALTER TABLE outbox ADD COLUMN idempotency_key TEXT;
ALTER TABLE outbox ADD COLUMN undo TEXT;
-- Actions queued before this step get a random key too (a key derived from the row id would be
-- the same on two devices of one user, and the hub would take the second for a reused key).
UPDATE outbox SET idempotency_key = lower(hex(randomblob(16))) WHERE idempotency_key IS NULL;
