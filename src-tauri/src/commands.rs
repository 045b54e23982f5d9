//! The commands the inbox window may call; each delegates to herald-client in one line.

use std::sync::Arc;

use herald_client::ipc::{IpcError, Request};
use herald_client::mirror::Before;
use herald_client::window::{AgentLink, AgentSnapshot, InboxReader};
use herald_proto::Notification;
use tauri::State;

#[tauri::command]
pub fn list_notifications(
    reader: State<'_, InboxReader>,
    before: Option<Before>,
    limit: u32,
) -> Result<Vec<Notification>, IpcError> {
    reader.list(before, limit)
}

#[tauri::command]
pub fn get_notification(reader: State<'_, InboxReader>, id: i64) -> Result<Option<Notification>, IpcError> {
    reader.get(id)
}

/// The notification this process was started to show (`HERALD_UI_SHOW`, from the tray), once.
#[tauri::command]
pub fn take_initial_show(show: State<'_, InitialShow>) -> Option<i64> {
    show.0.lock().unwrap_or_else(|p| p.into_inner()).take()
}

pub struct InitialShow(pub std::sync::Mutex<Option<i64>>);

#[tauri::command]
pub async fn mark_read(link: State<'_, Arc<AgentLink>>, ids: Vec<i64>, read: bool) -> Result<(), IpcError> {
    link.send(&Request::MarkRead { ids, read }).await
}

#[tauri::command]
pub fn agent_snapshot(link: State<'_, Arc<AgentLink>>) -> AgentSnapshot {
    link.snapshot()
}
