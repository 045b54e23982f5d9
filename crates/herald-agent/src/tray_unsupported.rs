//! Windows and macOS: the tray (the tray-icon crate) is not built yet; the agent syncs, toasts
//! and opens the inbox from a second `herald`.

use herald_client::status::Status;
use tokio::sync::{mpsc, watch};

use crate::Command;

pub async fn spawn(_status: watch::Receiver<Status>, _commands: mpsc::UnboundedSender<Command>) -> Option<()> {
    tracing::warn!("no tray icon on this platform yet");
    None
}
