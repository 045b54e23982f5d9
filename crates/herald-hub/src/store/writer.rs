//! The group-commit writer: one thread takes every queued write, runs each in a savepoint of one
//! transaction, and commits them together — one fsync for the group, not one per notification.
//! A write that fails rolls back its own savepoint only. Replies and feed announcements go out
//! after the commit, so nobody hears of a change that could still be lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use herald_proto::Change;
use rusqlite::Connection;

use super::bus::ChangeBus;
use super::StoreError;

/// The most writes committed together; more wait for the next group.
pub const DEFAULT_MAX_GROUP: usize = 256;

/// What a write announces once committed: changes per user.
#[derive(Debug, Default)]
pub struct Announcements(Vec<(i64, Vec<Change>)>);

impl Announcements {
    pub fn push(&mut self, user_id: i64, changes: Vec<Change>) {
        if !changes.is_empty() {
            self.0.push((user_id, changes));
        }
    }
}

/// Runs after the group's commit with its outcome, to answer the caller.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued write: runs inside the group's transaction and returns how to answer its caller.
type Job = Box<dyn FnOnce(&Connection, &mut Announcements) -> Reply + Send>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    max_group: Arc<AtomicUsize>,
    stats: Arc<Stats>,
}

/// How many writes and commits the writer made: writes per commit is what grouping saves.
#[derive(Debug, Default)]
pub struct Stats {
    pub writes: AtomicUsize,
    pub commits: AtomicUsize,
}

impl Writer {
    pub fn start(conn: Arc<Mutex<Connection>>, bus: ChangeBus) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let max_group = Arc::new(AtomicUsize::new(DEFAULT_MAX_GROUP));
        let limit = max_group.clone();
        let stats = Arc::new(Stats::default());
        let counted = stats.clone();
        std::thread::Builder::new()
            .name("herald-store-writer".into())
            .spawn(move || run(&conn, &bus, &queue, &limit, &counted))
            .expect("the writer thread starts");
        Self { jobs, max_group, stats }
    }

    /// `(writes, commits)` so far.
    pub fn stats(&self) -> (usize, usize) {
        (self.stats.writes.load(Ordering::Relaxed), self.stats.commits.load(Ordering::Relaxed))
    }

    /// At most `n` writes per commit (1: every write commits alone, for comparison).
    pub fn set_max_group(&self, n: usize) {
        self.max_group.store(n.max(1), Ordering::Relaxed);
    }

    /// Queues `f` and waits until its group has committed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection, &mut Announcements) -> Result<T, E> + Send + 'static,
    {
        let (reply_tx, reply_rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn, announcements| {
            let mut own = Announcements::default();
            let outcome = in_savepoint(conn, |conn| {
                // A panicking write must not take the writer thread (and every later write) down.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn, &mut own)))
                    .unwrap_or_else(|_| Err(E::from(StoreError::Task("a write panicked".into()))))
            });
            // Only once its savepoint is released does a write's news join the group's.
            if outcome.is_ok() {
                announcements.0.extend(own.0);
            }
            Box::new(move |committed| {
                let answer = match (committed, outcome) {
                    (Ok(()), outcome) => outcome,
                    (Err(_), Err(e)) => Err(e),
                    (Err(e), Ok(_)) => Err(E::from(StoreError::Task(format!("commit failed: {e}")))),
                };
                let _ = reply_tx.send(answer);
            })
        });
        self.jobs.send(job).map_err(|_| E::from(StoreError::Task("the store writer has stopped".into())))?;
        reply_rx.await.map_err(|_| E::from(StoreError::Task("the store writer dropped a write".into())))?
    }
}

/// Runs `f` in a savepoint: released if it succeeds, rolled back if it fails.
fn in_savepoint<T, E: From<StoreError>>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("SAVEPOINT write").map_err(|e| E::from(e.into()))?;
    let result = f(conn);
    let end = if result.is_ok() { "RELEASE write" } else { "ROLLBACK TO write; RELEASE write" };
    conn.execute_batch(end).map_err(|e| E::from(e.into()))?;
    result
}

fn run(conn: &Mutex<Connection>, bus: &ChangeBus, queue: &mpsc::Receiver<Job>, max_group: &AtomicUsize, stats: &Stats) {
    while let Ok(first) = queue.recv() {
        let limit = max_group.load(Ordering::Relaxed);
        let mut group = vec![first];
        while group.len() < limit {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        let mut announcements = Announcements::default();
        // IMMEDIATE takes the write lock up front: another process writing the same file (the
        // command line adding a user) makes this wait for the busy timeout instead of failing.
        let (replies, committed) = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => {
                let mut replies: Vec<Reply> = Vec::with_capacity(group.len());
                for job in group {
                    // Some errors (disk full, I/O) make SQLite roll the whole transaction back on
                    // its own; a job run after that would commit alone. The rest are dropped
                    // instead: their callers hear the write was not done.
                    if tx.is_autocommit() {
                        break;
                    }
                    replies.push(job(&tx, &mut announcements));
                }
                let committed = if tx.is_autocommit() {
                    Err("SQLite rolled the group back (disk full or I/O error)".to_owned())
                } else {
                    tx.commit().map_err(|e| e.to_string())
                };
                (replies, committed)
            }
            Err(e) => {
                // Nothing ran; dropping the group tells each caller its write was not done.
                tracing::error!(error = %e, "could not begin a group of writes");
                continue;
            }
        };
        if committed.is_ok() {
            stats.writes.fetch_add(replies.len(), Ordering::Relaxed);
            stats.commits.fetch_add(1, Ordering::Relaxed);
            // Still under the lock: the next group cannot announce before this one.
            for (user_id, changes) in announcements.0 {
                bus.announce(user_id, changes);
            }
        } else if let Err(e) = &committed {
            tracing::error!(error = %e, "a group of writes failed to commit");
        }
        drop(conn);
        for reply in replies {
            reply(committed.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{NewNotification, Store};

    #[tokio::test]
    async fn concurrent_writes_share_commits_and_a_failing_one_takes_only_itself_back() {
        let store = Store::open_in_memory().unwrap();
        let (ann, _) = store.add_user("ann").await.unwrap();
        let mut sends = Vec::new();
        for i in 0..200 {
            let store = store.clone();
            sends.push(tokio::spawn(async move {
                store.deliver(vec![ann.id], NewNotification::new(format!("n{i}"))).await
            }));
        }
        // A write that fails half way (its first insert succeeds, then a foreign key breaks).
        let failing = store.deliver(vec![ann.id, 999_999], NewNotification::new("half"));
        assert!(failing.await.is_err());
        for send in sends {
            send.await.unwrap().unwrap();
        }
        let (items, _) = store.list(ann.id, None, 500).await.unwrap();
        assert_eq!(items.len(), 200, "every good write is there and nothing of the failed one");
        assert!(items.iter().all(|n| n.subject != "half"));
        let (writes, commits) = store.writer_stats();
        assert!(writes >= 200 && commits < writes, "{writes} writes in {commits} commits");
    }

    #[tokio::test]
    async fn a_write_that_panics_fails_alone_and_the_writer_goes_on() {
        let store = Store::open_in_memory().unwrap();
        let (ann, _) = store.add_user("ann").await.unwrap();
        let panicked: Result<(), crate::store::StoreError> = store.write(|_, _| panic!("a bug in one write")).await;
        assert!(panicked.is_err());
        store.deliver(vec![ann.id], NewNotification::new("still works")).await.unwrap();
        assert_eq!(store.list(ann.id, None, 10).await.unwrap().0.len(), 1);
    }
}
