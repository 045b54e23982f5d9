//! WAL checkpoints off the write path.
//!
//! By default SQLite checkpoints inside the commit that pushes the write-ahead log past 1,000
//! pages: that commit copies the pages into the database and syncs it, milliseconds to tens of
//! milliseconds in which the writer answers nobody. On the live path this was the whole tail:
//! with 1,000 notifications a second, the desktop's p99 from "hub accepted" to "toast decided" was
//! 4–14 ms with checkpoints in the mirror's commits and about 1 ms without (`herald-bench live`).
//!
//! A [`Checkpointer`] turns the writer's own checkpoints off and runs them on a thread with a
//! connection of its own once a write has taken the log past SQLite's own threshold. In WAL mode a checkpoint and a writer run side by
//! side (`PASSIVE` waits for nobody), and once a checkpoint has copied everything, the next write
//! starts the log from the top again, so it does not grow.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use crate::DbError;

/// This many new pages in the log are copied into the database: SQLite's own threshold, so the
/// database is synced as often as before, just not by the writer. Counted from the last
/// checkpoint, not from the start of the log: under writes that never pause, the log cannot start
/// over (a commit always follows the checkpoint), and counting from its start would checkpoint
/// after every commit.
const CHECKPOINT_AT: i32 = 1_000;

/// At most one checkpoint per this long.
const SETTLE: Duration = Duration::from_millis(100);

/// A log this long (about 40 MB) is copied even if the writer waits a moment for it: under writes
/// that never pause (see [`CHECKPOINT_AT`]) the log would otherwise only grow.
const LONG_LOG: i64 = 10_000;

/// Checkpoints one database in the background; dropping it (every clone) stops the thread after a
/// last checkpoint.
#[derive(Clone)]
pub struct Checkpointer {
    wrote: SyncSender<()>,
    progress: Arc<Progress>,
}

/// What the checkpoint thread tells the writers' side.
#[derive(Default)]
struct Progress {
    /// Checkpoints that copied the whole log.
    complete: AtomicUsize,
    /// Frames of the log the last checkpoint copied.
    copied: AtomicI32,
}

impl Checkpointer {
    /// Stops `writer` checkpointing in its commits and starts a thread that checkpoints its
    /// database when a write made through [`Checkpointer::watching`] grew the log past
    /// [`CHECKPOINT_AT`] pages. None for an in-memory database (it has no log).
    pub fn start(writer: &Connection) -> Result<Option<Self>, DbError> {
        let Some(path) = writer.path().filter(|p| !p.is_empty()).map(PathBuf::from) else { return Ok(None) };
        let own =
            Connection::open(&path).map_err(|source| DbError::Open { path: path.display().to_string(), source })?;
        own.busy_timeout(crate::BUSY_TIMEOUT)?;
        // One pending signal is enough: the thread checkpoints everything written until it runs.
        let (wrote, signals) = mpsc::sync_channel(1);
        let progress = Arc::new(Progress::default());
        let told = progress.clone();
        std::thread::Builder::new()
            .name("herald-checkpoint".into())
            .spawn(move || run(&own, &path, &signals, &told))
            .map_err(|source| DbError::Thread { what: "checkpoint", source })?;
        // Only now that the thread runs; in this order, as the pragma replaces the commit hook.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.wal_hook(Some(note_log_length));
        Ok(Some(Self { wrote, progress }))
    }

    /// Checkpoints so far that copied the whole log.
    pub fn complete(&self) -> usize {
        self.progress.complete.load(Ordering::Relaxed)
    }

    /// Runs `write` (commits on the writer connection, on this thread) and has the log
    /// checkpointed if it grew long. Never waits for the checkpoint.
    pub fn watching<T>(&self, write: impl FnOnce() -> T) -> T {
        LOG_PAGES.set(0);
        let done = write();
        let (log, copied) = (LOG_PAGES.get(), self.progress.copied.load(Ordering::Relaxed));
        // Pages since the last checkpoint; a log shorter than what was copied has started over.
        let new = if log >= copied { log - copied } else { log };
        if new >= CHECKPOINT_AT {
            let _ = self.wrote.try_send(());
        }
        done
    }
}

thread_local! {
    /// The log's length after the last commit on this thread, as SQLite's commit hook reports it.
    static LOG_PAGES: Cell<i32> = const { Cell::new(0) };
}

/// The writer's commit hook: a plain function (all SQLite allows here), so it tells the thread
/// that committed, which is the one inside [`Checkpointer::watching`].
fn note_log_length(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    LOG_PAGES.set(pages);
    Ok(())
}

fn run(conn: &Connection, path: &Path, signals: &Receiver<()>, progress: &Progress) {
    while signals.recv().is_ok() {
        checkpoint(conn, path, progress);
        std::thread::sleep(SETTLE);
    }
    checkpoint(conn, path, progress);
}

fn checkpoint(conn: &Connection, path: &Path, progress: &Progress) {
    let result = copy(conn, "PASSIVE").and_then(|(log, copied)| match log > LONG_LOG {
        true => copy(conn, "RESTART"),
        false => Ok((log, copied)),
    });
    match result {
        Ok((log, copied)) => {
            progress.copied.store(i32::try_from(copied).unwrap_or(i32::MAX), Ordering::Relaxed);
            if log == copied {
                progress.complete.fetch_add(1, Ordering::Relaxed);
            }
            tracing::trace!(path = %path.display(), log, copied, "checkpoint");
        }
        // The next write asks again; a log not yet copied is still part of the database.
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "checkpoint failed; will retry after the next write")
        }
    }
}

/// Runs a checkpoint; returns (frames in the log, frames copied into the database).
fn copy(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get(1)?, r.get(2)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_do_not_checkpoint_and_the_thread_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let (wal, size) = (path.with_extension("sqlite3-wal"), |p: &Path| std::fs::metadata(p).unwrap().len());
        let writer = crate::open(&path, &[]).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let checkpointer = Checkpointer::start(&writer).unwrap().expect("a file database has a log");
        let fill = || {
            for _ in 0..400 {
                writer.execute("INSERT INTO t VALUES (zeroblob(16000))", []).unwrap();
            }
        };
        // 1,600 pages, past SQLite's own threshold of 1,000, and none reached the database file.
        checkpointer.watching(fill);
        assert!(size(&path) < 100_000, "the writer checkpointed: the database holds {} bytes", size(&path));
        let log = size(&wal);
        assert!(log > 6_400_000);

        // The thread copies the log into the database…
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while checkpointer.complete() == 0 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(size(&path) > 6_400_000, "the rows are in the database file");
        // …and the next writes start the log from the top instead of growing it.
        checkpointer.watching(fill);
        assert!(
            size(&wal) < log + log / 10,
            "the log grew from {log} to {} bytes instead of starting over",
            size(&wal)
        );
        drop(checkpointer);
    }

    #[test]
    fn an_in_memory_database_needs_none() {
        assert!(Checkpointer::start(&crate::open_in_memory(&[]).unwrap()).unwrap().is_none());
    }
}
