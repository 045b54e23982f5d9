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

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

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

/// A place in the inbox's order: by the hub's time, ties by id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Position {
    pub created_at: String,
    pub id: i64,
}

impl Position {
    /// Before every notification.
    fn start() -> Self {
        Self { created_at: String::new(), id: 0 }
    }

    /// After every notification (times are ASCII).
    fn end() -> Self {
        Self { created_at: "\u{10FFFF}".into(), id: i64::MAX }
    }
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
        parts.push(new_part(tx, Position::start())?);
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

/// Splits every part grown too big (halving until none is: a late history may fill one part many
/// times over), merges two older neighbours that fit in one part (deletes emptied them), then
/// seals the newest part if it is full. So a mirror of N searchable rows has about N / 10,000
/// parts at most, whatever it held before.
fn reshape(tx: &Transaction<'_>, size: PartSize) -> rusqlite::Result<()> {
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
    let end = end.unwrap_or_else(Position::end);
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
    let end = end.unwrap_or_else(Position::end);
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
    use std::collections::BTreeSet;

    use herald_db::filters::Filters;
    use herald_proto::{Change, ChangeKind, Notification};

    use super::*;
    use crate::mirror::search::{Before, Query};
    use crate::mirror::{Mirror, MIGRATIONS};

    const SMALL: PartSize = PartSize { seal_at: 5, split_above: 10 };

    fn at(second: i64) -> String {
        format!("2026-11-21T10:{:02}:{:02}.000Z", second / 60, second % 60)
    }

    fn created(id: i64, subject: &str, second: i64) -> Change {
        Change { seq: id, kind: ChangeKind::Created { notification: Notification::plain(id, subject, at(second)) } }
    }

    fn small_mirror() -> Mirror {
        let mut m = Mirror::open_in_memory().unwrap();
        m.part_size = SMALL;
        m
    }

    fn ids(found: &[Notification]) -> Vec<i64> {
        found.iter().map(|n| n.id).collect()
    }

    fn text(words: &str, limit: u32) -> Query {
        Query { text: Some(words.into()), limit, ..Query::default() }
    }

    fn find(m: &Mirror, words: &str) -> Vec<i64> {
        ids(&m.search(&text(words, 100)).unwrap())
    }

    fn ids_where(m: &Mirror, sql: &str, part: i64) -> BTreeSet<i64> {
        let mut stmt = m.conn.prepare(sql).unwrap();
        stmt.query_map([part], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// What the parts must be whatever happened: each holds exactly the rows searchable in it
    /// (and the entries waiting to be dropped), counts them right, and those rows lie in its
    /// stretch of the inbox; the stretches follow each other.
    fn check_parts(m: &Mirror) {
        let parts = parts(&m.conn).unwrap();
        for (i, part) in parts.iter().enumerate() {
            let held = ids_where(m, &format!("SELECT rowid FROM {} WHERE ?1 = ?1", part.table()), 0);
            let searchable = ids_where(m, "SELECT id FROM notifications WHERE search_part = ?1", part.id);
            let stale = ids_where(m, "SELECT id FROM search_stale WHERE part = ?1", part.id);
            assert!(searchable.is_disjoint(&stale), "part {}: {searchable:?} {stale:?}", part.id);
            assert_eq!(held, &searchable | &stale, "part {}", part.id);
            assert_eq!(part.rows, held.len() as i64, "part {} counts its rows", part.id);
            let mut stmt = m.conn.prepare("SELECT created_at, id FROM notifications WHERE search_part = ?1").unwrap();
            let positions = stmt.query_map([part.id], |r| Ok(Position { created_at: r.get(0)?, id: r.get(1)? }));
            for position in positions.unwrap() {
                let position = position.unwrap();
                assert!(position > part.after, "part {}: {position:?} before its start", part.id);
                if let Some(next) = parts.get(i + 1) {
                    assert!(position <= next.after, "part {}: {position:?} past its end", part.id);
                }
            }
        }
    }

    fn index_all(m: &mut Mirror, batch: u32) {
        while m.index_some(batch).unwrap() > 0 {}
        check_parts(m);
    }

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

    /// What a user would expect of a search, worked out without SQLite: every searchable row
    /// whose words include the query's (the last one as a prefix, unless a space follows it).
    fn expected(m: &Mirror, query: &Query) -> Vec<i64> {
        let words = query.text.as_deref().unwrap();
        let (finished, words): (bool, Vec<&str>) = (words.ends_with(' '), words.split_whitespace().collect());
        let mut stmt = m
            .conn
            .prepare(
                "SELECT id, subject || ' ' || body, created_at, read FROM notifications WHERE search_part IS NOT NULL",
            )
            .unwrap();
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        });
        let mut found: Vec<(String, i64)> = rows
            .unwrap()
            .map(Result::unwrap)
            .filter(|(_, text, _, read)| {
                let tokens: Vec<String> =
                    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).map(str::to_owned).collect();
                query.unread.is_none_or(|unread| unread != *read)
                    && words.iter().enumerate().all(|(i, word)| {
                        let prefix = i + 1 == words.len() && !finished;
                        tokens.iter().any(|t| if prefix { t.starts_with(word) } else { t == word })
                    })
            })
            .map(|(id, _, created_at, _)| (created_at, id))
            .filter(|(created_at, id)| {
                query.before.as_ref().is_none_or(|b| (created_at.as_str(), *id) < (b.created_at.as_str(), b.id))
            })
            .collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
        found.into_iter().take(query.limit as usize).map(|(_, id)| id).collect()
    }

    /// Both of search's plans must answer what a user expects, whatever happened: accounts
    /// interleaved in time, equal times, an account added late with an old history (rows that
    /// fall in old parts and split them), one emptied by a reset, deletes, edits, reads, batches
    /// of any size, pages followed to the end.
    #[test]
    fn every_text_query_answers_what_a_user_expects() {
        let mut m = small_mirror();
        let work = m.upsert_account("work", "http://work/").unwrap();
        let words = ["alpha", "alpine", "beta", "report", "reply", "gamma"];
        let mut seed = 7_u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        // Each account's hub times, by hub id (index id - 1): they rise with the ids, as a hub's do.
        let mut accounts = vec![(1, Vec::<i64>::new()), (work, Vec::new())];
        let mut seq = 0_i64;
        let (mut walked, mut not_walked) = (0, 0);
        for round in 0..60 {
            if round == 30 {
                // A hub added late brings its history: times from the start.
                accounts.push((m.upsert_account("archive", "http://archive/").unwrap(), Vec::new()));
            }
            if round == 45 {
                m.reset(work, crate::mirror::Reset::HubRestored).unwrap();
                accounts[1].1.clear();
            }
            let slot = next(accounts.len() as u64) as usize;
            let (account, seconds) = &mut accounts[slot];
            let account = *account;
            let start = if slot == 2 { (round - 30) / 3 } else { round * 2 };
            let mut changes = Vec::new();
            for _ in 0..next(6) {
                let second = (start + next(2) as i64).max(seconds.last().copied().unwrap_or(0));
                seconds.push(second);
                let id = seconds.len() as i64;
                seq += 1;
                let subject = format!("{} {}", words[next(6) as usize], words[next(6) as usize]);
                let mut change = created(id, &subject, second);
                if let ChangeKind::Created { notification } = &mut change.kind {
                    notification.read = next(3) == 0;
                }
                change.seq = seq;
                changes.push(change);
            }
            if seconds.len() > 2 && next(3) == 0 {
                seq += 1;
                let id = 1 + next(seconds.len() as u64) as i64;
                let second = seconds[id as usize - 1];
                let kind = match next(3) {
                    0 => ChangeKind::Deleted { ids: vec![id] },
                    1 => ChangeKind::ReadChanged { ids: vec![id], read: true },
                    _ => ChangeKind::Updated {
                        notification: Notification::plain(id, words[next(6) as usize], at(second)),
                    },
                };
                changes.push(Change { seq, kind });
            }
            m.apply(account, &changes, seq, false).unwrap();
            if next(2) == 0 {
                m.index_some(1 + next(9) as u32).unwrap();
            }
            check_parts(&m);
            for (words, limit, unread) in
                [("al", 3, None), ("alpha", 4, None), ("re", 2, Some(true)), ("beta gam", 5, None), ("reply ", 3, None)]
            {
                let mut query = Query { unread, ..text(words, limit) };
                loop {
                    let expected = expected(&m, &query);
                    let filters = m.filters(&query).unwrap();
                    assert_eq!(
                        ids(&m.search_in_general(&query, &filters).unwrap()),
                        expected,
                        "round {round}: {query:?}"
                    );
                    let fts = herald_db::fts_query(words).unwrap();
                    let others = Filters { text: None, ..filters };
                    match m.newest_matches(&m.walks(&query).unwrap(), &query, &fts, &others).unwrap() {
                        Some(page) => (walked += 1, assert_eq!(ids(&page), expected, "round {round}: {query:?}")),
                        None => (not_walked += 1, ()),
                    };
                    assert_eq!(ids(&m.search(&query).unwrap()), expected, "round {round}: {query:?}");
                    let Some(last) = expected.last().and_then(|&id| m.get(id).unwrap()) else { break };
                    query.before = Some(Before::after(&last));
                }
            }
        }
        assert!(parts(&m.conn).unwrap().len() > 5, "the history was cut into parts");
        assert!(walked > 100, "the walk answered {walked} pages ({not_walked} went to the general plan)");
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
