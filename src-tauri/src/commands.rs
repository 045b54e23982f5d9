//! The commands the windows may call; each delegates to herald-client in a line or two.

use std::sync::Arc;

use herald_client::ipc::{IpcError, IpcErrorCode, Request};
use herald_client::mirror::Before;
use herald_client::outbox::Action;
use herald_client::window::{AgentLink, AgentSnapshot, InboxFilter, InboxReader};
use herald_proto::Notification;
use tauri::State;
use tauri_plugin_opener::OpenerExt;

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

/// The notification this process was started to show (`HERALD_UI_SHOW`, from the tray), once.
#[tauri::command]
pub fn take_initial_show(show: State<'_, InitialShow>) -> Option<i64> {
    show.0.lock().unwrap_or_else(|p| p.into_inner()).take()
}

pub struct InitialShow(pub std::sync::Mutex<Option<i64>>);

#[tauri::command]
pub async fn act(link: State<'_, Arc<AgentLink>>, action: Action) -> Result<(), IpcError> {
    link.send(&Request::Act { action }).await
}

#[tauri::command]
pub fn agent_snapshot(link: State<'_, Arc<AgentLink>>) -> AgentSnapshot {
    link.snapshot()
}
