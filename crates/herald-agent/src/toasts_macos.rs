//! macOS: toasts through the Notification Center (mac-notification-sys), with the same face as
//! the Linux notification daemon (`notification_daemon.rs`), so `toasts` drives both alike.
//!
//! What this cannot do yet, and why:
//! - No buttons, and a click only brings the system's attention to Herald: the Notification
//!   Center answers clicks on the main thread's run loop, which the agent's runtime holds (the
//!   same reason there is no tray on macOS yet). Waiting for an answer without that loop would
//!   block for ever, so toasts are sent without waiting; the inbox and `herald` carry the actions.
//! - A toast cannot be replaced in place or taken away: an update is a new toast, and one read
//!   elsewhere stays until the user dismisses it.
//!
//! Written to build there; there is no macOS here to build or run it on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use herald_client::toast::Toast;
use mac_notification_sys::error::Error;
use mac_notification_sys::Notification;
use tokio::sync::mpsc;

use crate::toasts::Signal;

#[derive(Clone)]
pub struct NotificationDaemon {
    next_id: Arc<AtomicU32>,
    /// Kept so that `Signals` stays open (it ends when every sender is gone).
    _signals: mpsc::UnboundedSender<Signal>,
}

pub struct Signals(mpsc::UnboundedReceiver<Signal>);

impl NotificationDaemon {
    pub async fn connect() -> Result<(Self, Signals), Error> {
        // Once, before any toast: two toasts setting it at the same moment would lose one.
        let bundle = mac_notification_sys::get_bundle_identifier_or_default("Herald");
        if let Err(e) = mac_notification_sys::set_application(&bundle) {
            // Not fatal: the toasts then come from the system's default sender.
            tracing::debug!(error = %e, "the Notification Center keeps its default sender");
        }
        let (signals, heard) = mpsc::unbounded_channel();
        Ok((Self { next_id: Arc::new(AtomicU32::new(1)), _signals: signals }, Signals(heard)))
    }

    /// Shows `toast` with the system's sound or silently; returns its id. `replaces` cannot be
    /// honoured here (see the module's notes): the new toast is shown beside the old.
    pub async fn show(&self, toast: &Toast, _replaces: Option<u32>, sound: bool) -> Result<u32, Error> {
        let toast_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut options = Notification::new();
        options.asynchronous(true);
        if sound {
            options.default_sound();
        }
        mac_notification_sys::send_notification(&toast.summary, None, &toast.body, Some(&options))?;
        Ok(toast_id)
    }

    /// The Notification Center offers no way to take a delivered toast back.
    pub async fn close(&self, toast_id: u32) -> Result<(), Error> {
        tracing::debug!(toast_id, "a toast cannot be closed on macOS; it stays until dismissed");
        Ok(())
    }
}

impl Signals {
    /// The next signal about a toast; on macOS none comes (see above), so this waits for ever.
    pub async fn next(&mut self) -> Option<Signal> {
        self.0.recv().await
    }
}
