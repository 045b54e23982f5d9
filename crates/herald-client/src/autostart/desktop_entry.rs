//! The XDG autostart entry: a desktop file that the session starts at login.

use std::path::{Path, PathBuf};

/// Where the entry goes: `$XDG_CONFIG_HOME/autostart`, or `~/.config/autostart`.
#[cfg_attr(any(windows, target_os = "macos"), allow(dead_code))]
pub fn path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|home| home.join(".config")))?;
    Some(config.join("autostart").join("herald.desktop"))
}

/// The entry that starts `program` (the agent) at login.
#[cfg_attr(any(windows, target_os = "macos"), allow(dead_code))]
pub fn contents(program: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Herald\nComment=Notifications from your organisation's systems\n\
         Exec={}\nIcon=mail-unread\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        exec_quoted(program)
    )
}

/// A path as one argument of a desktop entry's `Exec` key: in double quotes, with `"`, `` ` ``,
/// `$` and `\` escaped (Desktop Entry Specification, "The Exec key"); `%` is doubled.
#[cfg_attr(any(windows, target_os = "macos"), allow(dead_code))]
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
    fn the_entry_starts_the_agent_by_its_quoted_path() {
        let text = contents(Path::new("/opt/Herald Apps/bin/herald"));
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"), "{text}");
        assert!(text.contains("\nExec=\"/opt/Herald Apps/bin/herald\"\n"), "{text}");
    }

    #[test]
    fn a_path_is_one_exec_argument_whatever_it_holds() {
        assert_eq!(exec_quoted(Path::new("/a/b")), "\"/a/b\"");
        assert_eq!(exec_quoted(Path::new("/a \"b\"/$x`y`\\z/50%")), "\"/a \\\"b\\\"/\\$x\\`y\\`\\\\z/50%%\"");
    }
}
