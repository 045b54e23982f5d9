//! `herald-bench mirror`: the desktop mirror at scale, each figure next to a raw-rusqlite ceiling
//! measured in the same run on the same file system.
//!
//! - Catch-up: N notifications applied as the sync engine does (pages of 1,000 changes, one
//!   transaction each, cursor included) versus two ceilings: plain INSERTs of the same rows into
//!   the mirror's own table (its indexes, no search index: "the raw insert rate without FTS"), and
//!   into a bare table with no index at all.
//! - The background search index: how long after the catch-up everything is searchable.
//! - At 1,000,000 rows: newest page, unread count, a full-text query.

use std::time::{Duration, Instant};

use anyhow::Context;

use herald_client::mirror::{Before, Mirror, Query};
use herald_proto::{Change, ChangeKind, Notification};

/// The sync engine's catch-up page (`/v1/changes?limit=1000`).
const BATCH: usize = 1_000;

fn notification(id: i64) -> Notification {
    let mut n = Notification::plain(id, format!("Invoice INV-{id} was paid"), "2026-11-21T10:00:00.000Z");
    n.kind = ["billing.paid", "task.due", "social.reply", "crm.order_changed"][id as usize % 4].into();
    n.body = format!("Customer {} paid {}.00 EUR by bank transfer; reference {id:08}.", id % 977, id % 5000);
    n.read = id % 3 == 0;
    n
}

pub fn run(rows: usize, big: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    println!("# herald-bench mirror: catch-up of {rows} notifications; queries at {big} rows\n");

    // The ceilings: the same rows, the same batches, as plain INSERTs.
    let raw_table = raw_insert_rate(&dir.path().join("raw-table.sqlite3"), rows, Ceiling::MirrorTable)?;
    let raw_bare = raw_insert_rate(&dir.path().join("raw-bare.sqlite3"), rows, Ceiling::BareTable)?;
    let (visible, indexed_after) = catch_up(&dir.path().join("mirror.sqlite3"), rows)?;
    println!("| raw rusqlite insert into the mirror's table (its indexes, no FTS), batches of {BATCH} | {raw_table:.0} rows/s |");
    println!("| raw rusqlite insert into a bare table (no index), batches of {BATCH} | {raw_bare:.0} rows/s |");
    println!(
        "| mirror catch-up, visible in the inbox | {visible:.0} notifications/s (ratio {:.2} to the mirror's table, {:.2} to a bare table) |",
        visible / raw_table,
        visible / raw_bare
    );
    println!("| search index caught up after the catch-up ended | {:.2} s |", indexed_after.as_secs_f64());

    let path = dir.path().join("big.sqlite3");
    let mut mirror = Mirror::open(&path)?;
    fill(&mut mirror, big)?;
    while mirror.index_some(20_000)? > 0 {}
    // As the sync engine does after a long catch-up.
    let started = Instant::now();
    mirror.refresh_statistics()?;
    println!(
        "| {big} rows: refreshing the query planner's statistics | {:.1} ms |",
        started.elapsed().as_secs_f64() * 1e3
    );
    let newest = median(|| mirror.list(None, 50).map(drop))?;
    let unread = median(|| mirror.unread_count().map(drop))?;
    // Text queries. Only the last word is a prefix (as typed). FTS5 answers a prefix by merging
    // the lists of every word it matches (a prefix of a word in every row reads one entry per
    // row, `00` a million different numbers'), so the search index is cut by age into parts of
    // at most 40,000 rows, read newest first from the one the page starts in.
    let texts = [
        ("a prefix of a word in every row", "refer"),
        ("a word in every row, then a prefix of another", "reference customer"),
        ("one letter", "r"),
        ("a prefix of a million different numbers", "00"),
        ("a word in every row, finished (a space follows)", "reference "),
        ("a word in every row, then a rare prefix", "reference 00777"),
        ("a rare word", "inv-777123"),
    ];
    let mut text_times = Vec::new();
    for (what, words) in texts {
        let query = Query { text: Some(words.into()), limit: 50, ..Query::default() };
        text_times.push((what, words, median(|| mirror.search(&query).map(drop))?));
    }
    // A page from half-way back (the rare word has no match there: every older part is read).
    let half_way = mirror.get(big as i64 / 2)?.context("the middle row")?;
    let mut far_back_times = Vec::new();
    for (what, words) in [texts[0], texts[3], texts[6]] {
        let query =
            Query { text: Some(words.into()), limit: 50, before: Some(Before::after(&half_way)), ..Query::default() };
        far_back_times.push((what, words, median(|| mirror.search(&query).map(drop))?));
    }
    let filtered = median(|| {
        mirror
            .search(&Query { unread: Some(true), module: Some("task".into()), limit: 50, ..Query::default() })
            .map(drop)
    })?;
    println!("| {big} rows: newest page of 50 | {:.3} ms |", ms(newest));
    println!("| {big} rows: unread count | {:.3} ms |", ms(unread));
    for (what, words, time) in text_times {
        println!("| {big} rows: full-text query, {what} (\"{words}\") | {:.3} ms |", ms(time));
    }
    for (what, words, time) in far_back_times {
        println!("| {big} rows: full-text query, {what}, a page half-way back (\"{words}\") | {:.3} ms |", ms(time));
    }
    println!("| {big} rows: unread of one module, page of 50 | {:.3} ms |", ms(filtered));
    Ok(())
}

fn changes(from: usize, to: usize) -> Vec<Change> {
    (from..to)
        .map(|i| Change { seq: i as i64 + 1, kind: ChangeKind::Created { notification: notification(i as i64 + 1) } })
        .collect()
}

/// Applies `rows` in engine-sized batches; returns rows per second and how long after the last
/// batch the background index had everything.
fn catch_up(path: &std::path::Path, rows: usize) -> anyhow::Result<(f64, Duration)> {
    let mut mirror = Mirror::open(path)?;
    let batches: Vec<Vec<Change>> = (0..rows).step_by(BATCH).map(|i| changes(i, (i + BATCH).min(rows))).collect();
    let started = Instant::now();
    for batch in &batches {
        let cursor = batch.last().map_or(0, |c| c.seq);
        mirror.apply(1, batch, cursor, false)?;
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    let indexing = Instant::now();
    while mirror.index_some(2_000)? > 0 {}
    Ok((rate, indexing.elapsed()))
}

/// Where a ceiling inserts.
enum Ceiling {
    /// The mirror's `notifications` table as its migrations make it (indexes included; the
    /// search index is filled later, in the background, so it is not on this path).
    MirrorTable,
    /// A table with the same columns and no index, trigger or search index.
    BareTable,
}

fn raw_insert_rate(path: &std::path::Path, rows: usize, ceiling: Ceiling) -> anyhow::Result<f64> {
    let (mut conn, table) = match ceiling {
        Ceiling::MirrorTable => (herald_db::open(path, herald_client::mirror::MIGRATIONS)?, "notifications"),
        Ceiling::BareTable => {
            let conn = herald_db::open(path, &[])?;
            conn.execute_batch(
                "CREATE TABLE n (id INTEGER PRIMARY KEY, type, subject, body, link, tag, sub_tag, priority, object_type,
                 object_id, sender, buttons, reply, answer, created_at, read, channels, expires_at)",
            )?;
            (conn, "n")
        }
    };
    let all: Vec<Notification> = (1..=rows as i64).map(notification).collect();
    let started = Instant::now();
    for batch in all.chunks(BATCH) {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(&format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                herald_db::notification_row::COLUMNS,
                herald_db::notification_row::PLACEHOLDERS
            ))?;
            for n in batch {
                let json = herald_db::notification_row::JsonColumns::of(n);
                insert.execute(herald_db::notification_row::to_params(n, &json).as_slice())?;
            }
        }
        tx.commit()?;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

fn fill(mirror: &mut Mirror, rows: usize) -> anyhow::Result<()> {
    for i in (0..rows).step_by(10_000) {
        let batch = changes(i, (i + 10_000).min(rows));
        let cursor = batch.last().map_or(0, |c| c.seq);
        mirror.apply(1, &batch, cursor, false)?;
    }
    Ok(())
}

/// The median of 51 runs after 5 warm-up runs.
fn median(mut f: impl FnMut() -> Result<(), herald_client::mirror::MirrorError>) -> anyhow::Result<Duration> {
    for _ in 0..5 {
        f()?;
    }
    let mut times = Vec::with_capacity(51);
    for _ in 0..51 {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(times[25])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
