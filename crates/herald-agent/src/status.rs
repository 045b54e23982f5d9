//! Folds sync events into the tray's [`Status`] and tells open windows what changed.

use herald_client::ipc::Event;
use herald_client::mirror::SharedMirror;
use herald_client::status::Status;
use herald_client::sync::SyncEvent;
use tokio::sync::{broadcast, watch};

pub async fn run(
    mut sync: broadcast::Receiver<SyncEvent>,
    mirror: SharedMirror,
    status: watch::Sender<Status>,
    windows: broadcast::Sender<Event>,
) {
    refresh_unread(&mirror, &status, &windows).await;
    loop {
        match sync.recv().await {
            Ok(SyncEvent::Connection(connection)) => {
                status.send_modify(|s| s.connection = connection.clone());
                let _ = windows.send(Event::Connection { connection });
            }
            Ok(SyncEvent::MirrorChanged { .. }) => refresh_unread(&mirror, &status, &windows).await,
            Ok(SyncEvent::Progress { done, total }) => {
                let _ = windows.send(Event::SyncProgress { done, total });
            }
            Ok(SyncEvent::Live(event)) => {
                status.send_modify(|s| s.add_live(event, jiff::Timestamp::now()));
                let events = status.borrow().live.clone();
                let _ = windows.send(Event::LiveEvents { events });
            }
            Ok(SyncEvent::OutboxFlushed { .. } | SyncEvent::DoNotDisturb(_) | SyncEvent::ActionRejected { .. }) => {}
            // Missed some events: the mirror is the truth, so re-read it.
            Err(broadcast::error::RecvError::Lagged(_)) => refresh_unread(&mirror, &status, &windows).await,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Re-reads the unread count after the mirror changed, and tells the windows.
pub async fn refresh_unread(mirror: &SharedMirror, status: &watch::Sender<Status>, windows: &broadcast::Sender<Event>) {
    match mirror.call(|m| m.unread_count()).await {
        Ok(unread) => {
            status.send_modify(|s| s.unread = unread);
            let _ = windows.send(Event::InboxChanged { unread });
        }
        Err(e) => tracing::error!(error = %e, "cannot read the unread count"),
    }
}
