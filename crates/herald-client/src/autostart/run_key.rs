//! Windows: the value `Herald` in `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`,
//! which Windows runs at the user's sign-in. The user's own key: no administrator needed.
//!
//! Built here (`cargo check --target x86_64-pc-windows-gnu`); there is no Windows to run it on.

use std::io;
use std::path::Path;

pub const KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
pub const VALUE: &str = "Herald";

pub fn is_enabled() -> bool {
    windows_registry::CURRENT_USER.open(KEY).and_then(|key| key.get_string(VALUE)).is_ok()
}

pub fn enable(program: &Path) -> io::Result<()> {
    // Quoted: the path may hold spaces ("C:\Program Files\Herald\herald.exe").
    let command = format!("\"{}\"", program.display());
    Ok(windows_registry::CURRENT_USER.create(KEY)?.set_string(VALUE, command)?)
}

pub fn disable() -> io::Result<()> {
    let key = windows_registry::CURRENT_USER.create(KEY)?;
    match key.remove_value(VALUE).map_err(io::Error::from) {
        // Not there: already off.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
