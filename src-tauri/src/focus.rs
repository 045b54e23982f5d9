//! The quick panel takes the keyboard focus when a tray click opens it, also under window
//! managers that prevent focus stealing (openbox, xfwm, KWin with its default level). A tray
//! click reaches herald-ui over D-Bus and then the agent's socket, so GTK's own request carries
//! no user time and such window managers ignore it: the panel shows, but Esc and hide-on-blur
//! do nothing until the user clicks into it. So once the panel is mapped, herald-ui asks again
//! the way a pager (a taskbar click) does: `_NET_ACTIVE_WINDOW` with source indication 2 and a
//! fresh server timestamp, which EWMH window managers honour as the user's own request.
//!
//! X11 only; on Wayland the compositor decides (and GTK's request is all there is).

use std::time::{Duration, Instant};

use raw_window_handle::{HasWindowHandle, RawWindowHandle};
use tauri::WebviewWindow;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ClientMessageEvent, ConnectionExt, EventMask, MapState, PropMode,
};
use x11rb::protocol::Event;

/// How long the panel may take to be mapped after it is shown.
const MAP_PATIENCE: Duration = Duration::from_secs(2);

/// Asks the window manager to give `window` the focus, as a taskbar click would. On a thread
/// of its own: it waits for the window to be mapped, and the GTK thread must go on meanwhile.
pub fn take(window: &WebviewWindow) {
    let window = window.clone();
    let spawned = std::thread::Builder::new().name("panel-focus".into()).spawn(move || {
        let Some(xid) = x11_window_of(&window) else { return };
        match activate(xid) {
            Ok(()) => tracing::debug!(xid, "asked the window manager for the panel's focus"),
            Err(e) => tracing::warn!(error = %e, "could not ask the window manager for the panel's focus"),
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread to ask for the panel's focus");
    }
}

/// The window's X id, once it has one: a window shown a moment ago may not be realized yet.
/// None on Wayland.
fn x11_window_of(window: &WebviewWindow) -> Option<u32> {
    let deadline = Instant::now() + MAP_PATIENCE;
    loop {
        match window.window_handle().map(|handle| handle.as_raw()) {
            Ok(RawWindowHandle::Xlib(handle)) => return Some(handle.window as u32),
            Ok(RawWindowHandle::Xcb(handle)) => return Some(handle.window.get()),
            Ok(_) => return None,
            Err(e) if Instant::now() > deadline => {
                tracing::warn!(error = %e, "the panel has no X window to give the focus to");
                return None;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn activate(xid: u32) -> Result<(), Box<dyn std::error::Error>> {
    let (connection, screen) = x11rb::connect(None)?;
    let root = connection.setup().roots[screen].root;
    let net_active_window = connection.intern_atom(false, b"_NET_ACTIVE_WINDOW")?.reply()?.atom;
    let stamp_atom = connection.intern_atom(false, b"_HERALD_USER_TIME")?.reply()?.atom;
    // Events of this connection's own (GTK's connection keeps its own masks).
    let mask = EventMask::STRUCTURE_NOTIFY | EventMask::PROPERTY_CHANGE;
    connection.change_window_attributes(xid, &ChangeWindowAttributesAux::new().event_mask(mask))?.check()?;
    let mapped = connection.get_window_attributes(xid)?.reply()?.map_state == MapState::VIEWABLE;
    // A server timestamp: the time of a property change on the window, read from its event.
    connection.change_property(PropMode::APPEND, xid, stamp_atom, AtomEnum::STRING, 8, 0, &[])?;
    connection.flush()?;
    let (mut mapped, mut time) = (mapped, None);
    let deadline = Instant::now() + MAP_PATIENCE;
    while !(mapped && time.is_some()) {
        match connection.poll_for_event()? {
            Some(Event::MapNotify(event)) if event.window == xid => mapped = true,
            Some(Event::PropertyNotify(event)) if event.window == xid && event.atom == stamp_atom => {
                time = Some(event.time)
            }
            Some(_) => {}
            None if Instant::now() > deadline => return Err("the panel was not mapped in time".into()),
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    // Source indication 2: a pager's request, which is the user's (EWMH, _NET_ACTIVE_WINDOW).
    let request = ClientMessageEvent::new(32, xid, net_active_window, [2, time.unwrap_or(0), 0, 0, 0]);
    let redirect = EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY;
    connection.send_event(false, root, redirect, request)?.check()?;
    Ok(())
}
