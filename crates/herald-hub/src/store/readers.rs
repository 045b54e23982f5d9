//! Read-only connections beside the writer's. In WAL mode each reads the last committed state
//! while the writer writes, so a slow search holds up neither another caller's read nor a send.
//! A pool of a few: more than the machine's cores would only share the same CPUs.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};
use tokio::sync::Semaphore;

use super::{StoreError, MIGRATIONS};

/// Read connections per hub.
pub const COUNT: usize = 4;
/// A search still running after this is stopped (its caller is told to narrow it).
pub const SEARCH_TIME_LIMIT: Duration = Duration::from_secs(2);
/// SQLite virtual-machine steps between two looks at the clock (a few microseconds' work).
const STEPS_PER_CHECK: i32 = 10_000;

/// A read to run on a search thread.
type Job = Box<dyn FnOnce() + Send>;

pub struct Readers {
    idle: Mutex<Vec<Connection>>,
    /// Text searches run on threads of their own at a lower CPU priority (Linux): a search flood
    /// then takes only the CPU that other requests leave.
    search_jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    free: std::sync::Arc<Semaphore>,
    /// Text searches may hold only some of the connections ([`search_places`]): however many
    /// search at once, a sign-in or a plain list always finds one free.
    searches: std::sync::Arc<Semaphore>,
}

impl Readers {
    pub fn open(path: &Path, count: usize) -> Result<Self, StoreError> {
        let connections =
            (0..count).map(|_| herald_db::open_read_only(path, MIGRATIONS)).collect::<Result<Vec<_>, _>>()?;
        let (search_jobs, jobs) = std::sync::mpsc::channel::<Job>();
        let jobs = std::sync::Arc::new(Mutex::new(jobs));
        for _ in 0..search_places(count) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name("herald-search".into())
                .spawn(move || {
                    lower_this_threads_priority();
                    // Ends when the pool is dropped (the sender with it).
                    loop {
                        let next = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(job) = next else { return };
                        // A search that panics fails its caller (its answer channel drops), not
                        // the thread: a lost thread would leave a search waiting for ever.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .map_err(|e| StoreError::Task(format!("cannot start a search thread: {e}")))?;
        }
        Ok(Self {
            idle: Mutex::new(connections),
            search_jobs: Mutex::new(search_jobs),
            free: std::sync::Arc::new(Semaphore::new(count)),
            searches: std::sync::Arc::new(Semaphore::new(search_places(count))),
        })
    }

    /// Runs `f` on an idle connection (waiting for one), on a blocking thread. A read with a
    /// `time_limit` is a text search, and waits for a search's place first.
    pub async fn run<T, F>(self: &std::sync::Arc<Self>, time_limit: Option<Duration>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let search = match time_limit {
            Some(_) => Some(self.searches.clone().acquire_owned().await.map_err(|e| StoreError::Task(e.to_string()))?),
            None => None,
        };
        let permit = self.free.clone().acquire_owned().await.map_err(|e| StoreError::Task(e.to_string()))?;
        let readers = self.clone();
        let is_search = search.is_some();
        let work = move || {
            // The permit goes with the connection: a caller that stops waiting (its client went
            // away) frees neither until the read is done and the connection is back.
            let mut lent = Lent { readers: &readers, conn: Some(readers.take()) };
            let result = bounded(lent.conn.as_mut().expect("lent until dropped"), time_limit, f);
            drop(lent);
            drop((permit, search));
            result
        };
        if !is_search {
            return tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::Task(e.to_string()))?;
        }
        // A search's place is held, so a search thread is free for it.
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.search_jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| StoreError::Task("the search threads are gone".into()))?;
        result.await.map_err(|_| StoreError::Task("a search thread failed".into()))?
    }

    fn take(&self) -> Connection {
        // A permit is held, so a connection is idle.
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop().expect("a permit means an idle reader")
    }
}

/// A connection out of the pool; back in it when dropped, a read that panicked included (else
/// the pool would shrink while its permits did not, and a later read find none idle).
struct Lent<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
    }
}

/// Linux: this thread runs at nice 10, the rest of the hub at its own. Elsewhere nothing (the
/// call would lower the whole process there).
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
        tracing::debug!(error = %e, "search thread keeps its priority");
    }
}

/// How many text searches may run at once: half the connections, and no more than half the
/// machine's cores, so that searching flat out leaves CPU for everyone else's requests.
fn search_places(connections: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    (connections / 2).min(cores / 2).max(1)
}

/// Runs `f` on `conn`, interrupted once `time_limit` has passed (then [`StoreError::TooSlow`]).
pub fn bounded<T>(
    conn: &mut Connection,
    time_limit: Option<Duration>,
    f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let Some(limit) = time_limit else { return f(conn) };
    let deadline = Instant::now() + limit;
    conn.progress_handler(STEPS_PER_CHECK, Some(move || Instant::now() > deadline));
    let result = f(conn);
    conn.progress_handler(STEPS_PER_CHECK, None::<fn() -> bool>);
    match result {
        Err(StoreError::Sqlite(e)) if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) => {
            Err(StoreError::TooSlow)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_query_past_its_time_limit_is_stopped() {
        let mut conn = herald_db::open_in_memory(MIGRATIONS).unwrap();
        let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
        let result = bounded(&mut conn, Some(Duration::from_millis(50)), |conn| {
            Ok(conn.query_row(endless, [], |r| r.get::<_, i64>(0))?)
        });
        assert!(matches!(result, Err(StoreError::TooSlow)), "{result:?}");
        // The connection is usable afterwards, with no limit left behind.
        let one: i64 = bounded(&mut conn, None, |conn| Ok(conn.query_row("SELECT 1", [], |r| r.get(0))?)).unwrap();
        assert_eq!(one, 1);
    }

    #[tokio::test]
    async fn a_read_in_progress_holds_up_neither_other_reads_nor_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (ann, _) = store.add_user("ann").await.unwrap();
        // A read that lasts until this test lets it go (a search over a long history).
        let (started, started_rx) = std::sync::mpsc::channel::<()>();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let slow = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .read(None, move |_conn| {
                        started.send(()).unwrap();
                        release_rx.recv().unwrap();
                        Ok(())
                    })
                    .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap()).await.unwrap();
        let bound = Duration::from_secs(20);
        let sent = tokio::time::timeout(bound, store.deliver(vec![ann.id], crate::store::NewNotification::new("hi")))
            .await
            .expect("a send is not held up by a read")
            .unwrap();
        let (listed, _) = tokio::time::timeout(bound, store.list(ann.id, None, 10))
            .await
            .expect("another read is not held up by it")
            .unwrap();
        assert_eq!(listed.iter().map(|n| n.id).collect::<Vec<_>>(), [sent[0].id], "and it sees the committed send");
        release.send(()).unwrap();
        slow.await.unwrap().unwrap();
    }
}
