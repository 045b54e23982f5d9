//! The outbox table: user actions waiting for the hub.

use rusqlite::params;

use super::notifications::set_read;
use super::{Mirror, MirrorError};
use crate::outbox::Action;

impl Mirror {
    /// Applies `action` to the mirror and queues it for the hub, in one transaction.
    /// Returns whether the inbox visibly changed.
    pub fn record_action(&mut self, action: &Action) -> Result<bool, MirrorError> {
        let tx = self.conn.transaction()?;
        let changed = match action {
            Action::MarkRead { ids, read } => set_read(&tx, ids, *read)?,
        };
        let json = serde_json::to_string(action).map_err(|e| MirrorError::Corrupt(e.to_string()))?;
        tx.execute("INSERT INTO outbox (action) VALUES (?1)", params![json])?;
        tx.commit()?;
        Ok(changed)
    }

    /// Up to `limit` queued actions, oldest first.
    pub fn pending_actions(&self, limit: u32) -> Result<Vec<(i64, Action)>, MirrorError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, action FROM outbox ORDER BY id LIMIT ?1")?;
        let rows = stmt.query_map([limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut actions = Vec::new();
        for row in rows {
            let (id, json) = row?;
            let action =
                serde_json::from_str(&json).map_err(|e| MirrorError::Corrupt(format!("outbox entry {id}: {e}")))?;
            actions.push((id, action));
        }
        Ok(actions)
    }

    /// Removes an action the hub has taken (or refused for good).
    pub fn acknowledge_action(&mut self, id: i64) -> Result<(), MirrorError> {
        self.conn.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::{Change, ChangeKind, Notification};

    use super::*;

    #[test]
    fn an_action_shows_at_once_and_waits_for_the_hub() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let n = Notification::plain(4, "s", "2026-01-01T00:00:00Z");
        mirror.apply(&[Change { seq: 1, kind: ChangeKind::Created { notification: n } }], 1, false).unwrap();

        let action = Action::MarkRead { ids: vec![4], read: true };
        assert!(mirror.record_action(&action).unwrap());
        assert!(mirror.get(4).unwrap().unwrap().read);
        let pending = mirror.pending_actions(10).unwrap();
        assert_eq!(pending.iter().map(|(_, a)| a.clone()).collect::<Vec<_>>(), [action]);

        mirror.acknowledge_action(pending[0].0).unwrap();
        assert!(mirror.pending_actions(10).unwrap().is_empty());
    }
}
