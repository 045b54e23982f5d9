//! Files Herald writes are its user's alone: the hub's database and the desktop's mirror, their
//! WAL and shared-memory files, logs, tokens, settings. Set once at a process's start, as the
//! file-creation mask, so no path that creates a file can forget it (SQLite makes `-wal` and
//! `-shm` files itself; the log appender makes its files itself).

/// Makes every file and directory this process creates from now on 0600 / 0700 (Unix). Windows
/// keeps a profile's files to their user by the profile directory's own access list.
pub fn keep_files_private() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o077));
}

/// Takes group and other permissions off `path` if it exists (Unix): a file or directory made
/// before the mask was set, by an older version, stays no more open than a new one.
pub fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o077))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn an_older_file_open_to_others_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mirror.sqlite3");
        std::fs::write(&file, "").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        make_private(&file).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        make_private(&dir.path().join("missing")).expect("nothing to do");
    }
}
