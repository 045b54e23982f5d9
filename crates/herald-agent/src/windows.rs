//! Starts `herald-ui` (the Tauri windows) on demand, or asks the running one to open a window.
//! The UI ends a grace period after its last window closes, so the webview's ~120 MB is paid
//! only while a window is open (and briefly after, so reopening the panel is instant).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use herald_client::ipc::{Event, OpenWindow};
use herald_client::window::display::NO_DISPLAY_STATUS;
use tokio::process::{Child, Command};
use tokio::sync::broadcast;

pub struct Windows {
    program: PathBuf,
    /// The herald-ui started here, while it runs (its exit is awaited in a task of its own).
    running: Option<Arc<AtomicBool>>,
    /// herald-ui processes on the agent's socket, whoever started them.
    ui_links: Arc<AtomicUsize>,
    /// Why herald-ui cannot open windows here (it said there is no display): it is not started
    /// again, so no request turns into a loop of failing starts.
    cannot_open: Arc<Mutex<Option<String>>>,
}

impl Windows {
    /// `HERALD_UI_BIN`, or `herald-ui` next to this executable (how both are installed).
    pub fn new(ui_links: Arc<AtomicUsize>) -> Self {
        let program = std::env::var_os("HERALD_UI_BIN").map(PathBuf::from).unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(format!("herald-ui{}", std::env::consts::EXE_SUFFIX))))
                .unwrap_or_else(|| PathBuf::from("herald-ui"))
        });
        Self { program, running: None, ui_links, cannot_open: Arc::default() }
    }

    /// A herald-ui said it is ending: the one started here (if it is that one, or not yet
    /// connected) is no longer counted as running, so the next window starts a new process.
    /// A UI started by hand that stays connected still takes the next window.
    pub fn ui_leaving(&mut self) {
        self.running = None;
    }

    /// Asks the running UI to open the window, or starts the UI for it.
    pub fn open(&mut self, events: &broadcast::Sender<Event>, request: OpenWindow) {
        let started_here = self.running.as_ref().is_some_and(|running| running.load(Ordering::SeqCst));
        // A UI started here that has not connected yet still counts: a request in that moment
        // goes out as an event it may miss (a click lost), never as a second process.
        if started_here || self.ui_links.load(Ordering::Relaxed) > 0 {
            tracing::info!(?request, "opening a window in the running UI");
            let _ = events.send(Event::Open(request));
            return;
        }
        if let Some(why) = self.cannot_open.lock().unwrap_or_else(|p| p.into_inner()).as_deref() {
            tracing::debug!(?request, why, "no window: herald-ui cannot open one here");
            return;
        }
        // The UI inherits HERALD_DATA_DIR and XDG_RUNTIME_DIR, so it finds the same mirror and
        // socket; it never talks to the hub, so it does not get the token.
        let mut command = Command::new(&self.program);
        let json = serde_json::to_string(&request).expect("a window request is plain data");
        command.env_remove("HERALD_TOKEN").env("HERALD_UI_OPEN", json).kill_on_drop(false);
        match command.spawn() {
            Ok(child) => {
                tracing::info!(pid = child.id(), program = %self.program.display(), ?request, "opening a window: started the UI");
                let running = Arc::new(AtomicBool::new(true));
                tokio::spawn(await_exit(child, running.clone(), self.cannot_open.clone()));
                self.running = Some(running);
            }
            Err(e) => tracing::error!(error = %e, program = %self.program.display(), "cannot start the window process"),
        }
    }
}

/// Waits for a herald-ui started here to end. One that ended for want of a display is said
/// once, and not started again.
async fn await_exit(mut child: Child, running: Arc<AtomicBool>, cannot_open: Arc<Mutex<Option<String>>>) {
    let status = child.wait().await;
    running.store(false, Ordering::SeqCst);
    match status {
        Ok(status) if status.code() == Some(NO_DISPLAY_STATUS) => {
            let why = "herald-ui found no display to open windows on".to_owned();
            tracing::error!(%status, "{why}: windows stay closed until herald runs in a desktop session");
            *cannot_open.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        }
        Ok(status) if !status.success() => tracing::warn!(%status, "the window process ended with an error"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "lost track of the window process"),
    }
}
