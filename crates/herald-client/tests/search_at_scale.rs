//! Search over 1,000,000 notifications in a real mirror file: every kind of text query the
//! mirror answers a different way (a walk of the newest part of the search index, of many parts,
//! of the parts far back, the general plan) finds what a user typing it expects. How fast is `herald-bench mirror`'s concern (BENCHMARKS.md).

use herald_client::mirror::{Before, Mirror, Query};
use herald_proto::{Change, ChangeKind, Notification};

const ROWS: i64 = 1_000_000;

/// One notification a second; every row has `reference` and `customer`, each its own number.
fn notification(id: i64) -> Notification {
    let at = format!("2026-11-{:02}T{:02}:{:02}:{:02}.000Z", 1 + id / 86_400, id / 3_600 % 24, id / 60 % 60, id % 60);
    let mut n = Notification::plain(id, format!("Invoice INV-{id} was paid"), at);
    n.body = format!("Customer {} paid by bank transfer; reference {id:08}.", id % 977);
    n.read = id % 3 == 0;
    n
}

fn ids(found: &[Notification]) -> Vec<i64> {
    found.iter().map(|n| n.id).collect()
}

fn newest_from(id: i64, count: i64) -> Vec<i64> {
    (id - count + 1..=id).rev().collect()
}

#[test]
fn text_queries_over_a_million_notifications_find_the_newest_matches() {
    let dir = tempfile::tempdir().unwrap();
    let mut mirror = Mirror::open(&dir.path().join("mirror.sqlite3")).unwrap();
    for first in (1..=ROWS).step_by(10_000) {
        let changes: Vec<Change> = (first..first + 10_000)
            .map(|id| Change { seq: id, kind: ChangeKind::Created { notification: notification(id) } })
            .collect();
        mirror.apply(1, &changes, first + 9_999, first + 9_999 == ROWS).unwrap();
    }
    while mirror.index_some(20_000).unwrap() > 0 {}
    assert_eq!(mirror.unindexed().unwrap(), 0);

    let search = |text: &str, before: Option<i64>| {
        let before = before.map(|id| Before::after(&notification(id)));
        ids(&mirror.search(&Query { text: Some(text.into()), limit: 50, before, ..Query::default() }).unwrap())
    };
    // The word being typed, in every row: the newest 50, then the 50 after them.
    assert_eq!(search("refer", None), newest_from(ROWS, 50));
    assert_eq!(search("reference cust", Some(ROWS - 50)), newest_from(ROWS - 51, 50));
    assert_eq!(search("r", None), newest_from(ROWS, 50), "one letter");
    // A page half-way back: the walk starts in the part the page starts in.
    assert_eq!(search("refer", Some(500_000)), newest_from(499_999, 50));
    assert_eq!(search("00", Some(500_000)), newest_from(499_999, 50), "a prefix of a million numbers");
    // A prefix of a thousand numbers, far back: ids 777,000 to 777,999.
    assert_eq!(search("reference 00777", None), newest_from(777_999, 50));
    // Rare: one row, or none.
    assert_eq!(search("inv-777123", None), [777_123]);
    assert_eq!(search("reference 01000000 ", None), [ROWS], "a finished word is whole, not a prefix");
    assert!(search("refunded", None).is_empty());
    assert!(search("inv-777123", Some(500_000)).is_empty(), "every older part read, none matching");
    // With a filter that keeps a third of the matches (read ones: ids divisible by 3).
    let read = mirror
        .search(&Query { text: Some("customer".into()), unread: Some(false), limit: 3, ..Query::default() })
        .unwrap();
    assert_eq!(ids(&read), [999_999, 999_996, 999_993]);
}
