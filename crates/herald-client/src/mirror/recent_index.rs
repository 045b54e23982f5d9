//! The recent search index: the newest notifications' own small FTS5 index, asked first.
//!
//! FTS5 answers a prefix (the word being typed, `refer`) by merging the entry lists of every word
//! it matches, all of them, before it returns the first result. At 1,000,000 rows a prefix of a
//! word in every row took ~30 ms and `00` (a prefix of a million different numbers) 134 ms,
//! whatever the LIMIT. The same queries over the newest 10,000–30,000 rows take 0.4–2.5 ms.
//!
//! This index holds every searchable notification newer than its *boundary* (in the inbox's
//! order), and none older. So when it fills a page, nothing outside it could come before the
//! page's last result, and the page is the answer. When it cannot (a rare word, a
//! narrow filter, a page far back), the whole index answers as before.
//!
//! Upkeep, in the indexer's transactions: each row it indexes that is newer than the boundary goes
//! into both indexes; once the index has taken [`Window::rebuild_after`] rows since it was built
//! (about `keep` then, so every ~10,000 new notifications), it is built anew over the newest
//! [`Window::keep`] (about 30 ms; deleting rows one by one from FTS5 costs more). Deleted and
//! changed rows leave it through the main index's triggers (migration 0007); emptying an account
//! makes the next batch rebuild it.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// How many of the newest notifications the index is built over, and how many it may take before
/// it is built anew: its size stays between the two, and so does the cost of a prefix query.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub keep: u32,
    pub rebuild_after: u32,
}

pub(super) const WINDOW: Window = Window { keep: 10_000, rebuild_after: 20_000 };

/// The index holds every searchable notification after this one in the inbox's order
/// (`created_at`, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Boundary {
    created_at: String,
    id: i64,
}

impl Boundary {
    /// Before every notification: the index holds all that are searchable.
    fn before_all() -> Self {
        Self { created_at: String::new(), id: 0 }
    }

    pub fn holds_everything(&self) -> bool {
        *self == Self::before_all()
    }
}

/// What the index holds now; None until the indexer first built it, or if the mirror predates it
/// (read by a newer `herald` while an older agent still runs).
pub(super) fn boundary(conn: &Connection) -> rusqlite::Result<Option<Boundary>> {
    let mut stmt = match conn.prepare_cached("SELECT after_created_at, after_id FROM recent_search") {
        Ok(stmt) => stmt,
        Err(e) if e.to_string().contains("no such table") => return Ok(None),
        Err(e) => return Err(e),
    };
    stmt.query_row([], |r| Ok(Boundary { created_at: r.get(0)?, id: r.get(1)? })).optional()
}

/// Puts the next `limit` rows waiting for the search index (the batch the indexer is about to
/// index) into the recent index if they are past its boundary, building it anew first when it is
/// missing or outgrown. Call before the batch is marked indexed, in the same transaction.
pub(super) fn add_batch(tx: &Transaction<'_>, window: Window, limit: u32) -> rusqlite::Result<()> {
    let state = tx
        .prepare_cached("SELECT after_created_at, after_id, added FROM recent_search")?
        .query_row([], |r| Ok((Boundary { created_at: r.get(0)?, id: r.get(1)? }, r.get::<_, u32>(2)?)))
        .optional()?;
    let boundary = match state {
        Some((boundary, added)) if added <= window.rebuild_after => boundary,
        _ => rebuild(tx, window)?,
    };
    let added = tx
        .prepare_cached(
            "INSERT INTO notifications_recent_fts (rowid, subject, body)
         SELECT id, subject, body FROM
           (SELECT id, subject, body, created_at FROM notifications WHERE indexed = 0 ORDER BY id LIMIT ?1)
         WHERE (created_at, id) > (?2, ?3)",
        )?
        .execute(params![limit, boundary.created_at, boundary.id])?;
    tx.prepare_cached("UPDATE recent_search SET added = added + ?1")?.execute([added])?;
    Ok(())
}

/// Empties the index and fills it with the searchable rows among the newest `window.keep`.
fn rebuild(tx: &Transaction<'_>, window: Window) -> rusqlite::Result<Boundary> {
    let boundary = tx
        .prepare_cached("SELECT created_at, id FROM notifications ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?1")?
        .query_row([window.keep], |r| Ok(Boundary { created_at: r.get(0)?, id: r.get(1)? }))
        .optional()?
        .unwrap_or_else(Boundary::before_all);
    tx.execute("INSERT INTO notifications_recent_fts (notifications_recent_fts) VALUES ('delete-all')", [])?;
    let added = tx
        .prepare_cached(
            "INSERT INTO notifications_recent_fts (rowid, subject, body)
         SELECT id, subject, body FROM notifications
         WHERE indexed = 1 AND created_at >= ?1 AND (created_at, id) > (?1, ?2)",
        )?
        .execute(params![boundary.created_at, boundary.id])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO recent_search (only, after_created_at, after_id, added) VALUES (1, ?1, ?2, ?3)",
    )?
    .execute(params![boundary.created_at, boundary.id, added])?;
    Ok(boundary)
}

#[cfg(test)]
mod tests {
    use herald_db::filters::Filters;
    use herald_proto::{Change, ChangeKind, Notification};

    use super::*;
    use crate::mirror::search::{Before, Query};
    use crate::mirror::{Mirror, MIGRATIONS};

    const SMALL: Window = Window { keep: 5, rebuild_after: 10 };

    fn at(second: i64) -> String {
        format!("2026-11-21T10:{:02}:{:02}.000Z", second / 60, second % 60)
    }

    fn created(id: i64, subject: &str, second: i64) -> Change {
        Change { seq: id, kind: ChangeKind::Created { notification: Notification::plain(id, subject, at(second)) } }
    }

    fn small_mirror() -> Mirror {
        let mut m = Mirror::open_in_memory().unwrap();
        m.recent_window = SMALL;
        m
    }

    fn ids(found: &[Notification]) -> Vec<i64> {
        found.iter().map(|n| n.id).collect()
    }

    fn text(words: &str, limit: u32) -> Query {
        Query { text: Some(words.into()), limit, ..Query::default() }
    }

    fn recent(m: &Mirror, query: &Query) -> Option<Vec<i64>> {
        let words = herald_db::fts_query(query.text.as_deref().unwrap()).unwrap();
        m.newest_recent_matches(&m.walks(query).unwrap(), query, &words, &Filters::default())
            .unwrap()
            .as_deref()
            .map(ids)
    }

    #[test]
    fn the_newest_page_comes_from_the_recent_index_and_older_ones_from_the_whole() {
        let mut m = small_mirror();
        let changes: Vec<Change> = (1..=40).map(|id| created(id, &format!("report {id}"), id)).collect();
        m.apply(1, &changes, 40, true).unwrap();
        while m.index_some(7).unwrap() > 0 {}
        let boundary = boundary(&m.conn).unwrap().unwrap();
        assert!(!boundary.holds_everything());
        assert!(
            (boundary.created_at.as_str(), boundary.id) < (at(36).as_str(), 36),
            "it holds the newest: {boundary:?}"
        );

        assert_eq!(recent(&m, &text("rep", 3)), Some(vec![40, 39, 38]));
        let far_back = Query { before: Some(Before { created_at: at(20), id: 20 }), ..text("rep", 3) };
        assert_eq!(recent(&m, &far_back), None, "the recent index cannot tell what is older than it holds");
        assert_eq!(ids(&m.search(&far_back).unwrap()), [19, 18, 17], "the whole index can");
        assert_eq!(recent(&m, &text("report 3 ", 3)), None, "a rare word: fewer matches than a page");
        assert_eq!(ids(&m.search(&text("report 3 ", 3)).unwrap()), [3]);
    }

    #[test]
    fn a_small_mirror_is_answered_by_the_recent_index_alone_and_deletes_and_edits_leave_it() {
        let mut m = small_mirror();
        m.apply(1, &[created(1, "budget draft", 1), created(2, "budget final", 2), created(3, "lunch", 3)], 3, true)
            .unwrap();
        while m.index_some(100).unwrap() > 0 {}
        assert!(boundary(&m.conn).unwrap().unwrap().holds_everything());
        assert_eq!(recent(&m, &text("budg", 10)), Some(vec![2, 1]));
        assert_eq!(recent(&m, &text("nothing", 10)), Some(vec![]), "it holds every row: no match is an answer");

        m.apply(1, &[Change { seq: 4, kind: ChangeKind::Deleted { ids: vec![2] } }], 4, false).unwrap();
        assert_eq!(recent(&m, &text("budg", 10)), Some(vec![1]), "a deleted row leaves it");
        let edited = Notification::plain(1, "holiday plans", at(1));
        m.apply(1, &[Change { seq: 5, kind: ChangeKind::Updated { notification: edited } }], 5, false).unwrap();
        assert_eq!(recent(&m, &text("budg", 10)), Some(vec![]), "an edited row leaves it");
        while m.index_some(100).unwrap() > 0 {}
        assert_eq!(recent(&m, &text("holi", 10)), Some(vec![1]), "and comes back with its new text");

        let mut read = Notification::plain(3, "lunch", at(3));
        read.read = true;
        m.apply(1, &[Change { seq: 6, kind: ChangeKind::Updated { notification: read } }], 6, false).unwrap();
        assert_eq!(m.unindexed().unwrap(), 0, "an update that keeps the text keeps the row searchable");
        assert_eq!(recent(&m, &text("lunch", 10)), Some(vec![3]));

        m.reset(1, crate::mirror::Reset::HubRestored).unwrap();
        assert_eq!(boundary(&m.conn).unwrap(), None, "an emptied account: rebuilt with the next batch");
    }

    /// The fast paths must answer exactly what SQLite's general plan answers, whatever happened:
    /// accounts interleaved in time, equal times, an account added late with an old history (rows
    /// older than the recent index's boundary), one emptied by a reset, deletes, edits, reads,
    /// rebuilds between batches of any size, pages followed to the end.
    #[test]
    fn every_text_query_answers_what_the_general_plan_answers() {
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
        let (mut told, mut not_told) = (0, 0);
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
            for (words, limit, unread) in
                [("al", 3, None), ("alpha", 4, None), ("re", 2, Some(true)), ("beta gam", 5, None)]
            {
                let mut query = Query { unread, ..text(words, limit) };
                loop {
                    let filters = m.filters(&query).unwrap();
                    let general = m.search_in_general(&query, &filters).unwrap();
                    let words = herald_db::fts_query(words).unwrap();
                    let others = Filters { text: None, ..filters };
                    match m.newest_recent_matches(&m.walks(&query).unwrap(), &query, &words, &others).unwrap() {
                        Some(page) => (told += 1, assert_eq!(ids(&page), ids(&general), "round {round}: {query:?}")),
                        None => (not_told += 1, ()),
                    };
                    assert_eq!(ids(&m.search(&query).unwrap()), ids(&general), "round {round}: {query:?}");
                    let Some(last) = general.last() else { break };
                    query.before = Some(Before::after(last));
                }
            }
        }
        assert!(
            told > 100 && not_told > 100,
            "both paths were tried: {told} answered by the recent index, {not_told} not"
        );
    }

    #[test]
    fn an_upgraded_mirror_gets_its_recent_index_from_the_indexer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        {
            let old = herald_db::open(&path, &MIGRATIONS[..6]).unwrap();
            old.execute_batch(
                "INSERT INTO notifications (id, type, subject, body, priority, created_at, read, indexed)
                     VALUES (7, 'social.reply', 'quarterly figures', '', 'normal', '2026-11-20T10:00:00.000Z', 0, 1);
                 INSERT INTO notifications_fts (rowid, subject, body) VALUES (7, 'quarterly figures', '');",
            )
            .unwrap();
        }
        let mut m = Mirror::open(&path).unwrap();
        assert_eq!(boundary(&m.conn).unwrap(), None);
        assert_eq!(ids(&m.search(&text("quart", 10)).unwrap()), [7], "the whole index answers meanwhile");
        assert_eq!(m.index_some(100).unwrap(), 0, "nothing new to index");
        assert_eq!(recent(&m, &text("quart", 10)), Some(vec![7]), "but the recent index was built");
    }
}
