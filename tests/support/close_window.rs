//! Closing a window the way a window manager does when the user clicks ×: a `WM_DELETE_WINDOW`
//! client message. (Destroying the X window instead would crash GTK, which is not what a user does.)

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
