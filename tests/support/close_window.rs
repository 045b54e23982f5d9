//! Closing a window the way a window manager does when the user clicks ×: a `WM_DELETE_WINDOW`
//! client message. (Destroying the X window instead would crash GTK, which is not what a user does.)
//! And moving the focus to another application's window, as a click on it does.

use std::process::Command;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};

/// Waits until a window titled `title` is shown (mapped) on `display` and returns its id.
pub fn find(display: &str, title: &str) -> u32 {
    let out = Command::new("xdotool")
        .args(["search", "--sync", "--onlyvisible", "--name", title])
        .env("DISPLAY", display)
        .output()
        .expect("xdotool (apt package xdotool)");
    let ids = String::from_utf8_lossy(&out.stdout);
    ids.lines().next().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("no window titled {title:?}"))
}

/// Asks window `id` to close, as the × button would.
pub fn request_close(display: &str, id: u32) {
    let (conn, _) = x11rb::connect(Some(display)).expect("connecting to the X server");
    let protocols = conn.intern_atom(false, b"WM_PROTOCOLS").unwrap().reply().unwrap().atom;
    let delete = conn.intern_atom(false, b"WM_DELETE_WINDOW").unwrap().reply().unwrap().atom;
    let event = ClientMessageEvent::new(32, id, protocols, [delete, x11rb::CURRENT_TIME, 0, 0, 0]);
    conn.send_event(false, id, EventMask::NO_EVENT, event).unwrap();
    conn.flush().unwrap();
}

/// Clicks inside window `id`, as a user does before typing in it.
pub fn click_into(display: &str, id: u32) {
    let status = Command::new("xdotool")
        .args(["mousemove", "--sync", "--window", &id.to_string(), "40", "40", "click", "1"])
        .env("DISPLAY", display)
        .status()
        .expect("xdotool (apt package xdotool)");
    assert!(status.success(), "xdotool could not click into window {id}");
}

/// Maps a plain window on `display` and asks the window manager to make it the active one, as a
/// click on another application does. The window lives as long as what is returned.
pub fn focus_new_window(display: &str) -> OtherWindow {
    use x11rb::protocol::xproto::{AtomEnum, CreateWindowAux, PropMode, WindowClass};
    use x11rb::wrapper::ConnectionExt as _;
    let (conn, screen) = x11rb::connect(Some(display)).expect("connecting to the X server");
    let root = conn.setup().roots[screen].root;
    let window = conn.generate_id().unwrap();
    conn.create_window(0, window, root, 100, 100, 300, 200, 0, WindowClass::INPUT_OUTPUT, 0, &CreateWindowAux::new())
        .unwrap();
    conn.change_property8(PropMode::REPLACE, window, AtomEnum::WM_NAME, AtomEnum::STRING, b"elsewhere").unwrap();
    conn.map_window(window).unwrap();
    conn.flush().unwrap();
    // The window manager maps it (and may focus it at once); _NET_ACTIVE_WINDOW, source 2 (a
    // user's request), asks it to make it the active window in any case.
    let active = conn.intern_atom(false, b"_NET_ACTIVE_WINDOW").unwrap().reply().unwrap().atom;
    let event = ClientMessageEvent::new(32, window, active, [2, x11rb::CURRENT_TIME, 0, 0, 0]);
    let mask = EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY;
    conn.send_event(false, root, mask, event).unwrap();
    conn.flush().unwrap();
    OtherWindow { _conn: conn }
}

/// Another application's window: it goes when this is dropped (with its X connection).
pub struct OtherWindow {
    _conn: x11rb::rust_connection::RustConnection,
}
