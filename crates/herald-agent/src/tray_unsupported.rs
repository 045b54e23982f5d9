//! macOS (and other systems): no tray yet. A macOS status item must live on the main thread's run
//! loop, which the agent's runtime holds; until that moves, the agent syncs, toasts and opens the
//! inbox from a second `herald`.

use herald_client::status::Status;
use tokio::sync::{mpsc, watch};

use crate::Command;

pub async fn spawn(_status: watch::Receiver<Status>, _commands: mpsc::UnboundedSender<Command>) -> Option<()> {
    tracing::warn!("no tray icon on this platform yet");
    None
}
