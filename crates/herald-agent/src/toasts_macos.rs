//! macOS: toasts through the Notification Center (mac-notification-sys), with the same face as
//! the Linux notification daemon (`notification_daemon.rs`), so `toasts` drives both alike.
//!
//! What that API cannot do, and how Herald does without:
//! - A toast's buttons are one drop-down ("Actions") of labels; the label clicked comes back and
//!   is turned into its key here. A click on the toast itself is "default".
//! - Delivering waits for the user's answer, so each toast with buttons waits on a thread of its
//!   own, not on the runtime (whose two blocking threads are the mirror's).
//! - A toast cannot be replaced in place or taken away: an update is a new toast, and one read
//!   elsewhere stays until the user dismisses it.
//!
//! Written to build there; there is no macOS here to build or run it on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use herald_client::toast::Toast;
use mac_notification_sys::{MainButton, Notification, NotificationResponse};
use tokio::sync::mpsc;

/// What the desktop says of a toast.
#[derive(Debug, PartialEq, Eq)]
pub enum Signal {
    /// A button (or, as "default", the toast itself) was clicked.
    Clicked { toast_id: u32, key: String },
    /// Gone from the screen: dismissed, expired or closed by us.
    Closed { toast_id: u32 },
}

#[derive(Clone)]
pub struct NotificationDaemon {
    next_id: Arc<AtomicU32>,
    signals: mpsc::UnboundedSender<Signal>,
}

pub struct Signals(mpsc::UnboundedReceiver<Signal>);

impl NotificationDaemon {
    pub async fn connect() -> Result<(Self, Signals), mac_notification_sys::error::Error> {
        let (signals, heard) = mpsc::unbounded_channel();
        Ok((Self { next_id: Arc::new(AtomicU32::new(1)), signals }, Signals(heard)))
    }

    /// Shows `toast` with the system's sound or silently; returns its id. `replaces` cannot be
    /// honoured here (see the module's notes): the new toast is shown beside the old.
    pub async fn show(
        &self,
        toast: &Toast,
        _replaces: Option<u32>,
        sound: bool,
    ) -> Result<u32, mac_notification_sys::error::Error> {
        let toast_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (summary, body) = (toast.summary.clone(), toast.body.clone());
        let buttons: Vec<(String, String)> = toast.buttons.iter().map(|b| (b.key.clone(), b.label.clone())).collect();
        let signals = self.signals.clone();
        std::thread::Builder::new()
            .name(format!("toast-{toast_id}"))
            .spawn(move || {
                let labels: Vec<&str> = buttons.iter().map(|(_, label)| label.as_str()).collect();
                let mut options = Notification::new();
                options.wait_for_click(true);
                if !labels.is_empty() {
                    options.main_button(MainButton::DropdownActions("Actions", &labels));
                }
                if sound {
                    options.default_sound();
                }
                let signal = match mac_notification_sys::send_notification(&summary, None, &body, Some(&options)) {
                    Ok(NotificationResponse::Click) => Signal::Clicked { toast_id, key: "default".into() },
                    Ok(NotificationResponse::ActionButton(label)) => {
                        match buttons.iter().find(|(_, shown)| *shown == label) {
                            Some((key, _)) => Signal::Clicked { toast_id, key: key.clone() },
                            None => Signal::Closed { toast_id },
                        }
                    }
                    Ok(_) => Signal::Closed { toast_id },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot show a toast");
                        Signal::Closed { toast_id }
                    }
                };
                let _ = signals.send(signal);
            })
            .map_err(|e| tracing::warn!(error = %e, "no thread for a toast"))
            .ok();
        Ok(toast_id)
    }

    /// The Notification Center offers no way to take a delivered toast back.
    pub async fn close(&self, toast_id: u32) -> Result<(), mac_notification_sys::error::Error> {
        tracing::debug!(toast_id, "a toast cannot be closed on macOS; it stays until dismissed");
        Ok(())
    }
}

impl Signals {
    /// The next signal about a toast; None once the agent is shutting down.
    pub async fn next(&mut self) -> Option<Signal> {
        self.0.recv().await
    }
}
