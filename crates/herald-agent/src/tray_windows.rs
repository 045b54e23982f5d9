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

/// The running tray; dropping it leaves the icon to the process's end.
pub struct TrayHandle(#[allow(dead_code)] EventLoopProxy<Status>);

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
            if updates.send_event(current).is_err() {
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
    ready: oneshot::Sender<Result<EventLoopProxy<Status>, String>>,
) {
    let event_loop = EventLoopBuilder::<Status>::with_user_event().with_any_thread(true).build();
    let actions: Actions = Arc::default();
    listen(commands.clone(), actions.clone());
    let mut ready = Some((ready, event_loop.create_proxy()));
    let mut tray: Option<TrayIcon> = None;
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
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        *control_flow = ControlFlow::Exit;
                    }
                }
            }
            Event::UserEvent(status) => {
                if let Some(tray) = &tray {
                    show(tray, &status, &actions);
                }
            }
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

fn show(tray: &TrayIcon, status: &Status, actions: &Actions) {
    match icon(status) {
        Ok(icon) => {
            if let Err(e) = tray.set_icon(Some(icon)) {
                tracing::warn!(error = %e, "cannot change the tray icon");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot draw the tray icon"),
    }
    let _ = tray.set_tooltip(Some(tooltip(status)));
    tray.set_menu(Some(Box::new(menu(status, actions))));
}

/// The drawn icon, from ARGB (as StatusNotifierItem wants it) to RGBA.
fn icon(status: &Status) -> Result<Icon, String> {
    let rgba = drawn::argb(status.badge(), SIZE).chunks_exact(4).flat_map(|p| [p[1], p[2], p[3], p[0]]).collect();
    Icon::from_rgba(rgba, SIZE as u32, SIZE as u32).map_err(|e| e.to_string())
}

/// The notification area cuts tooltips at 127 characters.
fn tooltip(status: &Status) -> String {
    let text = format!("Herald — {}", status.tooltip());
    if text.chars().count() > 127 {
        text.chars().take(126).chain(std::iter::once('…')).collect()
    } else {
        text
    }
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
