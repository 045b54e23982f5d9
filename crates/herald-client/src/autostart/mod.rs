//! Start at login, opt-in, by each system's own mechanism:
//! - Linux (and other XDG desktops): an autostart entry, `$XDG_CONFIG_HOME/autostart/herald.desktop`
//!   ([`desktop_entry`]).
//! - macOS: a LaunchAgent, `~/Library/LaunchAgents/<label>.plist` ([`launch_agent`]).
//! - Windows: a value in the user's `Run` registry key ([`run_key`]).

mod desktop_entry;
mod launch_agent;
#[cfg(windows)]
mod run_key;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where start-at-login is kept on this system.
pub struct Autostart(Place);

enum Place {
    /// A file that the session reads at login, written whole with `contents`.
    #[cfg_attr(windows, allow(dead_code))]
    File { path: PathBuf, contents: fn(&Path) -> String },
    /// A value in this registry key (HKEY_CURRENT_USER).
    #[cfg(windows)]
    RunKey(&'static str),
}

/// This system's place for it; None when there is no home directory to keep it in.
pub fn here() -> Option<Autostart> {
    #[cfg(windows)]
    return Some(Autostart(Place::RunKey(run_key::RUN)));
    #[cfg(target_os = "macos")]
    return launch_agent::path().map(|path| Autostart(Place::File { path, contents: launch_agent::contents }));
    #[cfg(not(any(windows, target_os = "macos")))]
    return desktop_entry::path().map(|path| Autostart(Place::File { path, contents: desktop_entry::contents }));
}

impl Autostart {
    pub fn is_enabled(&self) -> bool {
        match &self.0 {
            Place::File { path, .. } => path.exists(),
            #[cfg(windows)]
            Place::RunKey(key) => run_key::is_enabled(key),
        }
    }

    /// Starts `program` (the agent) at login from now on.
    pub fn enable(&self, program: &Path) -> io::Result<()> {
        match &self.0 {
            Place::File { path, contents } => write_whole(path, &contents(program)),
            #[cfg(windows)]
            Place::RunKey(key) => run_key::enable(key, program),
        }
    }

    pub fn disable(&self) -> io::Result<()> {
        match &self.0 {
            Place::File { path, .. } => match std::fs::remove_file(path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
            #[cfg(windows)]
            Place::RunKey(key) => run_key::disable(key),
        }
    }
}

/// Where it is, for messages.
impl fmt::Display for Autostart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Place::File { path, .. } => write!(f, "{}", path.display()),
            #[cfg(windows)]
            Place::RunKey(key) => write!(f, r"HKEY_CURRENT_USER\{key}\{}", run_key::VALUE),
        }
    }
}

/// Written whole, then moved into place: a session starting meanwhile never reads half a file.
fn write_whole(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, contents)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_writes_the_file_that_starts_the_agent_and_disabling_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("autostart").join("herald.desktop");
        let entry = Autostart(Place::File { path: path.clone(), contents: desktop_entry::contents });
        assert!(!entry.is_enabled());
        entry.enable(Path::new("/opt/Herald Apps/bin/herald")).unwrap();
        assert!(entry.is_enabled());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            desktop_entry::contents(Path::new("/opt/Herald Apps/bin/herald"))
        );
        entry.enable(Path::new("/usr/bin/herald")).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("\nExec=\"/usr/bin/herald\"\n"), "written anew");
        entry.disable().unwrap();
        assert!(!entry.is_enabled());
        entry.disable().unwrap();
        assert_eq!(entry.to_string(), path.display().to_string());
    }
}
