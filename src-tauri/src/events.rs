//! The one place agent events reach the pages, as the `herald://event` event. A request to open
//! a window opens it here; its page then takes the request (`take_open`).

use herald_client::ipc::Event;
use tauri::{AppHandle, Emitter};

pub const EVENT_NAME: &str = "herald://event";

pub fn forward(app: &AppHandle, event: Event) {
    if let Event::Open(request) = &event {
        crate::windows::open(app, request.clone());
    }
    if let Err(e) = app.emit(EVENT_NAME, &event) {
        tracing::warn!(error = %e, "cannot forward an agent event to the windows");
    }
}
