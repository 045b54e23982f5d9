//! The search index, cut by age into parts of a bounded size.
//!
//! FTS5 answers a prefix (the word being typed, `refer`) by merging the entry lists of every word
//! it matches, all of them, before it returns the first result; LIMIT and a rowid range do not
//! help. Over one index of 1,000,000 rows a prefix of a word in every row took 29–39 ms and `00`
//! (a prefix of a million different numbers) 130 ms, for the first page or a page far back alike.
//! Over a part of 20,000 rows the same merge takes under 3 ms.
//!
//! So each part holds every searchable notification in one stretch of the inbox's order
//! (`created_at`, then id): after its start and up to the next part's. A search reads the parts
//! newest first, from the one the page starts in, and stops at the first part that completes the
//! page: every part it has not read holds older notifications only.
//!
//! Upkeep, all in the indexer's transactions:
//! - each new row goes into the part its time falls in (a row with an old time, from an account
//!   added late, goes into an old part);
//! - the newest part is *sealed* once it holds [`PartSize::seal_at`] rows: a new, empty part
//!   starts after its newest row, no row moves, and the sealed part's segments are merged;
//! - a part that grew past [`PartSize::split_above`] (old rows arriving late) is split in two at
//!   its middle row, the newer half moving to a new part;
//! - two older neighbours that fit in one part together (deletes thinned them) become one;
//! - rows deleted or changed leave their part through [`search_stale`] (migration 0008): a
//!   trigger cannot name a part's table, so the indexer drops those entries, before it indexes
//!   anything, and a search meanwhile keeps a match only if its row is still in that part.

mod reshape;
#[cfg(test)]
pub(super) mod testing;

use std::collections::BTreeMap;

use rusqlite::{params, Connection, Transaction};

use reshape::reshape;

/// A part's size: the newest part is sealed at `seal_at` rows; any part is split above
/// `split_above`.
#[derive(Debug, Clone, Copy)]
pub(super) struct PartSize {
    pub seal_at: i64,
    pub split_above: i64,
}

/// A prefix of a million different words merges in ~2.5 ms at 20,000 rows (and 130 ms at a
/// million); a rare word costs each part ~20 µs to look up, so parts are not made smaller.
pub(super) const PART_SIZE: PartSize = PartSize { seal_at: 20_000, split_above: 40_000 };

/// A place in the inbox's order (by the hub's time, ties by id): the pair a page's cursor holds.
pub(super) type Position = super::search::Before;

/// Before every notification.
fn before_all() -> Position {
    Position { created_at: String::new(), id: 0 }
}

/// After every notification (times are ASCII).
fn after_all() -> Position {
    Position { created_at: "\u{10FFFF}".into(), id: i64::MAX }
}

/// One part: its rows come after `after`, up to the next part's `after`.
#[derive(Debug, Clone)]
pub(super) struct Part {
    pub id: i64,
    pub after: Position,
    rows: i64,
}

impl Part {
    /// Its FTS5 table.
    pub fn table(&self) -> String {
        table(self.id)
    }
}

fn table(part: i64) -> String {
    format!("search_part_{part}")
}

/// Every part, oldest first. None in a mirror older than the parts (a newer inbox window reading
/// the file while an older agent still runs it): it finds no text until the agent is updated.
pub(super) fn parts(conn: &Connection) -> rusqlite::Result<Vec<Part>> {
    let sql = "SELECT part, after_created_at, after_id, rows FROM search_parts ORDER BY after_created_at, after_id";
    let mut stmt = match conn.prepare_cached(sql) {
        Ok(stmt) => stmt,
        Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let parts = stmt.query_map([], |r| {
        Ok(Part { id: r.get(0)?, after: Position { created_at: r.get(1)?, id: r.get(2)? }, rows: r.get(3)? })
    })?;
    parts.collect()
}

/// One step of the indexer: drops up to `limit` stale entries if there are any, else indexes up
/// to `limit` rows waiting for the index; returns how many it did (0: the index is up to date).
/// Stale entries go first: a row deleted and then written again with the same id must not be
/// indexed in the part that still holds its old entry, which would then take the new one with it.
pub(super) fn index_some(tx: &Transaction<'_>, size: PartSize, limit: u32) -> rusqlite::Result<usize> {
    let dropped = drop_stale(tx, limit)?;
    if dropped > 0 {
        // Deletes may have left parts small; parts change only with no stale entry left.
        if dropped < limit as usize {
            reshape(tx, size)?;
        }
        return Ok(dropped);
    }
    let rows = waiting(tx, limit)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut parts = parts(tx)?;
    if parts.is_empty() {
        parts.push(new_part(tx, before_all())?);
    }
    let mut added: BTreeMap<i64, i64> = BTreeMap::new();
    let mut mark = tx.prepare_cached("UPDATE notifications SET search_part = ?1 WHERE id = ?2")?;
    for row in &rows {
        // The last part that starts before the row; the first starts before every row.
        let part = &parts[parts.partition_point(|p| p.after < row.position) - 1];
        tx.prepare_cached(&format!("INSERT INTO {} (rowid, subject, body) VALUES (?1, ?2, ?3)", part.table()))?
            .execute(params![row.position.id, row.subject, row.body])?;
        mark.execute([part.id, row.position.id])?;
        *added.entry(part.id).or_default() += 1;
    }
    add_rows(tx, &added)?;
    reshape(tx, size)?;
    Ok(rows.len())
}

/// A row waiting for the search index.
struct Waiting {
    position: Position,
    subject: String,
    body: String,
}

fn waiting(tx: &Transaction<'_>, limit: u32) -> rusqlite::Result<Vec<Waiting>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, created_at, subject, body FROM notifications WHERE search_part IS NULL ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Waiting { position: Position { id: r.get(0)?, created_at: r.get(1)? }, subject: r.get(2)?, body: r.get(3)? })
    })?;
    rows.collect()
}

/// Drops up to `limit` of the entries parts hold for rows deleted or changed; returns how many.
fn drop_stale(tx: &Transaction<'_>, limit: u32) -> rusqlite::Result<usize> {
    let stale: Vec<(i64, i64, i64)> = tx
        .prepare_cached("SELECT rowid, id, part FROM search_stale ORDER BY rowid LIMIT ?1")?
        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let Some(&(last, _, _)) = stale.last() else { return Ok(0) };
    let mut removed: BTreeMap<i64, i64> = BTreeMap::new();
    for &(_, id, part) in &stale {
        tx.prepare_cached(&format!("DELETE FROM {} WHERE rowid = ?1", table(part)))?.execute([id])?;
        *removed.entry(part).or_default() -= 1;
    }
    tx.prepare_cached("DELETE FROM search_stale WHERE rowid <= ?1")?.execute([last])?;
    add_rows(tx, &removed)?;
    Ok(stale.len())
}

fn add_rows(tx: &Transaction<'_>, by_part: &BTreeMap<i64, i64>) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached("UPDATE search_parts SET rows = rows + ?2 WHERE part = ?1")?;
    for (part, rows) in by_part {
        stmt.execute([part, rows])?;
    }
    Ok(())
}

fn new_part(tx: &Transaction<'_>, after: Position) -> rusqlite::Result<Part> {
    tx.prepare_cached("INSERT INTO search_parts (after_created_at, after_id, rows) VALUES (?1, ?2, 0)")?
        .execute(params![after.created_at, after.id])?;
    let part = Part { id: tx.last_insert_rowid(), after, rows: 0 };
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {} USING fts5(subject, body, content = '', contentless_delete = 1,
                                             tokenize = 'unicode61 remove_diacritics 2')",
        part.table()
    ))?;
    Ok(part)
}

#[cfg(test)]
mod tests {
    use herald_proto::{Change, ChangeKind, Notification};

    use super::testing::{at, check_parts, created, find, index_all, small_mirror};
    use crate::mirror::{Mirror, MIGRATIONS};

    #[test]
    fn deleted_and_edited_rows_leave_the_search_and_edited_ones_come_back() {
        let mut m = small_mirror();
        m.apply(1, &[created(1, "budget draft", 1), created(2, "budget final", 2), created(3, "lunch", 3)], 3, true)
            .unwrap();
        index_all(&mut m, 100);
        assert_eq!(find(&m, "budg"), [2, 1]);

        m.apply(1, &[Change { seq: 4, kind: ChangeKind::Deleted { ids: vec![2] } }], 4, false).unwrap();
        assert_eq!(find(&m, "budg"), [1], "a deleted row leaves at once, before the indexer drops its entry");
        let edited = Notification::plain(1, "holiday plans", at(1));
        m.apply(1, &[Change { seq: 5, kind: ChangeKind::Updated { notification: edited } }], 5, false).unwrap();
        assert_eq!(find(&m, "budg"), Vec::<i64>::new(), "an edited row leaves at once");
        assert_eq!(m.unindexed().unwrap(), 1);
        check_parts(&m);
        index_all(&mut m, 1);
        assert_eq!(find(&m, "holi"), [1], "and comes back with its new text");
        assert_eq!(find(&m, "budg"), Vec::<i64>::new());

        let mut read = Notification::plain(3, "lunch", at(3));
        read.read = true;
        m.apply(1, &[Change { seq: 6, kind: ChangeKind::Updated { notification: read } }], 6, false).unwrap();
        assert_eq!(m.unindexed().unwrap(), 0, "an update that keeps the text keeps the row searchable");
        assert_eq!(find(&m, "lunch"), [3]);

        // A reset empties the account and the hub sends the same ids again, with other text.
        m.reset(1, crate::mirror::Reset::HubRestored).unwrap();
        assert_eq!(find(&m, "lunch"), Vec::<i64>::new());
        m.apply(1, &[created(3, "dinner", 3)], 1, true).unwrap();
        index_all(&mut m, 100);
        assert_eq!(find(&m, "lunch"), Vec::<i64>::new(), "the old entry of id 3 was dropped first");
        assert_eq!(find(&m, "dinn"), [3]);
    }

    #[test]
    fn an_upgraded_mirror_is_indexed_anew_into_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        {
            let old = herald_db::open(&path, &MIGRATIONS[..7]).unwrap();
            old.execute_batch(
                "INSERT INTO notifications (id, type, subject, body, priority, created_at, read, indexed)
                     VALUES (7, 'social.reply', 'quarterly figures', '', 'normal', '2026-11-20T10:00:00.000Z', 0, 1);
                 INSERT INTO notifications_fts (rowid, subject, body) VALUES (7, 'quarterly figures', '');",
            )
            .unwrap();
        }
        // A newer window reading the file while the older agent still runs it: no text found, no error.
        let reader = Mirror::open_read_only(&path).unwrap();
        assert_eq!(find(&reader, "quart"), Vec::<i64>::new());
        drop(reader);
        let mut m = Mirror::open(&path).unwrap();
        assert_eq!(m.unindexed().unwrap(), 1, "waiting for the indexer");
        assert_eq!(find(&m, "quart"), Vec::<i64>::new());
        index_all(&mut m, 100);
        assert_eq!(find(&m, "quart"), [7]);
    }
}
