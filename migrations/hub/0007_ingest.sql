-- herald-hub schema, step 7: events ingested from other systems (POST /v1/ingest/{source}),
-- by their id, so a webhook delivered twice makes its notifications once.
CREATE TABLE ingested_events (
    source      TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (source, event_id)
) WITHOUT ROWID;
