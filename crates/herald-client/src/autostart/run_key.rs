//! Windows: the value `Herald` in `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`,
//! which Windows runs at the user's sign-in. The user's own key: no administrator needed.
//!
//! Tested under Wine (`scripts/test-windows.sh`); not run on Windows itself here.

use std::io;
use std::path::Path;

/// The key Windows reads at sign-in; tests use one of their own.
pub const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
pub const VALUE: &str = "Herald";
/// `HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)`: the registry's "no such value", which reaches
/// `io::Error` as a raw code, not as `ErrorKind::NotFound`.
const NO_SUCH_VALUE: i32 = 0x8007_0002_u32 as i32;

pub fn is_enabled(key: &str) -> bool {
    windows_registry::CURRENT_USER.open(key).and_then(|key| key.get_string(VALUE)).is_ok()
}

pub fn enable(key: &str, program: &Path) -> io::Result<()> {
    Ok(windows_registry::CURRENT_USER.create(key)?.set_string(VALUE, command(program))?)
}

pub fn disable(key: &str) -> io::Result<()> {
    let key = windows_registry::CURRENT_USER.create(key)?;
    match key.remove_value(VALUE).map_err(io::Error::from) {
        // Not there: already off.
        Err(e) if e.raw_os_error() == Some(NO_SUCH_VALUE) => Ok(()),
        other => other,
    }
}

/// The command line: the path quoted, as it may hold spaces ("C:\Program Files\Herald\herald.exe").
pub fn command(program: &Path) -> String {
    format!("\"{}\"", program.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabling_sets_the_run_value_and_disabling_removes_it() {
        let key = format!(r"Software\Herald\Tests\Run-{}", std::process::id());
        let program = Path::new(r"C:\Program Files\Herald\herald.exe");
        assert!(!is_enabled(&key));
        enable(&key, program).unwrap();
        assert!(is_enabled(&key));
        let value = windows_registry::CURRENT_USER.open(&key).unwrap().get_string(VALUE).unwrap();
        assert_eq!(value, r#""C:\Program Files\Herald\herald.exe""#);
        disable(&key).unwrap();
        assert!(!is_enabled(&key));
        disable(&key).expect("already off is fine");
        let _ = windows_registry::CURRENT_USER.remove_tree(r"Software\Herald\Tests");
    }
}
