//! The local SQLite mirror of the user's notifications.
//!
//! The agent is its only writer ([`Mirror::open`]); the inbox window reads the same file through
//! [`Mirror::open_read_only`], so it keeps working while the hub (or the agent) is down.
//! All mirror SQL lives in this module, one file per table.

mod notifications;
mod outbox;
mod search;
mod sync_state;

use std::path::Path;
use std::sync::{Arc, Mutex};

use herald_db::Migration;
use rusqlite::Connection;

pub use notifications::Applied;
pub use outbox::Queued;
pub use search::Query;
pub use sync_state::{Identity, Reset};

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
];

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(transparent)]
    Db(#[from] herald_db::DbError),
    #[error("mirror database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("mirror holds a value it cannot read: {0}")]
    Corrupt(String),
    #[error("cannot create {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

pub struct Mirror {
    conn: Connection,
}

impl Mirror {
    /// Opens the mirror read-write, creating it (and its directory) if missing.
    pub fn open(path: &Path) -> Result<Self, MirrorError> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(|source| MirrorError::Io { path: dir.display().to_string(), source })?;
        }
        Ok(Self { conn: herald_db::open(path, MIGRATIONS)? })
    }

    /// Opens an existing mirror for reading only (the inbox window).
    pub fn open_read_only(path: &Path) -> Result<Self, MirrorError> {
        Ok(Self { conn: herald_db::open_read_only(path, MIGRATIONS)? })
    }

    pub fn open_in_memory() -> Result<Self, MirrorError> {
        Ok(Self { conn: herald_db::open_in_memory(MIGRATIONS)? })
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

/// The agent's shared handle: one writer connection used from blocking threads.
#[derive(Clone)]
pub struct SharedMirror(Arc<Mutex<Mirror>>);

impl SharedMirror {
    pub fn new(mirror: Mirror) -> Self {
        Self(Arc::new(Mutex::new(mirror)))
    }

    /// Runs `f` on the mirror without blocking the async runtime.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Mirror) -> Result<T, MirrorError> + Send + 'static,
    ) -> Result<T, MirrorError> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || f(&mut inner.lock().unwrap_or_else(|p| p.into_inner())))
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
    fn every_mirror_migration_file_is_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/mirror");
        herald_db::check_listed(&dir, MIGRATIONS).unwrap();
    }
}
