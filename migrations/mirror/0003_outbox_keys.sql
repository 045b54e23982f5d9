-- Desktop mirror, step 3: every queued action carries the Idempotency-Key it is sent with (the
-- same on every try, so an action whose answer was lost is not applied twice) and what undoes
-- its local effect if the hub refuses it (JSON of herald_client::outbox::Undo).
ALTER TABLE outbox ADD COLUMN idempotency_key TEXT;
ALTER TABLE outbox ADD COLUMN undo TEXT;
