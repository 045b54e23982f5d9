//! The commands the windows may call; each delegates to herald-client in a line or two.

use std::sync::Arc;

use herald_client::ipc::settings::{SettingsAnswer, SettingsQuestion};
use herald_client::ipc::{IpcError, IpcErrorCode, OpenWindow, Request};
use herald_client::mirror::Before;
use herald_client::outbox::Action;
use herald_client::window::{AgentLink, AgentSnapshot, InboxFilter, InboxReader};
use herald_proto::Notification;
use tauri::State;
use tauri_plugin_opener::OpenerExt;

use crate::windows::Windows;

#[tauri::command]
pub fn search_notifications(
    reader: State<'_, InboxReader>,
    filter: InboxFilter,
    before: Option<Before>,
    limit: u32,
) -> Result<Vec<Notification>, IpcError> {
    reader.search(&filter, before, limit)
}

#[tauri::command]
pub fn get_notification(reader: State<'_, InboxReader>, id: i64) -> Result<Option<Notification>, IpcError> {
    reader.get(id)
}

#[tauri::command]
pub fn notification_types(reader: State<'_, InboxReader>) -> Result<Vec<String>, IpcError> {
    reader.types()
}

#[tauri::command]
pub fn synced_at(reader: State<'_, InboxReader>) -> Result<Option<String>, IpcError> {
    reader.synced_at()
}

/// Opens notification `id`'s link in the browser. The page names a notification, not a URL:
/// only links the mirror holds, and only http/https ones, are ever opened.
#[tauri::command]
pub fn open_link(app: tauri::AppHandle, reader: State<'_, InboxReader>, id: i64) -> Result<(), IpcError> {
    let url = reader.link(id)?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| IpcError { code: IpcErrorCode::LinkRefused, message: format!("cannot open the browser: {e}") })
}

/// What the calling window was last asked to open at (a notification, a reply box), once.
#[tauri::command]
pub fn take_open(window: tauri::Window, windows: State<'_, Arc<Windows>>) -> Option<OpenWindow> {
    windows.pending.take(window.label())
}

/// Opens another window (the panel's "Open inbox", its settings button), and tells the pages,
/// as a request from the agent would: an open inbox shows the notification asked for.
#[tauri::command]
pub fn open_window(app: tauri::AppHandle, request: OpenWindow) {
    crate::events::forward(&app, herald_client::ipc::Event::Open(request));
}

/// Hides the calling window (the quick panel's Esc).
#[tauri::command]
pub fn dismiss(window: tauri::Window) {
    crate::windows::dismiss(&window);
}

#[tauri::command]
pub async fn act(link: State<'_, Arc<AgentLink>>, action: Action) -> Result<(), IpcError> {
    link.send(&Request::Act { action }).await
}

#[tauri::command]
pub async fn snooze_live(link: State<'_, Arc<AgentLink>>, event_id: String, minutes: u32) -> Result<(), IpcError> {
    link.send(&Request::SnoozeLive { event_id, minutes }).await
}

/// The settings window's questions (accounts, sign-in test, preferences, this device).
#[tauri::command]
pub async fn ask(link: State<'_, Arc<AgentLink>>, question: SettingsQuestion) -> Result<SettingsAnswer, IpcError> {
    link.ask(question).await
}

#[tauri::command]
pub fn agent_snapshot(link: State<'_, Arc<AgentLink>>) -> AgentSnapshot {
    link.snapshot()
}
