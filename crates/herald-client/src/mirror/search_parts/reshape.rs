//! Keeping the parts within their size: the newest is sealed when full, one grown too big by a
//! late history is split, two older neighbours thinned by deletes become one.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Transaction};

use super::{add_rows, after_all, new_part, parts, table, Part, PartSize, Position};

/// Splits every part grown too big (halving until none is: a late history may fill one part many
/// times over), merges two older neighbours that fit in one part (deletes emptied them), then
/// seals the newest part if it is full. So a mirror of N searchable rows has about N / 10,000
/// parts at most, whatever it held before.
pub(super) fn reshape(tx: &Transaction<'_>, size: PartSize) -> rusqlite::Result<()> {
    loop {
        let parts = parts(tx)?;
        let Some(newest) = parts.last() else { return Ok(()) };
        let end = |i: usize| parts.get(i + 1).map(|p| p.after.clone());
        if let Some(i) = parts.iter().position(|p| p.rows > size.split_above) {
            if !split(tx, &parts[i], end(i))? {
                tracing::warn!(part = parts[i].id, rows = parts[i].rows, "a search part holds fewer rows than counted");
                return Ok(());
            }
            continue;
        }
        // Pairs before the newest part, which is still filling.
        if let Some(i) = (0..parts.len().saturating_sub(2)).find(|&i| parts[i].rows + parts[i + 1].rows <= size.seal_at)
        {
            merge(tx, &parts[i], &parts[i + 1], end(i + 1))?;
            continue;
        }
        return if newest.rows >= size.seal_at { seal(tx, newest) } else { Ok(()) };
    }
}

/// Starts a new, empty newest part after the newest row of `newest`.
fn seal(tx: &Transaction<'_>, newest: &Part) -> rusqlite::Result<()> {
    let last = tx
        .prepare_cached(
            "SELECT created_at, id FROM notifications WHERE search_part = ?1
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )?
        .query_row([newest.id], |r| Ok(Position { created_at: r.get(0)?, id: r.get(1)? }))
        .optional()?;
    if let Some(last) = last {
        new_part(tx, last)?;
        optimize(tx, newest.id)?;
    }
    Ok(())
}

/// Merges a part's FTS5 segments into one: a part that no longer takes rows one batch at a time is
/// read faster (a rare word across 50 parts: 5 times faster), for ~20 ms once.
fn optimize(tx: &Transaction<'_>, part: i64) -> rusqlite::Result<()> {
    let table = table(part);
    tx.execute_batch(&format!("INSERT INTO {table} ({table}) VALUES ('optimize')"))
}

/// Moves the newer half of `part` (whose stretch ends at `end`, if a part follows) to a new
/// part; false if it found no middle row.
fn split(tx: &Transaction<'_>, part: &Part, end: Option<Position>) -> rusqlite::Result<bool> {
    let end = end.unwrap_or_else(after_all);
    let middle = tx
        .prepare_cached(&format!(
            "SELECT created_at, id FROM notifications WHERE {IN_STRETCH} ORDER BY created_at, id LIMIT 1 OFFSET ?6"
        ))?
        .query_row(
            params![part.id, part.after.created_at, part.after.id, end.created_at, end.id, part.rows / 2 - 1],
            |r| Ok(Position { created_at: r.get(0)?, id: r.get(1)? }),
        )
        .optional()?;
    let Some(middle) = middle else { return Ok(false) };
    let newer = new_part(tx, middle.clone())?;
    move_rows(tx, part, &newer, (&middle, &end), Leaving::OneByOne)?;
    optimize(tx, part.id)?;
    optimize(tx, newer.id)?;
    Ok(true)
}

/// Makes two neighbouring parts one: the smaller one's rows move to the larger, whose stretch
/// then covers both. `end`: where the newer one's stretch ends.
fn merge(tx: &Transaction<'_>, older: &Part, newer: &Part, end: Option<Position>) -> rusqlite::Result<()> {
    let end = end.unwrap_or_else(after_all);
    if newer.rows <= older.rows {
        move_rows(tx, newer, older, (&newer.after, &end), Leaving::WithTheTable)?;
    } else {
        move_rows(tx, older, newer, (&older.after, &newer.after), Leaving::WithTheTable)?;
        tx.prepare_cached("UPDATE search_parts SET after_created_at = ?2, after_id = ?3 WHERE part = ?1")?
            .execute(params![newer.id, older.after.created_at, older.after.id])?;
    }
    let gone = if newer.rows <= older.rows { newer } else { older };
    tx.prepare_cached("DELETE FROM search_parts WHERE part = ?1")?.execute([gone.id])?;
    tx.execute_batch(&format!("DROP TABLE {}", gone.table()))
}

/// How moved rows leave the part they were in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaving {
    /// Deleted from it, one by one.
    OneByOne,
    /// Not at all: the caller drops the part.
    WithTheTable,
}

/// Rows of `part` in its stretch, between two positions: found through the inbox's time index.
const IN_STRETCH: &str = "search_part = ?1 AND (created_at, id) > (?2, ?3) AND (created_at, id) <= (?4, ?5)";

/// Moves the rows of `from` in `(after, up_to]` to `to`.
fn move_rows(
    tx: &Transaction<'_>,
    from: &Part,
    to: &Part,
    (after, up_to): (&Position, &Position),
    leaving: Leaving,
) -> rusqlite::Result<()> {
    let moving: Vec<(i64, String, String)> = tx
        .prepare_cached(&format!("SELECT id, subject, body FROM notifications WHERE {IN_STRETCH}"))?
        .query_map(params![from.id, after.created_at, after.id, up_to.created_at, up_to.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, subject, body) in &moving {
        if leaving == Leaving::OneByOne {
            tx.prepare_cached(&format!("DELETE FROM {} WHERE rowid = ?1", from.table()))?.execute([id])?;
        }
        tx.prepare_cached(&format!("INSERT INTO {} (rowid, subject, body) VALUES (?1, ?2, ?3)", to.table()))?
            .execute(params![id, subject, body])?;
        tx.prepare_cached("UPDATE notifications SET search_part = ?1 WHERE id = ?2")?.execute([to.id, *id])?;
    }
    let moved = moving.len() as i64;
    add_rows(tx, &BTreeMap::from([(from.id, -moved), (to.id, moved)]))
}

#[cfg(test)]
mod tests {
    use herald_proto::{Change, ChangeKind};

    use super::super::testing::{at, created, find, index_all, small_mirror, text, SMALL};
    use super::*;
    use crate::mirror::search::{Before, Query};
    use crate::mirror::Mirror;

    #[test]
    fn the_newest_part_is_sealed_when_full_and_a_late_history_splits_the_old_one() {
        let mut m = small_mirror();
        let changes: Vec<Change> = (1..=40).map(|id| created(id, &format!("report {id}"), 1000 + id)).collect();
        m.apply(1, &changes, 40, true).unwrap();
        index_all(&mut m, 7);
        let sizes = |m: &Mirror| parts(&m.conn).unwrap().iter().map(|p| p.rows).collect::<Vec<_>>();
        assert!(sizes(&m).iter().all(|&rows| rows <= SMALL.split_above), "{:?}", sizes(&m));
        assert!(sizes(&m).len() >= 4, "sealed as it filled: {:?}", sizes(&m));

        // Another hub's history, older than everything: it all falls in the first part.
        let archive = m.upsert_account("archive", "http://archive/").unwrap();
        let history: Vec<Change> = (1..=50).map(|id| created(id, &format!("report old {id}"), id)).collect();
        m.apply(archive, &history, 50, true).unwrap();
        index_all(&mut m, 100);
        assert!(sizes(&m).iter().all(|&rows| rows <= SMALL.split_above), "split: {:?}", sizes(&m));
        assert_eq!(sizes(&m).iter().sum::<i64>(), 90);
        assert_eq!(find(&m, "old 17").len(), 1);
        assert_eq!(find(&m, "rep").len(), 90);
        let far_back = Query { before: Some(Before { created_at: at(20), id: 0 }), ..text("rep", 3) };
        let page = m.search(&far_back).unwrap();
        assert_eq!(
            page.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(),
            ["report old 19", "report old 18", "report old 17"]
        );
    }

    #[test]
    fn parts_thinned_by_deletes_are_merged() {
        let mut m = small_mirror();
        let changes: Vec<Change> = (1..=40).map(|id| created(id, &format!("report {id}"), id)).collect();
        m.apply(1, &changes, 40, true).unwrap();
        index_all(&mut m, 7);
        let before = parts(&m.conn).unwrap().len();
        let gone: Vec<i64> = (1..=40).filter(|id| id % 8 != 0).collect();
        m.apply(1, &[Change { seq: 41, kind: ChangeKind::Deleted { ids: gone } }], 41, false).unwrap();
        index_all(&mut m, 3);
        let after = parts(&m.conn).unwrap();
        assert!(after.len() <= 3, "{before} parts for 40 rows, {} for the 5 left: {after:?}", after.len());
        assert_eq!(find(&m, "rep"), [40, 32, 24, 16, 8]);
        let tables: i64 = m
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name GLOB 'search_part_*' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, after.len() as i64, "a merged part's table is dropped");
    }
}
