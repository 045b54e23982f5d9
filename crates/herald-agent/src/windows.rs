//! Starts `herald-ui` (the Tauri windows) on demand. The UI exits when its last window closes,
//! so the webview's ~120 MB is only paid while a window is open.

use std::path::PathBuf;

use herald_client::ipc::Event;
use tokio::process::{Child, Command};
use tokio::sync::broadcast;

pub struct InboxWindow {
    program: PathBuf,
    child: Option<Child>,
}

impl InboxWindow {
    /// `HERALD_UI_BIN`, or `herald-ui` next to this executable (how both are installed).
    pub fn new() -> Self {
        let program = std::env::var_os("HERALD_UI_BIN").map(PathBuf::from).unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join("herald-ui")))
                .unwrap_or_else(|| PathBuf::from("herald-ui"))
        });
        Self { program, child: None }
    }

    /// Brings the running window forward, or starts the UI; at notification `show` if given.
    pub fn open(&mut self, events: &broadcast::Sender<Event>, show: Option<i64>) {
        if let Some(child) = &mut self.child {
            if matches!(child.try_wait(), Ok(None)) {
                tracing::info!(pid = child.id(), ?show, "opening the inbox: raised the open window");
                let _ = events.send(Event::ShowInbox);
                if let Some(id) = show {
                    let _ = events.send(Event::ShowNotification { id });
                }
                return;
            }
        }
        // The UI inherits HERALD_DATA_DIR and XDG_RUNTIME_DIR, so it finds the same mirror and
        // socket; it never talks to the hub, so it does not get the token.
        let mut command = Command::new(&self.program);
        command.env_remove("HERALD_TOKEN").kill_on_drop(false);
        if let Some(id) = show {
            command.env("HERALD_UI_SHOW", id.to_string());
        }
        match command.spawn() {
            Ok(child) => {
                tracing::info!(pid = child.id(), program = %self.program.display(), ?show, "opening the inbox: started the window process");
                self.child = Some(child);
            }
            Err(e) => tracing::error!(error = %e, program = %self.program.display(), "cannot start the inbox window"),
        }
    }
}
