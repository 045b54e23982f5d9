//! How Herald opens SQLite, for the hub's store and the desktop mirror alike.
//!
//! - [`open`] sets the pragmas (WAL, foreign keys, busy timeout) in one place and applies the
//!   migrations a crate passes in.
//! - [`Migration`] is one numbered, add-only `.sql` file from `migrations/<db>/NNNN_name.sql`.
//!
//! - [`checkpoint`]: WAL checkpoints on a thread of their own, not inside a writer's commit.
//! - [`notification_row`]: a notification as a row, the column list both sides share.
//! - [`keep_files_private`]: what both sides write is their user's alone (0600 / 0700).
//!
//! Shared by `herald-hub` and `herald-client` without either depending on the other.

pub mod checkpoint;
pub mod filters;
pub mod notification_row;
mod private_files;

pub use private_files::{keep_files_private, make_private};

/// Turns user text into an FTS5 query that cannot be read as FTS syntax: every word quoted and
/// required, the word being typed matching as a prefix ("purchase ord" finds "purchase order").
/// A word counts as being typed if it is the last and no space follows it. Shared by the hub's
/// history search and the desktop mirror's.
///
/// Prefixes only where needed: FTS5 answers a prefix by merging the lists of every word it
/// matches, all of them, in memory, while a whole word's list is walked lazily, skipping to the
/// rows the other words allow. With a word in every one of 1,000,000 rows, "reference 00777" took
/// 34 ms as two prefixes and takes under 1 ms as a word and a prefix (`herald-bench mirror`).
pub fn fts_query(text: &str) -> Option<String> {
    let quoted = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
    let words: Vec<String> = text.split_whitespace().map(quoted).collect();
    let (last, rest) = words.split_last()?;
    let typing = !text.ends_with(char::is_whitespace);
    let mut query = rest.to_vec();
    query.push(if typing { format!("{last}*") } else { last.clone() });
    Some(query.join(" "))
}

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// One add-only schema step. `version` is the `NNNN` of its file name and must rise by one.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: u32, name: &'static str, source: rusqlite::Error },
    #[error("database is at schema version {found}, newer than this program knows ({known}); upgrade Herald")]
    TooNew { found: u32, known: u32 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot start the {what} thread: {source}")]
    Thread { what: &'static str, source: std::io::Error },
}

/// How long a writer waits for another connection's lock before failing with SQLITE_BUSY.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if missing) a read-write database and brings its schema up to date.
pub fn open(path: &Path, migrations: &[Migration]) -> Result<Connection, DbError> {
    let conn = Connection::open(path).map_err(|source| DbError::Open { path: path.display().to_string(), source })?;
    set_pragmas(&conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    migrate(&conn, migrations)?;
    Ok(conn)
}

/// Opens an existing database read-only: for a second process (the inbox window) that must never
/// write. Fails if the schema is newer than `migrations` knows, so an old reader never misreads.
pub fn open_read_only(path: &Path, migrations: &[Migration]) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|source| DbError::Open { path: path.display().to_string(), source })?;
    set_pragmas(&conn)?;
    let found = user_version(&conn)?;
    let known = latest(migrations);
    if found > known {
        return Err(DbError::TooNew { found, known });
    }
    Ok(conn)
}

/// Opens a private in-memory database with the schema applied, for tests.
pub fn open_in_memory(migrations: &[Migration]) -> Result<Connection, DbError> {
    let conn = Connection::open_in_memory()?;
    set_pragmas(&conn)?;
    migrate(&conn, migrations)?;
    Ok(conn)
}

/// Checks that `migrations` lists exactly the `.sql` files in `dir`, numbered from the file names.
/// Each crate's tests call it, so a migration file cannot be added and forgotten.
pub fn check_listed(dir: &Path, migrations: &[Migration]) -> Result<(), String> {
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name.ends_with(".sql"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = migrations.iter().map(|m| format!("{:04}_{}.sql", m.version, m.name)).collect();
    if on_disk == listed {
        Ok(())
    } else {
        Err(format!("{} holds {on_disk:?} but the code lists {listed:?}", dir.display()))
    }
}

/// What SQLite's own checks (`integrity_check`, `foreign_key_check`) find wrong with a database.
pub fn check_integrity(conn: &Connection) -> Result<(), String> {
    let integrity: String =
        conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).map_err(|e| e.to_string())?;
    let broken_keys: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| row.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" || broken_keys != 0 {
        return Err(format!("integrity {integrity}, {broken_keys} broken foreign keys"));
    }
    Ok(())
}

/// [`check_integrity`] of the database file at `path`, opened read-only (another process may
/// have it open).
pub fn check_integrity_of(path: &Path) -> Result<(), String> {
    let conn =
        Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| e.to_string())?;
    check_integrity(&conn)
}

/// Checks that a database left at every earlier schema version upgrades to exactly the schema a
/// new one gets, and that SQLite finds nothing wrong with it afterwards (`integrity_check`,
/// `foreign_key_check`). Each crate's tests call it with its migrations, so an upgrade path that
/// breaks, or leaves an older database different from a new one, fails there.
/// `dir` is an empty directory the check may fill.
pub fn check_upgrades(dir: &Path, migrations: &[Migration]) -> Result<(), String> {
    let fresh = schema(&open(&dir.join("fresh.sqlite3"), migrations).map_err(|e| e.to_string())?)?;
    for from in 1..migrations.len() {
        let path = dir.join(format!("from-{from}.sqlite3"));
        drop(open(&path, &migrations[..from]).map_err(|e| format!("at version {from}: {e}"))?);
        let upgraded = open(&path, migrations).map_err(|e| format!("upgrading from version {from}: {e}"))?;
        if schema(&upgraded)? != fresh {
            return Err(format!("upgraded from version {from}, the schema differs from a new database's"));
        }
        check_integrity(&upgraded).map_err(|e| format!("upgraded from version {from}: {e}"))?;
    }
    Ok(())
}

/// Every table, index, view and trigger, as SQLite keeps its definition.
fn schema(conn: &Connection) -> Result<Vec<(String, String, Option<String>)>, String> {
    let mut query = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .map_err(|e| e.to_string())?;
    let rows = query.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

fn set_pragmas(conn: &Connection) -> Result<(), DbError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // WAL makes NORMAL durable against application crashes; only a power cut can lose the last commit.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn user_version(conn: &Connection) -> Result<u32, DbError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

fn latest(migrations: &[Migration]) -> u32 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Applies each migration newer than the file's `user_version`, each in its own transaction
/// together with the version bump, so a crash leaves the schema at a whole step.
fn migrate(conn: &Connection, migrations: &[Migration]) -> Result<(), DbError> {
    let found = user_version(conn)?;
    let known = latest(migrations);
    if found > known {
        return Err(DbError::TooNew { found, known });
    }
    for (index, migration) in migrations.iter().enumerate() {
        assert_eq!(migration.version as usize, index + 1, "migrations must be numbered 1, 2, 3… without gaps");
        if migration.version <= found {
            continue;
        }
        let step = |conn: &Connection| -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            conn.execute_batch(migration.sql)?;
            conn.pragma_update(None, "user_version", migration.version)?;
            conn.execute_batch("COMMIT")
        };
        if let Err(source) = step(conn) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(DbError::Migration { version: migration.version, name: migration.name, source });
        }
        tracing::info!(version = migration.version, name = migration.name, "applied migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration] = &[
        Migration { version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER);" },
        Migration { version: 2, name: "b", sql: "CREATE TABLE b (y INTEGER);" },
    ];

    #[test]
    fn upgrades_are_checked_from_every_version() {
        check_upgrades(tempfile::tempdir().unwrap().path(), STEPS).unwrap();
        // A step that only works on a database made in the same run of the program (it reads a
        // temporary table an earlier step left in that connection) fails from an older file.
        const SESSION_BOUND: &[Migration] = &[
            Migration { version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER); CREATE TEMP TABLE carried (x);" },
            Migration { version: 2, name: "b", sql: "INSERT INTO carried VALUES (1);" },
        ];
        let refused = check_upgrades(tempfile::tempdir().unwrap().path(), SESSION_BOUND).unwrap_err();
        assert!(refused.contains("upgrading from version 1"), "{refused}");
    }

    #[test]
    fn applies_each_step_once_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        open(&path, &STEPS[..1]).unwrap();
        // Reopening with one more step applies only the new one (a second CREATE TABLE a would fail).
        let conn = open(&path, STEPS).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
        conn.execute("INSERT INTO b (y) VALUES (1)", []).unwrap();
    }

    #[test]
    fn a_failing_step_leaves_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let broken = [STEPS[0], Migration { version: 2, name: "bad", sql: "CREATE TABLE c (z); NOT SQL;" }];
        let err = open(&path, &broken).unwrap_err();
        assert!(matches!(err, DbError::Migration { version: 2, .. }), "{err}");
        let conn = open(&path, &STEPS[..1]).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 1);
        let has_c: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'c'", [], |r| r.get(0)).unwrap();
        assert_eq!(has_c, 0, "the half-applied step was rolled back");
    }

    #[test]
    fn refuses_a_database_from_a_newer_program() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        open(&path, STEPS).unwrap();
        assert!(matches!(open(&path, &STEPS[..1]), Err(DbError::TooNew { found: 2, known: 1 })));
        assert!(matches!(open_read_only(&path, &STEPS[..1]), Err(DbError::TooNew { .. })));
    }

    #[test]
    fn read_only_connections_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        open(&path, STEPS).unwrap();
        let ro = open_read_only(&path, STEPS).unwrap();
        assert!(ro.execute("INSERT INTO a (x) VALUES (1)", []).is_err());
    }
}
