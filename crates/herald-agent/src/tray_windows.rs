//! The tray icon on Windows: a notification-area icon (tray-icon, the Tauri project's) with the
//! same drawn badge, tooltip and menu as on Linux. Windows delivers its clicks as window
//! messages, so the icon lives on a thread of its own running a message loop (tao's); the agent
//! tells it of each new status through the loop, and its clicks go straight to the agent.
//!
//! Built here (`cargo clippy --target x86_64-pc-windows-gnu`); not run here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_client::ipc::OpenWindow;
use herald_client::status::Status;
use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tao::platform::windows::EventLoopBuilderExtWindows;
use tokio::sync::{mpsc, oneshot, watch};
use tray_icon::menu::{Menu, MenuEvent, MenuId, MenuItem, PredefinedMenuItem, Submenu};
use tray_icon::{Icon, MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};

use crate::tray_menu::{self, Entry, OnClick};
use crate::{tray_icon as drawn, Command};

/// The notification area shows 16 px at 100 %, 32 px at 200 %; Windows scales from the nearest.
const SIZE: i32 = 32;

/// What each menu item does, by its id; replaced whenever the menu is built anew.
type Actions = Arc<Mutex<HashMap<MenuId, OnClick>>>;

/// What the agent tells the tray's thread.
enum ToTray {
    Status(Box<Status>),
    /// Take the icon away (the agent is quitting), then say so: an icon left to the process's
    /// end stays in the notification area as a ghost until the mouse passes over it.
    Remove(std::sync::mpsc::Sender<()>),
}

/// The running tray; dropping it takes the icon away.
pub struct TrayHandle(EventLoopProxy<ToTray>);

impl Drop for TrayHandle {
    fn drop(&mut self) {
        let (removed, done) = std::sync::mpsc::channel();
        if self.0.send_event(ToTray::Remove(removed)).is_ok() {
            let _ = done.recv_timeout(std::time::Duration::from_millis(500));
        }
    }
}

/// Shows the icon and keeps it in step with `status`; None if Windows would not take it.
pub async fn spawn(
    mut status: watch::Receiver<Status>,
    commands: mpsc::UnboundedSender<Command>,
) -> Option<TrayHandle> {
    let (ready, started) = oneshot::channel();
    let first = status.borrow().clone();
    let spawned = std::thread::Builder::new().name("tray".into()).spawn(move || run(first, commands, ready));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread for the tray icon");
        return None;
    }
    let proxy = match started.await {
        Ok(Ok(proxy)) => proxy,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "no tray icon");
            return None;
        }
        Err(_) => return None,
    };
    let updates = proxy.clone();
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            if updates.send_event(ToTray::Status(Box::new(current))).is_err() {
                return;
            }
        }
    });
    Some(TrayHandle(proxy))
}

/// The tray thread: its message loop, which never returns.
fn run(
    first: Status,
    commands: mpsc::UnboundedSender<Command>,
    ready: oneshot::Sender<Result<EventLoopProxy<ToTray>, String>>,
) {
    let event_loop = EventLoopBuilder::<ToTray>::with_user_event().with_any_thread(true).build();
    let actions: Actions = Arc::default();
    listen(commands.clone(), actions.clone());
    let mut ready = Some((ready, event_loop.create_proxy()));
    let mut tray: Option<TrayIcon> = None;
    // What the menu was last built from: rebuilt only when that changes, as a menu replaced
    // while open loses the click being made on it.
    let mut menu_of = MenuKey::of(&first);
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            // Made once the loop runs, as tray-icon asks.
            Event::NewEvents(StartCause::Init) => {
                let Some((ready, proxy)) = ready.take() else { return };
                match build(&first, &actions) {
                    Ok(icon) => {
                        tray = Some(icon);
                        let _ = ready.send(Ok(proxy));
                    }
                    // The loop stays, idle: leaving it would end the process (tao exits on leaving).
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            }
            Event::UserEvent(ToTray::Status(status)) => {
                if let Some(tray) = &tray {
                    let key = MenuKey::of(&status);
                    show(tray, &status, (key != menu_of).then_some(&actions));
                    menu_of = key;
                }
            }
            Event::UserEvent(ToTray::Remove(removed)) => {
                tray = None;
                let _ = removed.send(());
            }
            // tao sends this on WM_ENDSESSION and ends the process right after it: the agent
            // must have stopped by then (its lock let go, its engines ended).
            Event::LoopDestroyed => crate::session::end_and_wait("Windows is ending the logon session"),
            _ => {}
        }
    });
}

fn build(status: &Status, actions: &Actions) -> Result<TrayIcon, String> {
    let tray = TrayIconBuilder::new()
        .with_id("herald")
        .with_icon(icon(status)?)
        .with_tooltip(tooltip(status))
        .with_menu(Box::new(menu(status, actions)))
        // A left click opens the quick panel; the menu is for the right button.
        .with_menu_on_left_click(false)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(tray)
}

/// Shows `status`: the icon and tooltip, and the menu anew when `rebuild_menu` is given.
fn show(tray: &TrayIcon, status: &Status, rebuild_menu: Option<&Actions>) {
    match icon(status) {
        Ok(icon) => {
            if let Err(e) = tray.set_icon(Some(icon)) {
                tracing::warn!(error = %e, "cannot change the tray icon");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot draw the tray icon"),
    }
    let _ = tray.set_tooltip(Some(tooltip(status)));
    if let Some(actions) = rebuild_menu {
        tray.set_menu(Some(Box::new(menu(status, actions))));
    }
}

/// What the menu shows of a status.
#[derive(PartialEq, Eq)]
struct MenuKey {
    latest_unread: Vec<(i64, String)>,
    any_unread: bool,
    dnd_until: Option<String>,
}

impl MenuKey {
    fn of(status: &Status) -> Self {
        Self {
            latest_unread: status.latest_unread.iter().map(|u| (u.id, u.subject.clone())).collect(),
            any_unread: status.unread > 0,
            dnd_until: status.dnd_until.clone(),
        }
    }
}

/// The drawn icon, from ARGB (as StatusNotifierItem wants it) to RGBA.
fn icon(status: &Status) -> Result<Icon, String> {
    let rgba = drawn::argb(status.badge(), SIZE).chunks_exact(4).flat_map(|p| [p[1], p[2], p[3], p[0]]).collect();
    Icon::from_rgba(rgba, SIZE as u32, SIZE as u32).map_err(|e| e.to_string())
}

/// The notification area takes 127 UTF-16 units of tooltip (tray-icon copies no more, and
/// would drop the terminating NUL): longer ones are cut, never inside a character.
fn tooltip(status: &Status) -> String {
    let text = format!("Herald — {}", status.tooltip());
    if text.encode_utf16().count() <= 127 {
        return text;
    }
    let mut cut = String::new();
    let mut units = 1; // the '…'
    for c in text.chars() {
        units += c.len_utf16();
        if units > 127 {
            break;
        }
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// The menu for `status`; what its items do goes into `actions`, by id.
fn menu(status: &Status, actions: &Actions) -> Menu {
    let menu = Menu::new();
    let mut by_id = HashMap::new();
    for entry in tray_menu::entries(status) {
        let appended = match entry {
            Entry::Submenu { label, entries, .. } => {
                let submenu = Submenu::new(access_key_free(&label), true);
                for entry in entries {
                    append_to(&submenu, entry, &mut by_id);
                }
                menu.append(&submenu)
            }
            entry => match widget(entry, &mut by_id) {
                Widget::Item(item) => menu.append(&item),
                Widget::Separator(separator) => menu.append(&separator),
            },
        };
        if let Err(e) = appended {
            tracing::warn!(error = %e, "cannot build the tray menu");
        }
    }
    *actions.lock().unwrap_or_else(|p| p.into_inner()) = by_id;
    menu
}

enum Widget {
    Item(MenuItem),
    Separator(PredefinedMenuItem),
}

fn widget(entry: Entry, by_id: &mut HashMap<MenuId, OnClick>) -> Widget {
    match entry {
        Entry::Item { label, enabled, on_click, .. } => {
            let item = MenuItem::new(access_key_free(&label), enabled, None);
            by_id.insert(item.id().clone(), on_click);
            Widget::Item(item)
        }
        // One level deep: the menu has no submenu within a submenu.
        Entry::Submenu { label, .. } => Widget::Item(MenuItem::new(access_key_free(&label), false, None)),
        Entry::Separator => Widget::Separator(PredefinedMenuItem::separator()),
    }
}

fn append_to(submenu: &Submenu, entry: Entry, by_id: &mut HashMap<MenuId, OnClick>) {
    let appended = match widget(entry, by_id) {
        Widget::Item(item) => submenu.append(&item),
        Widget::Separator(separator) => submenu.append(&separator),
    };
    if let Err(e) = appended {
        tracing::warn!(error = %e, "cannot build the tray menu");
    }
}

/// Clicks on the icon and its menu, from whichever thread Windows delivers them on.
fn listen(commands: mpsc::UnboundedSender<Command>, actions: Actions) {
    let clicks = commands.clone();
    TrayIconEvent::set_event_handler(Some(move |event: TrayIconEvent| {
        if let TrayIconEvent::Click {
            button: MouseButton::Left, button_state: MouseButtonState::Up, position, ..
        } = event
        {
            let at = Some((position.x as i32, position.y as i32));
            let _ = clicks.send(Command::Open(OpenWindow::Panel { at, reply_to: None }));
        }
    }));
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let on_click = actions.lock().unwrap_or_else(|p| p.into_inner()).get(&event.id).cloned();
        if let Some(on_click) = on_click {
            let _ = commands.send(on_click());
        }
    }));
}

/// A label with its ampersands shown: Windows menus read a single one as an access key.
fn access_key_free(label: &str) -> String {
    label.replace('&', "&&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_client::sync::ConnectionState;

    #[test]
    fn a_long_tooltip_is_cut_within_what_the_notification_area_takes() {
        let reason = "🔥".repeat(100);
        let status = Status { connection: ConnectionState::Offline { reason, retry_in_ms: None }, ..Status::default() };
        let text = tooltip(&status);
        assert!(text.encode_utf16().count() <= 127, "{} units", text.encode_utf16().count());
        assert!(text.starts_with("Herald — ") && text.ends_with('…'), "{text}");
        assert_eq!(tooltip(&Status::default()), format!("Herald — {}", Status::default().tooltip()));
    }

    #[test]
    fn the_menu_is_rebuilt_only_when_what_it_shows_changes() {
        let before = Status::default();
        let offline = Status {
            connection: ConnectionState::Offline { reason: "no network".into(), retry_in_ms: None },
            ..Status::default()
        };
        assert!(MenuKey::of(&before) == MenuKey::of(&offline), "the link state is in the tooltip, not the menu");
        let unread = Status { unread: 1, ..Status::default() };
        assert!(MenuKey::of(&before) != MenuKey::of(&unread), "Mark all read becomes clickable");
    }
}
