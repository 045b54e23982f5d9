-- Desktop mirror, step 9: when each account was last known to be in step with its hub (the end
-- of a catch-up, or the moment a live feed dropped), so an offline inbox can say how old it is.
ALTER TABLE accounts ADD COLUMN synced_at TEXT; -- RFC 3339 UTC; NULL: never synced
