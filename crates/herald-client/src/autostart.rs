//! Start at login, opt-in. On Linux (and other XDG desktops) an autostart entry,
//! `$XDG_CONFIG_HOME/autostart/herald.desktop`, that the session starts at login; Windows (a
//! `Run` registry value) and macOS (a LaunchAgent) would go here too, and are not written yet.

use std::io;
use std::path::{Path, PathBuf};

/// Where the entry goes: `$XDG_CONFIG_HOME/autostart`, or `~/.config/autostart`.
pub fn entry_path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|home| home.join(".config")))?;
    Some(config.join("autostart").join("herald.desktop"))
}

pub fn is_enabled(entry: &Path) -> bool {
    entry.exists()
}

/// Writes the entry that starts `program` (the agent) at login.
pub fn enable(entry: &Path, program: &Path) -> io::Result<()> {
    if let Some(dir) = entry.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let contents = format!(
        "[Desktop Entry]\nType=Application\nName=Herald\nComment=Notifications from your organisation's systems\n\
         Exec={}\nIcon=mail-unread\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        exec_quoted(program)
    );
    // Written whole, then moved into place: a session starting meanwhile never reads half a file.
    let partial = entry.with_extension("desktop.partial");
    std::fs::write(&partial, contents)?;
    std::fs::rename(&partial, entry)
}

pub fn disable(entry: &Path) -> io::Result<()> {
    match std::fs::remove_file(entry) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// A path as one argument of a desktop entry's `Exec` key: in double quotes, with `"`, `` ` ``,
/// `$` and `\` escaped (Desktop Entry Specification, "The Exec key"); `%` is doubled.
fn exec_quoted(program: &Path) -> String {
    let mut quoted = String::from("\"");
    for c in program.to_string_lossy().chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '%' => quoted.push_str("%%"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_writes_an_entry_that_starts_the_agent_and_disabling_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("autostart").join("herald.desktop");
        assert!(!is_enabled(&entry));
        enable(&entry, Path::new("/opt/Herald Apps/bin/herald")).unwrap();
        assert!(is_enabled(&entry));
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"), "{text}");
        assert!(text.contains("\nExec=\"/opt/Herald Apps/bin/herald\"\n"), "{text}");
        enable(&entry, Path::new("/usr/bin/herald")).unwrap();
        assert!(std::fs::read_to_string(&entry).unwrap().contains("\nExec=\"/usr/bin/herald\"\n"), "written anew");
        disable(&entry).unwrap();
        assert!(!is_enabled(&entry));
        disable(&entry).unwrap();
    }

    #[test]
    fn a_path_is_one_exec_argument_whatever_it_holds() {
        assert_eq!(exec_quoted(Path::new("/a/b")), "\"/a/b\"");
        assert_eq!(exec_quoted(Path::new("/a \"b\"/$x`y`\\z/50%")), "\"/a \\\"b\\\"/\\$x\\`y\\`\\\\z/50%%\"");
    }
}
