//! The per-user change log: appended by every write, replayed by the feed.

use herald_proto::{Change, ChangeKind};
use rusqlite::{params, Connection};

use super::{Store, StoreError};

/// Appends `kind` to `user_id`'s log inside `tx` and returns the entry with its new `seq`.
pub(super) fn append(tx: &Connection, user_id: i64, kind: ChangeKind) -> Result<Change, StoreError> {
    let payload = serde_json::to_string(&kind).map_err(|e| StoreError::Task(e.to_string()))?;
    tx.prepare_cached("INSERT INTO changes (user_id, payload, at) VALUES (?1, ?2, ?3)")?.execute(params![
        user_id,
        payload,
        super::now_rfc3339()
    ])?;
    Ok(Change { seq: tx.last_insert_rowid(), kind })
}

impl Store {
    /// The last `seq` in `user_id`'s log, 0 when it is empty.
    /// `(unread, latest)`: how many of `user_id`'s notifications are unread, and the last `seq`
    /// of their log, read together, so a client that lists the inbox now and opens the feed
    /// from `latest` misses nothing and gets nothing twice.
    pub async fn inbox_summary(&self, user_id: i64) -> Result<(i64, i64), StoreError> {
        self.read(None, move |conn| {
            let tx = conn.transaction()?;
            let unread: i64 =
                tx.query_row("SELECT count(*) FROM notifications WHERE user_id = ?1 AND read = 0", [user_id], |r| {
                    r.get(0)
                })?;
            let latest: i64 =
                tx.query_row("SELECT coalesce(max(seq), 0) FROM changes WHERE user_id = ?1", [user_id], |r| r.get(0))?;
            Ok((unread, latest))
        })
        .await
    }

    pub async fn latest_seq(&self, user_id: i64) -> Result<i64, StoreError> {
        Ok(self.journal_bounds(user_id).await?.1)
    }

    /// `(floor, latest)` of `user_id`'s log: entries up to `floor` were trimmed away; `latest`
    /// is the last `seq` given out (0 for an empty log).
    pub async fn journal_bounds(&self, user_id: i64) -> Result<(i64, i64), StoreError> {
        self.with(move |conn| {
            let floor = journal_floor(conn, user_id)?;
            let latest: i64 =
                conn.query_row("SELECT coalesce(max(seq), 0) FROM changes WHERE user_id = ?1", [user_id], |r| {
                    r.get(0)
                })?;
            Ok((floor, latest.max(floor)))
        })
        .await
    }

    /// Deletes journal entries written before `cutoff` (RFC 3339, the store's format) and raises
    /// each user's floor to match. Returns how many entries went.
    pub async fn trim_journal(&self, cutoff: String) -> Result<usize, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO journal_floor (user_id, floor)
                 SELECT user_id, max(seq) FROM changes WHERE at IS NULL OR at < ?1 GROUP BY user_id
                 ON CONFLICT (user_id) DO UPDATE SET floor = max(floor, excluded.floor)",
                [&cutoff],
            )?;
            let trimmed = tx.execute("DELETE FROM changes WHERE at IS NULL OR at < ?1", [&cutoff])?;
            tx.commit()?;
            Ok(trimmed)
        })
        .await
    }

    /// Like [`Store::changes_since`], but None when the journal no longer has all the changes
    /// after `since` (they were trimmed): checked under the same lock as the read, so a trim
    /// running meanwhile cannot leave an unnoticed gap.
    pub async fn changes_after(&self, user_id: i64, since: i64, limit: u32) -> Result<Option<Vec<Change>>, StoreError> {
        self.read(None, move |conn| {
            // One read transaction: the floor and the changes from the same snapshot.
            let tx = conn.transaction()?;
            let floor = journal_floor(&tx, user_id)?;
            if since < floor {
                return Ok(None);
            }
            read_changes(&tx, user_id, since, limit).map(Some)
        })
        .await
    }

    /// How many of `user_id`'s changes have `seq > since`.
    pub async fn count_changes_since(&self, user_id: i64, since: i64) -> Result<i64, StoreError> {
        self.read(None, move |conn| {
            Ok(conn.query_row(
                "SELECT count(*) FROM changes WHERE user_id = ?1 AND seq > ?2",
                params![user_id, since],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Up to `limit` of `user_id`'s changes with `seq > since`, oldest first.
    pub async fn changes_since(&self, user_id: i64, since: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
        self.read(None, move |conn| read_changes(conn, user_id, since, limit)).await
    }
}

/// The highest seq trimmed from `user_id`'s journal (0: nothing trimmed).
fn journal_floor(conn: &Connection, user_id: i64) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT coalesce((SELECT floor FROM journal_floor WHERE user_id = ?1), 0)", [user_id], |r| {
        r.get(0)
    })?)
}

fn read_changes(conn: &Connection, user_id: i64, since: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, payload FROM changes WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
    let rows =
        stmt.query_map(params![user_id, since, limit], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
    let mut changes = Vec::new();
    for row in rows {
        let (seq, payload) = row?;
        let kind =
            serde_json::from_str(&payload).map_err(|e| StoreError::Task(format!("change {seq} is corrupt: {e}")))?;
        changes.push(Change { seq, kind });
    }
    Ok(changes)
}
