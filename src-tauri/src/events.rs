//! The one place agent events reach the webview, as the `herald://event` event.

use herald_client::ipc::Event;
use tauri::{AppHandle, Emitter, Manager};

pub const EVENT_NAME: &str = "herald://event";

pub fn forward(app: &AppHandle, event: Event) {
    if event == Event::ShowInbox {
        if let Some(window) = app.get_webview_window("inbox") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    }
    if let Err(e) = app.emit(EVENT_NAME, &event) {
        tracing::warn!(error = %e, "cannot forward an agent event to the window");
    }
}
