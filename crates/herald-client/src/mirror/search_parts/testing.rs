//! What the search-index tests share: a mirror with small parts, notifications at given
//! seconds, and the parts' invariants, checked after every step.

use std::collections::BTreeSet;

use herald_proto::{Change, ChangeKind, Notification};

use super::{parts, PartSize, Position};
use crate::mirror::search::Query;
use crate::mirror::Mirror;

pub(crate) const SMALL: PartSize = PartSize { seal_at: 5, split_above: 10 };

pub(crate) fn at(second: i64) -> String {
    format!("2026-11-21T10:{:02}:{:02}.000Z", second / 60, second % 60)
}

pub(crate) fn created(id: i64, subject: &str, second: i64) -> Change {
    Change { seq: id, kind: ChangeKind::Created { notification: Notification::plain(id, subject, at(second)) } }
}

pub(crate) fn small_mirror() -> Mirror {
    let mut m = Mirror::open_in_memory().unwrap();
    m.part_size = SMALL;
    m
}

pub(crate) fn ids(found: &[Notification]) -> Vec<i64> {
    found.iter().map(|n| n.id).collect()
}

pub(crate) fn text(words: &str, limit: u32) -> Query {
    Query { text: Some(words.into()), limit, ..Query::default() }
}

pub(crate) fn find(m: &Mirror, words: &str) -> Vec<i64> {
    ids(&m.search(&text(words, 100)).unwrap())
}

fn ids_where(m: &Mirror, sql: &str, part: i64) -> BTreeSet<i64> {
    let mut stmt = m.conn.prepare(sql).unwrap();
    stmt.query_map([part], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// What the parts must be whatever happened: each holds exactly the rows searchable in it
/// (and the entries waiting to be dropped), counts them right, and those rows lie in its
/// stretch of the inbox; the stretches follow each other.
pub(crate) fn check_parts(m: &Mirror) {
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

pub(crate) fn index_all(m: &mut Mirror, batch: u32) {
    while m.index_some(batch).unwrap() > 0 {}
    check_parts(m);
}
