//! The local SQLite mirror of the user's notifications.
//!
//! The agent is its only writer ([`Mirror::open`]); the inbox window reads the same file through
//! [`Mirror::open_read_only`], so it keeps working while the hub (or the agent) is down.
//! All mirror SQL lives in this module, one file per table.

mod accounts;
pub mod ids;
mod notifications;
mod outbox;
mod search;
mod search_parts;
mod text_search;

use std::path::Path;
use std::sync::{Arc, Mutex};

use herald_db::checkpoint::Checkpointer;
use herald_db::Migration;
use rusqlite::Connection;

pub use accounts::{Account, Identity, Reset};
pub use ids::AccountId;
pub use notifications::Applied;
pub use outbox::Queued;
pub use search::{Before, Query};

/// The mirror's schema, one entry per file in `migrations/mirror/` (a test checks none is missing).
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../../../../migrations/mirror/0001_init.sql") },
    Migration { version: 2, name: "channels", sql: include_str!("../../../../migrations/mirror/0002_channels.sql") },
    Migration {
        version: 3,
        name: "outbox_keys",
        sql: include_str!("../../../../migrations/mirror/0003_outbox_keys.sql"),
    },
    Migration {
        version: 4,
        name: "do_not_disturb",
        sql: include_str!("../../../../migrations/mirror/0004_do_not_disturb.sql"),
    },
    Migration {
        version: 5,
        name: "counts_and_search",
        sql: include_str!("../../../../migrations/mirror/0005_counts_and_search.sql"),
    },
    Migration { version: 6, name: "accounts", sql: include_str!("../../../../migrations/mirror/0006_accounts.sql") },
    Migration {
        version: 7,
        name: "recent_search",
        sql: include_str!("../../../../migrations/mirror/0007_recent_search.sql"),
    },
    Migration {
        version: 8,
        name: "search_parts",
        sql: include_str!("../../../../migrations/mirror/0008_search_parts.sql"),
    },
    Migration { version: 9, name: "synced_at", sql: include_str!("../../../../migrations/mirror/0009_synced_at.sql") },
];

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    Db(#[from] herald_db::DbError),
    #[error("mirror database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("mirror holds a value it cannot read: {0}")]
    Corrupt(String),
    /// A request about accounts that cannot be met (no such account, a bad name).
    #[error("{0}")]
    Account(String),
    #[error("cannot create {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Statements each connection keeps prepared. A search reads the search index part by part, one
/// statement per part (50 at 1M rows); re-preparing them each time took longer than the search.
const STATEMENT_CACHE: usize = 256;

pub struct Mirror {
    conn: Connection,
    /// The search index's part size ([`search_parts::PART_SIZE`]; tests make it small).
    part_size: search_parts::PartSize,
}

impl Mirror {
    /// Opens the mirror read-write, creating it (and its directory) if missing.
    pub fn open(path: &Path) -> Result<Self, MirrorError> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(|source| MirrorError::Io { path: dir.display().to_string(), source })?;
        }
        Ok(Self::with(herald_db::open(path, MIGRATIONS)?))
    }

    /// Opens an existing mirror for reading only (the inbox window).
    pub fn open_read_only(path: &Path) -> Result<Self, MirrorError> {
        Ok(Self::with(herald_db::open_read_only(path, MIGRATIONS)?))
    }

    /// Hands SQLite's page cache and the prepared statements back (after a big catch-up and
    /// its indexing): the agent idles most of the day, and they refill on use.
    pub fn release_memory(&mut self) -> Result<(), MirrorError> {
        self.conn.flush_prepared_statement_cache();
        self.conn.execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    pub fn open_in_memory() -> Result<Self, MirrorError> {
        Ok(Self::with(herald_db::open_in_memory(MIGRATIONS)?))
    }

    fn with(conn: Connection) -> Self {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Self { conn, part_size: search_parts::PART_SIZE }
    }
}

/// Notification text is private: the profile directory is readable by its owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// The agent's shared handle: one writer connection used from blocking threads, whose WAL is
/// checkpointed on a thread of its own (a checkpoint inside a commit was the live path's tail).
#[derive(Clone)]
pub struct SharedMirror(Arc<Shared>);

struct Shared {
    mirror: Mutex<Mirror>,
    /// None: SQLite's own checkpoints (an in-memory mirror, or the thread could not start).
    checkpointer: Option<Checkpointer>,
}

impl SharedMirror {
    pub fn new(mirror: Mirror) -> Self {
        let checkpointer = Checkpointer::start(&mirror.conn).unwrap_or_else(|e| {
            // The writer keeps SQLite's own checkpoints then: slower commits, nothing lost.
            tracing::warn!(error = %e, "cannot checkpoint the mirror in the background");
            None
        });
        Self(Arc::new(Shared { mirror: Mutex::new(mirror), checkpointer }))
    }

    /// Runs `f` on the mirror without blocking the async runtime.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Mirror) -> Result<T, MirrorError> + Send + 'static,
    ) -> Result<T, MirrorError> {
        let shared = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut mirror = shared.mirror.lock().unwrap_or_else(|p| p.into_inner());
            match &shared.checkpointer {
                Some(checkpointer) => checkpointer.watching(|| f(&mut mirror)),
                None => f(&mut mirror),
            }
        })
        .await
        .map_err(|e| MirrorError::Corrupt(format!("mirror task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_profile_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        Mirror::open(&profile.join("mirror.sqlite3")).unwrap();
        assert_eq!(std::fs::metadata(&profile).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_one_account_mirror_upgrades_keeping_its_rows_cursor_and_queued_actions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        {
            let old = herald_db::open(&path, &MIGRATIONS[..5]).unwrap();
            old.execute_batch(
                "INSERT INTO notifications (id, type, subject, body, priority, created_at, read)
                     VALUES (7, 'social.reply', 'kept', '', 'normal', '2026-11-20T10:00:00.000Z', 0),
                            (8, 'social.reply', 'read', '', 'normal', '2026-11-20T11:00:00.000Z', 1);
                 INSERT INTO unread_counts (type, unread) VALUES ('social.reply', 1);
                 UPDATE sync_state SET cursor = 42, caught_up_once = 1, hub_id = 'hub-a', user_id = 3;
                 INSERT INTO outbox (action, idempotency_key) VALUES ('{\"type\":\"read_all\"}', 'k1');",
            )
            .unwrap();
        }
        let mut mirror = Mirror::open(&path).unwrap();
        let accounts = mirror.accounts().unwrap();
        assert_eq!(accounts.len(), 1);
        let account = &accounts[0];
        assert_eq!((account.id, account.name.as_str(), account.cursor, account.unread), (1, "default", 42, 1));
        assert_eq!((account.hub_id.as_deref(), account.user_id), (Some("hub-a"), Some(3)));
        assert!(mirror.has_caught_up_once(1).unwrap());
        assert_eq!(mirror.get(7).unwrap().unwrap().subject, "kept", "the hub's ids stay the mirror's ids");
        assert_eq!(mirror.pending_actions(1, 10).unwrap()[0].key, "k1");
        // The counts survived as the account's, and their triggers still work.
        mirror.record_action(&crate::outbox::Action::MarkRead { ids: vec![7], read: true }).unwrap();
        assert_eq!(mirror.unread_count().unwrap(), 0);
    }

    #[test]
    fn a_first_version_inbox_with_answers_and_an_unkeyed_queued_action_upgrades_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        {
            let old = herald_db::open(&path, &MIGRATIONS[..1]).unwrap();
            old.execute_batch(
                r#"INSERT INTO notifications (id, type, subject, body, link, tag, priority, buttons, reply, answer, created_at, read)
                     VALUES (10, 'purchase.approval', 'Approve PO 42', 'Quarterly budget', '/po/42', 'po-42', 'high',
                             '[{"value":"Y","label":"Approve"},{"value":"N","label":"Reject","style":"cancel"}]', NULL,
                             '{"value":"Y","text":null,"at":"2026-11-20T10:05:00.000Z"}', '2026-11-20T10:00:00.000Z', 1),
                            (11, 'social.reply', 'Ann replied', 'Sounds good', NULL, NULL, 'normal', NULL,
                             '{"placeholder":"Your answer"}', NULL, '2026-11-20T11:00:00.000Z', 0);
                 UPDATE sync_state SET cursor = 9, caught_up_once = 1, hub_id = 'hub-a', user_id = 3;
                 INSERT INTO outbox (action) VALUES ('{"type":"mark_read","ids":[11],"read":true}');"#,
            )
            .unwrap();
        }
        let mut mirror = Mirror::open(&path).unwrap();
        let approval = mirror.get(10).unwrap().unwrap();
        assert_eq!(
            (approval.subject.as_str(), approval.tag.as_deref(), approval.read),
            ("Approve PO 42", Some("po-42"), true)
        );
        assert_eq!(approval.buttons.iter().map(|b| b.value.as_str()).collect::<Vec<_>>(), ["Y", "N"]);
        assert_eq!(approval.answer.as_ref().and_then(|a| a.value.as_deref()), Some("Y"));
        let reply = mirror.get(11).unwrap().unwrap();
        assert_eq!(reply.reply.map(|r| r.placeholder).as_deref(), Some("Your answer"));
        assert_eq!(mirror.unread_count().unwrap(), 1, "the counts were built from the rows");
        assert_eq!(mirror.cursor(1).unwrap(), 9);
        let queued = mirror.pending_actions(1, 10).unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].action, crate::outbox::Action::MarkRead { ids: vec![11], read: true });
        assert_eq!(queued[0].key.len(), 32, "an action queued before keys existed got one: {}", queued[0].key);
        while mirror.index_some(100).unwrap() > 0 {}
        let found = mirror.search(&Query { text: Some("budget".into()), limit: 10, ..Query::default() }).unwrap();
        assert_eq!(found.iter().map(|n| n.id).collect::<Vec<_>>(), [10], "the search index reaches old rows");
    }

    #[test]
    fn the_inbox_queries_use_an_index() {
        let mirror = Mirror::open_in_memory().unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = mirror.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let newest = "SELECT id FROM notifications WHERE 1 AND (created_at, id) < ('x', 5) ORDER BY created_at DESC, id DESC LIMIT 50";
        assert!(
            plan(newest).contains("notifications_newest") && !plan(newest).contains("TEMP B-TREE"),
            "{}",
            plan(newest)
        );
        let unread = "SELECT id FROM notifications WHERE 1 AND read = 0 ORDER BY created_at DESC, id DESC LIMIT 50";
        assert!(
            plan(unread).contains("notifications_unread") && !plan(unread).contains("TEMP B-TREE"),
            "{}",
            plan(unread)
        );
        let kind = "SELECT id FROM notifications WHERE 1 AND type = 'a.b' ORDER BY created_at DESC, id DESC LIMIT 50";
        assert!(plan(kind).contains("notifications_by_type") && !plan(kind).contains("TEMP B-TREE"), "{}", plan(kind));
    }

    #[test]
    fn every_mirror_migration_file_is_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/mirror");
        herald_db::check_listed(&dir, MIGRATIONS).unwrap();
    }

    #[test]
    fn a_database_at_every_earlier_version_upgrades_to_the_new_schema() {
        herald_db::check_upgrades(tempfile::tempdir().unwrap().path(), MIGRATIONS).unwrap();
    }
}
