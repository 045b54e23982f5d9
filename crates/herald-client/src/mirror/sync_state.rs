//! The sync cursor: the `seq` of the last change applied to the mirror.

use super::{Mirror, MirrorError};

impl Mirror {
    pub fn cursor(&self) -> Result<i64, MirrorError> {
        Ok(self.conn.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Whether a catch-up has ever completed. Until then, arriving notifications are history.
    pub fn has_caught_up_once(&self) -> Result<bool, MirrorError> {
        Ok(self.conn.query_row("SELECT caught_up_once FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }
}

impl Mirror {
    /// Forgets everything synced (and actions meant for notifications that no longer exist), so
    /// the next sync starts from 0. For a hub that was reset or restored from an older backup.
    pub fn reset(&mut self) -> Result<usize, MirrorError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM notifications", [])?;
        let dropped = tx.execute("DELETE FROM outbox", [])?;
        tx.execute("UPDATE sync_state SET cursor = 0, caught_up_once = 0 WHERE id = 1", [])?;
        tx.commit()?;
        Ok(dropped)
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
