//! The hub's embedded SQLite store.
//!
//! [`Store`]'s async methods are the interface the handlers use: domain types in and out, no SQL
//! and no rusqlite type crosses it, so a PostgreSQL store can stand behind the same methods
//! without a handler changing.
//!
//! One writing connection behind a mutex: rare writes run on blocking threads, the hot ones
//! (deliveries, read state, answers) go through the group-commit [`writer`]. The reads callers
//! make most (sign-in, search, the journal) go to a pool of read-only connections beside it
//! ([`readers`]; WAL lets them read while the writer writes), so no read waits behind another
//! caller's read or holds up a write. Every write that
//! adds to a user's change log announces it on that user's [`bus`] channel *while holding the
//! lock*, so each channel carries changes in `seq` order — the feed drops duplicates by sequence.

mod answers;
mod audiences;
pub mod bus;
mod callbacks;
mod changes;
mod digest;
mod idempotency;
mod ingest;
mod mail;
pub use digest::{DigestCandidate, DigestRun};
pub use mail::{valid_address, DueMail, MailCounts, MailOutcome};
pub(crate) mod notifications;
mod preferences;
mod readers;
mod search;
mod sign_in;
pub use sign_in::Device;
pub(crate) mod users;
pub mod words;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};

use herald_db::Migration;
use rusqlite::Connection;

use bus::{ChangeBus, Subscription};
use readers::Readers;
use writer::{Announcements, Writer};

pub use answers::{AnswerError, Answered, Response, ANSWER_KIND};
pub use audiences::{ObjectRef, Recipients, MAX_RECIPIENTS};
pub use callbacks::DueCallback;
pub use idempotency::{Applying, StoredResponse, ANSWER_PENDING, APPLYING, IDEMPOTENCY_RETENTION};
pub use notifications::NewNotification;
pub use preferences::{PreferencesChange, StoredPreferences};
pub use search::ListFilter;
pub use users::User;

/// The hub's schema, one entry per file in `migrations/hub/` (a test checks none is missing).
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../../../../migrations/hub/0001_init.sql") },
    Migration { version: 2, name: "audiences", sql: include_str!("../../../../migrations/hub/0002_audiences.sql") },
    Migration { version: 3, name: "idempotency", sql: include_str!("../../../../migrations/hub/0003_idempotency.sql") },
    Migration { version: 4, name: "search", sql: include_str!("../../../../migrations/hub/0004_search.sql") },
    Migration { version: 5, name: "preferences", sql: include_str!("../../../../migrations/hub/0005_preferences.sql") },
    Migration { version: 6, name: "callbacks", sql: include_str!("../../../../migrations/hub/0006_callbacks.sql") },
    Migration { version: 7, name: "ingest", sql: include_str!("../../../../migrations/hub/0007_ingest.sql") },
    Migration {
        version: 8,
        name: "journal_retention",
        sql: include_str!("../../../../migrations/hub/0008_journal_retention.sql"),
    },
    Migration {
        version: 9,
        name: "callback_signatures",
        sql: include_str!("../../../../migrations/hub/0009_callback_signatures.sql"),
    },
    Migration {
        version: 10,
        name: "search_by_user",
        sql: include_str!("../../../../migrations/hub/0010_search_by_user.sql"),
    },
    Migration {
        version: 11,
        name: "idempotency_expiry",
        sql: include_str!("../../../../migrations/hub/0011_idempotency_expiry.sql"),
    },
    Migration { version: 12, name: "sign_in", sql: include_str!("../../../../migrations/hub/0012_sign_in.sql") },
    Migration { version: 13, name: "web_push", sql: include_str!("../../../../migrations/hub/0013_web_push.sql") },
    Migration { version: 14, name: "email", sql: include_str!("../../../../migrations/hub/0014_email.sql") },
    Migration {
        version: 15,
        name: "email_digest_links",
        sql: include_str!("../../../../migrations/hub/0015_email_digest_links.sql"),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("user {0:?} does not exist")]
    UnknownUser(String),
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("invalid user name {0:?}: use 1–64 of a-z, 0-9, '.', '_', '-'")]
    InvalidUserName(String),
    #[error("invalid email address {0:?}: use one like ann@example.org")]
    InvalidEmail(String),
    #[error("invalid {what} {value:?}: use 1–128 printable characters")]
    InvalidName { what: &'static str, value: String },
    #[error("invalid callback URL {0:?}: use an absolute http:// or https:// URL")]
    InvalidCallback(String),
    #[error(
        "callback URL {url:?} refused: {why} (herald-hub serve or token add --allow-private-callbacks permits it)"
    )]
    CallbackRefused { url: String, why: &'static str },
    #[error("{0}; search with fewer, shorter words")]
    Search(#[from] words::QueryError),
    #[error("the search took longer than {} s; add words or a filter", readers::SEARCH_TIME_LIMIT.as_secs())]
    TooSlow,
    #[error("the audience has {0} recipients, more than the {max} one send may reach", max = audiences::MAX_RECIPIENTS)]
    TooManyRecipients(usize),
    #[error(transparent)]
    Db(#[from] herald_db::DbError),
    #[error("a user may have at most {} devices; revoke one first", sign_in::MAX_DEVICES)]
    TooManyDevices,
    #[error("no such device")]
    UnknownDevice,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store task failed: {0}")]
    Task(String),
}

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    bus: ChangeBus,
    writer: Writer,
    readers: Option<Arc<Readers>>,
    hub_id: Arc<str>,
    /// Signs the links in mail (`mail::links`).
    mail_key: Arc<[u8]>,
}

impl Store {
    /// Opens (creating if missing) `DIR/hub.sqlite3` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Task(format!("cannot create {}: {e}", data_dir.display())))?;
        let conn = herald_db::open(&data_dir.join("hub.sqlite3"), MIGRATIONS)?;
        // A notification the hub said it stored survives a power cut: every commit is synced.
        // Group commit (see `writer`) is what keeps that affordable.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut store = Self::from_connection(conn)?;
        store.readers = Some(Arc::new(Readers::open(&data_dir.join("hub.sqlite3"), readers::COUNT)?));
        Ok(store)
    }

    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::from_connection(herald_db::open_in_memory(MIGRATIONS)?)
    }

    fn from_connection(conn: Connection) -> Result<Self, StoreError> {
        let hub_id: String = conn.query_row("SELECT hub_id FROM hub_identity WHERE id = 1", [], |r| r.get(0))?;
        let mail_key: Vec<u8> =
            conn.query_row("SELECT secret FROM hub_secrets WHERE name = 'mail_links'", [], |r| r.get(0))?;
        words::index_pending(&conn)?;
        let conn = Arc::new(Mutex::new(conn));
        let bus = ChangeBus::new(bus::DEFAULT_CAPACITY);
        let writer = Writer::start(conn.clone(), bus.clone());
        Ok(Self { conn, bus, writer, readers: None, hub_id: hub_id.into(), mail_key: mail_key.into() })
    }

    /// Replaces the change bus with one of `capacity` changes per user (default 16). A smaller
    /// bus makes slow feeds fall back to re-reading the log sooner; tests use it for that path.
    pub fn with_bus_capacity(mut self, capacity: usize) -> Self {
        self.bus = ChangeBus::new(capacity);
        self.writer = Writer::start(self.conn.clone(), self.bus.clone());
        self
    }

    /// Users with at least one feed open.
    pub fn users_listening(&self) -> usize {
        self.bus.users_listening()
    }

    /// `(writes, commits)` the group-commit writer made so far.
    pub fn writer_stats(&self) -> (usize, usize) {
        self.writer.stats()
    }

    /// At most `n` writes per commit; 1 turns group commit off (benchmarks compare the two).
    pub fn with_max_group(self, n: usize) -> Self {
        self.writer.set_max_group(n);
        self
    }

    /// This hub's identity, made once when its database was created.
    pub fn hub_id(&self) -> &str {
        &self.hub_id
    }

    /// The key that signs links in mail, made once with the database.
    pub fn mail_key(&self) -> &[u8] {
        &self.mail_key
    }

    /// `user_id`'s changes committed from now on, in `seq` order.
    pub fn subscribe(&self, user_id: i64) -> Subscription {
        self.bus.subscribe(user_id)
    }

    /// Queues a write for the group-commit writer and waits until it is committed.
    async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection, &mut Announcements) -> Result<T, E> + Send + 'static,
    {
        // A write made for an Idempotency-Key request that changes anything records, in the same
        // transaction, that the request was applied (see idempotency.rs).
        let applying = idempotency::APPLYING.try_with(Clone::clone).ok();
        self.writer
            .write(move |conn, announcements| {
                let before = conn.total_changes();
                let result = f(conn, announcements)?;
                if let Some(applying) = applying.as_ref().filter(|_| conn.total_changes() > before) {
                    idempotency::record_applied(conn, applying).map_err(E::from)?;
                }
                Ok(result)
            })
            .await
    }

    /// Runs `f` on the connection in a blocking thread. `f` may fail with any error a
    /// [`StoreError`] converts into (answers have their own).
    async fn with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }

    /// Runs the read-only `f` on a read connection of the pool in a blocking thread (on the
    /// writer's connection for an in-memory store, which has no other). `time_limit`: `f` is
    /// interrupted after it and fails with [`StoreError::TooSlow`].
    async fn read<T, F>(&self, time_limit: Option<std::time::Duration>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.readers {
            Some(readers) => readers.run(time_limit, f).await,
            None => self.with(move |conn| readers::bounded(conn, time_limit, f)).await,
        }
    }
}

/// Now, as RFC 3339 UTC with milliseconds: the one format the store writes, so times compare as text.
pub fn now_rfc3339() -> String {
    stored_time(time::OffsetDateTime::now_utc()).expect("now is in years 0000–9999")
}

/// Always three fraction digits, so stored times sort correctly as text. None for a time that
/// has no UTC form in years 0000–9999 (9999-12-31T23:59:59-01:00 is in year 10000).
fn stored_time(at: time::OffsetDateTime) -> Option<String> {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let utc = at.checked_to_offset(time::UtcOffset::UTC)?;
    (0..=9999).contains(&utc.year()).then(|| utc.format(FORMAT).ok()).flatten()
}

/// `ago` before now, in the store's format.
pub fn stored_time_ago(ago: std::time::Duration) -> String {
    stored_time_before(ago).expect("a day ago is in years 0000–9999")
}

/// `ago` before now, in the store's format; None if that is before year 0.
pub fn stored_time_before(ago: std::time::Duration) -> Option<String> {
    let ago = time::Duration::try_from(ago).ok()?;
    stored_time(time::OffsetDateTime::now_utc().checked_sub(ago)?)
}

/// `seconds` from now, in the store's format.
pub fn rfc3339_in(seconds: u32) -> String {
    stored_time(time::OffsetDateTime::now_utc() + time::Duration::seconds(i64::from(seconds)))
        .expect("a day from now is in years 0000–9999")
}

/// Any RFC 3339 time, in the store's format; None if it is not RFC 3339.
pub fn normalize_time(text: &str) -> Option<String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok().and_then(stored_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hub_migration_file_is_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/hub");
        herald_db::check_listed(&dir, MIGRATIONS).unwrap();
    }

    #[test]
    fn a_database_at_every_earlier_version_upgrades_to_the_new_schema() {
        herald_db::check_upgrades(tempfile::tempdir().unwrap().path(), MIGRATIONS).unwrap();
    }

    #[tokio::test]
    async fn a_first_version_hub_keeps_its_users_tokens_and_notifications_through_every_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let token = "hrld_first_version_token";
        {
            let old = herald_db::open(&dir.path().join("hub.sqlite3"), &MIGRATIONS[..1]).unwrap();
            old.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'bob', '2026-11-01T09:00:00.000Z')", [])
                .unwrap();
            old.execute(
                "INSERT INTO tokens (hash, kind, user_id, created_at) VALUES (?1, 'user', 1, '2026-11-01T09:00:00.000Z')",
                [crate::auth::hash_token(token).to_vec()],
            )
            .unwrap();
            old.execute_batch(
                r#"INSERT INTO notifications (id, user_id, type, subject, body, tag, priority, buttons, answer, read, created_at)
                   VALUES (5, 1, 'purchase.approval', 'Approve PO 42', 'Quarterly budget', 'po-42', 'high',
                           '[{"value":"Y","label":"Approve"}]', '{"value":"Y","text":null,"at":"2026-11-01T10:05:00.000Z"}',
                           0, '2026-11-01T10:00:00.000Z');"#,
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let Some(crate::auth::Caller::User(bob)) = store.caller_for_token(token).await.unwrap() else {
            panic!("the first version's token no longer signs in")
        };
        assert_eq!((bob.id, bob.name.as_str()), (1, "bob"));
        let (items, _) = store.list(bob.id, None, 10).await.unwrap();
        assert_eq!(items.len(), 1);
        let kept = &items[0];
        assert_eq!((kept.id, kept.subject.as_str(), kept.tag.as_deref()), (5, "Approve PO 42", Some("po-42")));
        assert_eq!(kept.buttons.len(), 1);
        assert_eq!(kept.answer.as_ref().and_then(|a| a.value.as_deref()), Some("Y"));
        // Indexed for search once, when the upgraded hub first opens (migration 10's backfill).
        let found = |q: &str| {
            let store = store.clone();
            let filter = ListFilter { text: Some(q.into()), ..ListFilter::default() };
            async move { store.search(bob.id, None, 10, filter).await.unwrap().0.iter().map(|n| n.id).collect::<Vec<_>>() }
        };
        assert_eq!(found("quarterly budg").await, [5]);
        assert_eq!(found("po 42").await, [5]);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let again = store.search(bob.id, None, 10, ListFilter { text: Some("budget".into()), ..Default::default() });
        assert_eq!(again.await.unwrap().0.len(), 1, "still found after a reopen");
        // New notifications take ids after the old ones.
        let new = store.deliver(vec![bob.id], NewNotification::new("after the upgrade")).await.unwrap();
        assert!(new[0].id > 5, "{}", new[0].id);
    }

    #[test]
    fn preference_switches_made_before_web_push_are_kept_and_web_push_ones_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.sqlite3");
        {
            let old = herald_db::open(&path, &MIGRATIONS[..12]).unwrap();
            old.execute_batch(
                "INSERT INTO users (id, name, created_at) VALUES (1, 'bob', '2026-11-01T09:00:00.000Z');
                 INSERT INTO user_preferences VALUES (1, 'social', 'desktop', 0);
                 INSERT INTO role_preferences VALUES ('finance', 'social', 'email', 0);",
            )
            .unwrap();
            assert!(old.execute("INSERT INTO user_preferences VALUES (1, 'social', 'web_push', 0)", []).is_err());
        }
        let new = herald_db::open(&path, MIGRATIONS).unwrap();
        let rows = |table: &str| -> Vec<(String, i64)> {
            let mut stmt = new.prepare(&format!("SELECT channel, enabled FROM {table} ORDER BY channel")).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
        };
        // The web inbox raised browser notifications for `desktop` until now: an "off" stays off.
        assert_eq!(rows("user_preferences"), [("desktop".to_owned(), 0), ("web_push".to_owned(), 0)]);
        assert_eq!(rows("role_preferences"), [("email".to_owned(), 0)]);
        new.execute("INSERT INTO user_preferences VALUES (1, 'social', 'email', 1)", []).unwrap();
        assert!(new.execute("INSERT INTO user_preferences VALUES (1, 'social', 'pager', 0)", []).is_err());
    }

    #[test]
    fn times_from_callers_compare_with_stored_ones() {
        assert_eq!(normalize_time("2026-11-21T12:00:00+02:00").as_deref(), Some("2026-11-21T10:00:00.000Z"));
        assert_eq!(normalize_time("2026-11-21T10:00:00.5Z").as_deref(), Some("2026-11-21T10:00:00.500Z"));
        assert!(normalize_time("2026-11-21T10:00:00Z").unwrap() < normalize_time("2026-11-21T10:00:00.123Z").unwrap());
        assert_eq!(normalize_time("yesterday"), None);
        assert_eq!(normalize_time("9999-12-31T23:59:59-01:00"), None, "year 10000 in UTC");
        assert_eq!(normalize_time("0000-01-01T00:30:00+01:00"), None, "before year 0 in UTC");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let ts = now_rfc3339();
        assert!(time::OffsetDateTime::parse(&ts, &time::format_description::well_known::Rfc3339).is_ok(), "{ts}");
        assert!(ts.ends_with('Z'), "{ts}");
    }
}
