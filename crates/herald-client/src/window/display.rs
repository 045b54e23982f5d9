//! Whether herald-ui has a display to open windows on. Without one the webview's toolkit panics
//! deep inside its event loop; herald-ui asks first, says why in a sentence and ends with
//! [`NO_DISPLAY_STATUS`], and the agent, seeing that status, stops starting it.

/// herald-ui's exit status when there is no display (sysexits' `EX_UNAVAILABLE`).
pub const NO_DISPLAY_STATUS: i32 = 69;

/// Why no window can open here, or None if a display answers. Checked by connecting, as the
/// toolkit would: a variable left set after its server went is no display either.
pub fn missing_display() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    missing_display_of(var("WAYLAND_DISPLAY"), var("DISPLAY"), var("XDG_RUNTIME_DIR"))
}

#[cfg(not(target_os = "linux"))]
fn missing_display_of(_wayland: Option<String>, _x11: Option<String>, _runtime_dir: Option<String>) -> Option<String> {
    // Windows and macOS always have their desktop's window server.
    None
}

#[cfg(target_os = "linux")]
fn missing_display_of(wayland: Option<String>, x11: Option<String>, runtime_dir: Option<String>) -> Option<String> {
    let mut why = Vec::new();
    if let Some(wayland) = &wayland {
        let path = std::path::Path::new(runtime_dir.as_deref().unwrap_or_default()).join(wayland);
        match std::os::unix::net::UnixStream::connect(&path) {
            Ok(_) => return None,
            Err(e) => why.push(format!("the Wayland display {} does not answer ({e})", path.display())),
        }
    }
    if let Some(x11) = &x11 {
        match x11_answers(x11) {
            Ok(()) => return None,
            Err(e) => why.push(format!("the X display {x11} does not answer ({e})")),
        }
    }
    if why.is_empty() {
        why.push("neither WAYLAND_DISPLAY nor DISPLAY is set".into());
    }
    Some(why.join("; "))
}

#[cfg(target_os = "linux")]
fn x11_answers(display: &str) -> Result<(), String> {
    x11rb::connect(Some(display)).map(drop).map_err(|e| e.to_string())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn no_display_is_said_in_a_sentence() {
        let why = missing_display_of(None, None, None).expect("no display");
        assert_eq!(why, "neither WAYLAND_DISPLAY nor DISPLAY is set");
        let dir = tempfile::tempdir().unwrap();
        let runtime = dir.path().to_str().map(str::to_owned);
        let why = missing_display_of(Some("wayland-9".into()), Some(":4711".into()), runtime).expect("none answers");
        assert!(why.contains("the Wayland display") && why.contains("wayland-9"), "{why}");
        assert!(why.contains("the X display :4711 does not answer"), "{why}");
        // A Wayland compositor's socket that listens is a display.
        let _compositor = std::os::unix::net::UnixListener::bind(dir.path().join("wayland-1")).unwrap();
        assert_eq!(missing_display_of(Some("wayland-1".into()), None, dir.path().to_str().map(str::to_owned)), None);
    }
}
