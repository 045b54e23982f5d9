//! The sync cursor: the `seq` of the last change applied to the mirror.

use super::{Mirror, MirrorError};

impl Mirror {
    pub fn cursor(&self) -> Result<i64, MirrorError> {
        Ok(self.conn.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }

    /// The quiet hours and do-not-disturb the hub last announced (none yet: nothing is quiet).
    pub fn do_not_disturb(&self) -> Result<herald_proto::DoNotDisturb, MirrorError> {
        let json: Option<String> =
            self.conn.query_row("SELECT do_not_disturb FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
        match json {
            None => Ok(herald_proto::DoNotDisturb::default()),
            Some(json) => serde_json::from_str(&json).map_err(|e| MirrorError::Corrupt(format!("do_not_disturb: {e}"))),
        }
    }

    pub fn set_do_not_disturb(&mut self, settings: &herald_proto::DoNotDisturb) -> Result<(), MirrorError> {
        let json = serde_json::to_string(settings).map_err(|e| MirrorError::Corrupt(e.to_string()))?;
        self.conn.execute("UPDATE sync_state SET do_not_disturb = ?1 WHERE id = 1", [json])?;
        Ok(())
    }

    /// Whether a catch-up has ever completed. Until then, arriving notifications are history.
    pub fn has_caught_up_once(&self) -> Result<bool, MirrorError> {
        Ok(self.conn.query_row("SELECT caught_up_once FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }
}

/// Why the mirror starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// The same hub lost part of its log (restored from a backup): keep queued actions (the hub
    /// ignores ids it does not know) and keep treating new arrivals as news.
    HubRestored,
    /// Another hub or another user: nothing here belongs to them, queued actions included.
    OtherAccount,
}

/// Whether this mirror was filled from the feed that just said hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Yes (or it was empty and now belongs to it).
    Same,
    /// No: it must be reset before anything is applied.
    Different,
}

impl Mirror {
    /// Forgets everything synced so the next sync starts from 0. Returns the actions dropped.
    pub fn reset(&mut self, why: Reset) -> Result<usize, MirrorError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM notifications", [])?;
        // Whatever the triggers left, an empty inbox counts nothing.
        tx.execute("DELETE FROM unread_counts", [])?;
        let dropped = match why {
            Reset::HubRestored => {
                tx.execute("UPDATE sync_state SET cursor = 0 WHERE id = 1", [])?;
                0
            }
            Reset::OtherAccount => {
                tx.execute(
                    "UPDATE sync_state SET cursor = 0, caught_up_once = 0, hub_id = NULL, user_id = NULL WHERE id = 1",
                    [],
                )?;
                tx.execute("DELETE FROM outbox", [])?
            }
        };
        tx.commit()?;
        Ok(dropped)
    }

    /// Compares the feed's identity with the mirror's; an unclaimed mirror adopts it.
    pub fn identify(&mut self, hub_id: &str, user_id: i64) -> Result<Identity, MirrorError> {
        let (known_hub, known_user): (Option<String>, Option<i64>) =
            self.conn
                .query_row("SELECT hub_id, user_id FROM sync_state WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        match (known_hub, known_user) {
            (Some(hub), Some(user)) if hub == hub_id && user == user_id => Ok(Identity::Same),
            (None, None) => {
                self.conn.execute(
                    "UPDATE sync_state SET hub_id = ?1, user_id = ?2 WHERE id = 1",
                    rusqlite::params![hub_id, user_id],
                )?;
                Ok(Identity::Same)
            }
            _ => Ok(Identity::Different),
        }
    }
}

pub(super) fn mark_caught_up(tx: &rusqlite::Transaction<'_>) -> Result<(), MirrorError> {
    tx.execute("UPDATE sync_state SET caught_up_once = 1 WHERE id = 1", [])?;
    Ok(())
}

/// Moves the cursor inside the caller's transaction, never backwards.
pub(super) fn advance(tx: &rusqlite::Transaction<'_>, cursor: i64) -> Result<(), MirrorError> {
    tx.execute("UPDATE sync_state SET cursor = max(cursor, ?1) WHERE id = 1", [cursor])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Action;

    #[test]
    fn do_not_disturb_is_kept_for_an_offline_start() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert_eq!(mirror.do_not_disturb().unwrap(), herald_proto::DoNotDisturb::default());
        let dnd = herald_proto::DoNotDisturb { quiet_hours: None, dnd_until: Some("2026-11-21T12:00:00.000Z".into()) };
        mirror.set_do_not_disturb(&dnd).unwrap();
        assert_eq!(mirror.do_not_disturb().unwrap(), dnd);
    }

    #[test]
    fn a_mirror_belongs_to_the_first_hub_and_user_it_meets() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert_eq!(mirror.identify("hub-a", 1).unwrap(), Identity::Same);
        assert_eq!(mirror.identify("hub-a", 1).unwrap(), Identity::Same);
        assert_eq!(mirror.identify("hub-a", 2).unwrap(), Identity::Different);
        assert_eq!(mirror.identify("hub-b", 1).unwrap(), Identity::Different);
        mirror.reset(Reset::OtherAccount).unwrap();
        assert_eq!(mirror.identify("hub-b", 1).unwrap(), Identity::Same);
    }

    #[test]
    fn a_restored_hub_keeps_queued_actions_another_account_does_not() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        mirror.record_action(&Action::MarkRead { ids: vec![1], read: true }).unwrap();
        assert_eq!(mirror.reset(Reset::HubRestored).unwrap(), 0);
        assert_eq!(mirror.pending_actions(10).unwrap().len(), 1);
        assert_eq!(mirror.reset(Reset::OtherAccount).unwrap(), 1);
        assert!(mirror.pending_actions(10).unwrap().is_empty());
    }
}
