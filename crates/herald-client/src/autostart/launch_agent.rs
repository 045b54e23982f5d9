//! macOS: a LaunchAgent, `~/Library/LaunchAgents/<LABEL>.plist`, that launchd loads at login
//! and that runs the agent once (`RunAtLoad`), not again when it quits (no `KeepAlive`: Quit in
//! the tray means quit).
//!
//! The file is plain XML, so it is built and tested on every system; only macOS uses it.

#![cfg_attr(not(target_os = "macos"), allow(dead_code))]

use std::path::{Path, PathBuf};

pub const LABEL: &str = "app.herald.agent";

pub fn path() -> Option<PathBuf> {
    dirs::home_dir().map(|home| home.join("Library").join("LaunchAgents").join(format!("{LABEL}.plist")))
}

/// The property list that starts `program` at login.
pub fn contents(program: &Path) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \t<key>Label</key>\n\t<string>{LABEL}</string>\n\
         \t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>{}</string>\n\t</array>\n\
         \t<key>RunAtLoad</key>\n\t<true/>\n\
         \t<key>ProcessType</key>\n\t<string>Interactive</string>\n\
         </dict>\n</plist>\n",
        xml_text(&program.to_string_lossy())
    )
}

/// Text as XML character data: a path may hold `&` or `<`.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launch_agent_runs_the_agent_at_login_once() {
        let plist = contents(Path::new("/Applications/Herald & Co.app/Contents/MacOS/herald"));
        assert!(plist.contains("<key>Label</key>\n\t<string>app.herald.agent</string>"), "{plist}");
        assert!(
            plist.contains(
                "<array>\n\t\t<string>/Applications/Herald &amp; Co.app/Contents/MacOS/herald</string>\n\t</array>"
            ),
            "{plist}"
        );
        assert!(plist.contains("<key>RunAtLoad</key>\n\t<true/>"), "{plist}");
        assert!(!plist.contains("KeepAlive"), "Quit means quit");
    }
}
