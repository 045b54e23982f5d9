-- herald-hub schema, step 11: idempotency records expire (after 24 hours, see
-- store/idempotency.rs), so the hub finds the old ones by age. Records older than this version
-- may hold a token in their answer: they are dropped now (their keys were never meant to live
-- long; a retry after an upgrade is applied as new, or refused by the writes' own checks).

DELETE FROM idempotency_keys WHERE response LIKE '%hrld_%';
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
