//! Ingested events: notifications made from another system's event, once per event id.

use rusqlite::params;

use std::collections::HashMap;

use super::notifications::{announce_delivered, insert_with};
use super::preferences::SwitchesByUser;
use super::{now_rfc3339, NewNotification, Store, StoreError};

impl Store {
    /// Whether `event_id` of `source` was ingested before.
    pub async fn was_ingested(&self, source: &str, event_id: &str) -> Result<bool, StoreError> {
        let (source, event_id) = (source.to_owned(), event_id.to_owned());
        self.with(move |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM ingested_events WHERE source = ?1 AND event_id = ?2)",
                params![source, event_id],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Records the event and delivers each `(recipient, notification)` in one transaction.
    /// Returns the new ids in order, or None if the event was ingested before (nothing is done).
    pub async fn ingest(
        &self,
        source: &str,
        event_id: &str,
        items: Vec<(i64, NewNotification)>,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        let (source, event_id) = (source.to_owned(), event_id.to_owned());
        self.write(move |tx, out| {
            let fresh = tx.execute(
                "INSERT OR IGNORE INTO ingested_events (source, event_id, received_at) VALUES (?1, ?2, ?3)",
                params![source, event_id, now_rfc3339()],
            )?;
            if fresh == 0 {
                return Ok(None);
            }
            let mut delivered = Vec::with_capacity(items.len());
            // Switches are loaded once per type, not once per recipient.
            let mut switches: HashMap<String, SwitchesByUser> = HashMap::new();
            for (user_id, new) in &items {
                let loaded = match switches.entry(new.kind.clone()) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(SwitchesByUser::load(tx, &new.kind)?),
                };
                delivered.extend(insert_with(tx, &[*user_id], new, loaded)?);
            }
            Ok(Some(announce_delivered(out, delivered).iter().map(|n| n.id).collect()))
        })
        .await
    }

    /// The ids of users by name, in order; None for a name nobody has.
    pub async fn user_ids(&self, names: Vec<String>) -> Result<Vec<Option<i64>>, StoreError> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT id FROM users WHERE name = ?1")?;
            let mut ids = Vec::with_capacity(names.len());
            for name in &names {
                let mut rows = stmt.query([name])?;
                ids.push(match rows.next()? {
                    Some(row) => Some(row.get(0)?),
                    None => None,
                });
            }
            Ok(ids)
        })
        .await
    }
}
