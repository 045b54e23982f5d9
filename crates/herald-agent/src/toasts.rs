//! Native toasts: shows what `herald_client::toast::decide` picks. Clicking one opens the inbox.

use herald_client::sync::SyncEvent;
use herald_client::toast::{self, Toast};
use notify_rust::{Hint, Notification, NotificationResponse, Urgency};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::Command;

/// How long a shown toast stays clickable.
const TOAST_CLICK_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub fn spawn(mut events: broadcast::Receiver<SyncEvent>, commands: mpsc::UnboundedSender<Command>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(SyncEvent::MirrorChanged { applied, backfill }) => {
                    for toast in toast::decide(&applied, backfill) {
                        show(toast, commands.clone()).await;
                    }
                }
                Ok(SyncEvent::Live(event)) => show(toast::decide_live(&event), commands.clone()).await,
                Ok(SyncEvent::ActionRejected { action, error }) => {
                    show(toast::decide_rejected(&action, &error), commands.clone()).await
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "toasts fell behind; some were not shown")
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

async fn show(toast: Toast, commands: mpsc::UnboundedSender<Command>) {
    let mut notification = Notification::new();
    notification
        .appname("Herald")
        .summary(&toast.summary)
        .body(&toast.body)
        .icon("mail-unread")
        .hint(Hint::Category("im.received".into()))
        .action("default", "Open inbox")
        .urgency(if toast.critical { Urgency::Critical } else { Urgency::Normal });
    match notification.show_async().await {
        Ok(handle) => {
            tracing::debug!(id = handle.id(), notification = ?toast.notification_id, "toast shown");
            // Waits until the toast is clicked or closed. Each toast holds its own D-Bus connection
            // (notify-rust opens one per toast) and some daemons never report a close, so the wait
            // is bounded: after that, a click on the old toast no longer opens the inbox.
            tokio::spawn(async move {
                let wait = handle.wait_for_action_async(|response| {
                    if matches!(response, NotificationResponse::Default) {
                        let _ = commands.send(Command::OpenInbox);
                    }
                });
                let _ = tokio::time::timeout(TOAST_CLICK_WINDOW, wait).await;
            });
        }
        // No notification daemon: the tray and inbox still carry the news.
        Err(e) => tracing::warn!(error = %e, "cannot show a toast"),
    }
}
