//! Native toasts: carries out what `herald_client::toast::decide` picks — shows toasts (clicking
//! one opens the inbox), closes the toast of a notification read or deleted anywhere, and holds
//! toasts back during the user's quiet hours and do-not-disturb.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_client::mirror::{AccountId, SharedMirror};
use herald_client::sync::SyncEvent;
use herald_client::toast::{self, Bursts, Interruptions, Slot, Toast, ToastCommand};
use jiff::Timestamp;
use notify_rust::{Hint, Notification, NotificationResponse, Urgency};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::Command;

/// How long a shown toast stays clickable.
const TOAST_CLICK_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub fn spawn(
    mut events: broadcast::Receiver<SyncEvent>,
    commands: mpsc::UnboundedSender<Command>,
    mirror: SharedMirror,
    critical_breaks_through: bool,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // What each hub last said, kept in the mirror, so an agent started offline honours it too.
        let mut rules = Rules::load(&mirror, critical_breaks_through).await;
        let mut bursts = Bursts::default();
        let shown = Shown::default();
        loop {
            match events.recv().await {
                Ok(SyncEvent::MirrorChanged { account, applied, backfill }) => {
                    for command in toast::decide(&applied, backfill, rules.of(account), &mut bursts, Timestamp::now()) {
                        match command {
                            ToastCommand::Show(toast) => show(toast, commands.clone(), &shown).await,
                            ToastCommand::Close { notification_id } => shown.close(notification_id).await,
                        }
                    }
                }
                Ok(SyncEvent::Live { account, event }) => {
                    if let Some(toast) = toast::decide_live(&event, rules.of(account), Timestamp::now()) {
                        show(toast, commands.clone(), &shown).await;
                    }
                }
                Ok(SyncEvent::DoNotDisturb { account, settings }) => {
                    let rules = rules.of_mut(account);
                    rules.do_not_disturb = settings;
                    let quiet = rules.quiet_at(Timestamp::now());
                    tracing::info!(
                        account,
                        "toasts now {}",
                        if quiet { "held back (quiet hours or do not disturb)" } else { "shown" }
                    );
                }
                Ok(SyncEvent::ActionRejected { action, error }) => {
                    show(toast::decide_rejected(&action, &error), commands.clone(), &shown).await
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

/// Each account's do-not-disturb (a user has one per hub) and the device's own settings.
struct Rules {
    device: Interruptions,
    by_account: HashMap<AccountId, Interruptions>,
}

impl Rules {
    async fn load(mirror: &SharedMirror, critical_breaks_through: bool) -> Self {
        let device = Interruptions { critical_breaks_through, ..Interruptions::default() };
        let saved = mirror
            .call(|m| {
                m.accounts()?.into_iter().map(|a| Ok((a.id, m.do_not_disturb(a.id)?))).collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap_or_default();
        let by_account = saved
            .into_iter()
            .map(|(account, do_not_disturb)| (account, Interruptions { do_not_disturb, ..device.clone() }))
            .collect();
        Self { device, by_account }
    }

    fn of(&self, account: AccountId) -> &Interruptions {
        self.by_account.get(&account).unwrap_or(&self.device)
    }

    fn of_mut(&mut self, account: AccountId) -> &mut Interruptions {
        self.by_account.entry(account).or_insert_with(|| self.device.clone())
    }
}

/// The toasts on screen, by notification: what closing a read or deleted one needs.
#[derive(Clone, Default)]
struct Shown {
    by_notification: Arc<Mutex<HashMap<i64, u32>>>,
    /// The toast showing each tag, and the running burst summary: what a new toast replaces.
    /// The number counts how often the slot was filled, so a delayed close can tell it was
    /// filled again meanwhile.
    by_slot: Arc<Mutex<HashMap<Slot, (u32, u64)>>>,
}

/// A tagged notification replaces its predecessor on the hub as a delete and a create, which
/// may arrive a moment apart: the predecessor's toast waits this long for its successor (then it
/// is updated in place) before it closes.
const SUCCESSOR_GRACE: std::time::Duration = std::time::Duration::from_millis(750);

impl Shown {
    /// The toast `slot` takes the place of, if it is still on screen.
    fn replaces(&self, slot: &Slot) -> Option<u32> {
        if *slot == Slot::Own {
            return None;
        }
        self.by_slot.lock().unwrap_or_else(|p| p.into_inner()).get(slot).map(|(id, _)| *id)
    }

    fn hold(&self, slot: &Slot, toast_id: u32) {
        if *slot != Slot::Own {
            let mut map = self.by_slot.lock().unwrap_or_else(|p| p.into_inner());
            let filled = map.get(slot).map_or(0, |(_, filled)| filled + 1);
            map.insert(slot.clone(), (toast_id, filled));
        }
    }

    fn release(&self, slot: &Slot, toast_id: u32) {
        let mut map = self.by_slot.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(slot).is_some_and(|(id, _)| *id == toast_id) {
            map.remove(slot);
        }
    }

    /// The slot a toast fills, and how often it had been filled then.
    fn slot_of(&self, toast_id: u32) -> Option<(Slot, u64)> {
        let map = self.by_slot.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().find(|(_, (id, _))| *id == toast_id).map(|(slot, (_, filled))| (slot.clone(), *filled))
    }

    fn remember(&self, notification_id: i64, toast_id: u32) {
        self.by_notification.lock().unwrap_or_else(|p| p.into_inner()).insert(notification_id, toast_id);
    }

    fn forget(&self, notification_id: i64, toast_id: u32) {
        let mut map = self.by_notification.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&notification_id) == Some(&toast_id) {
            map.remove(&notification_id);
        }
    }

    /// Closes the notification's toast; a tagged one only if no successor takes its place within
    /// [`SUCCESSOR_GRACE`].
    async fn close(&self, notification_id: i64) {
        let Some(toast_id) = self.by_notification.lock().unwrap_or_else(|p| p.into_inner()).remove(&notification_id)
        else {
            return;
        };
        if let Some((slot, filled)) = self.slot_of(toast_id) {
            let shown = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SUCCESSOR_GRACE).await;
                let still =
                    shown.by_slot.lock().unwrap_or_else(|p| p.into_inner()).get(&slot) == Some(&(toast_id, filled));
                if still {
                    shown.release(&slot, toast_id);
                    if let Err(e) = close_toast(toast_id).await {
                        tracing::debug!(error = %e, toast_id, "could not close a toast");
                    }
                }
            });
            return;
        }
        if let Err(e) = close_toast(toast_id).await {
            tracing::debug!(error = %e, toast_id, "could not close a toast");
        }
    }
}

#[cfg(target_os = "linux")]
async fn close_toast(toast_id: u32) -> zbus::Result<()> {
    let bus = zbus::Connection::session().await?;
    bus.call_method(
        Some("org.freedesktop.Notifications"),
        "/org/freedesktop/Notifications",
        Some("org.freedesktop.Notifications"),
        "CloseNotification",
        &(toast_id,),
    )
    .await?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
async fn close_toast(_toast_id: u32) -> Result<(), std::io::Error> {
    Ok(())
}

async fn show(toast: Toast, commands: mpsc::UnboundedSender<Command>, shown: &Shown) {
    let mut notification = Notification::new();
    notification
        .appname("Herald")
        .summary(&toast.summary)
        .body(&toast.body)
        .icon("mail-unread")
        .hint(Hint::Category("im.received".into()))
        .action("default", "Open inbox")
        .urgency(if toast.critical { Urgency::Critical } else { Urgency::Normal });
    if let Some(earlier) = shown.replaces(&toast.slot) {
        // Updated in place (freedesktop replaces_id): a new PO-42 toast, a summary counting up.
        notification.id(earlier);
    }
    match notification.show_async().await {
        Ok(handle) => {
            let toast_id = handle.id();
            tracing::debug!(id = toast_id, notification = ?toast.notification_id, "toast shown");
            if let Some(id) = toast.notification_id {
                shown.remember(id, toast_id);
            }
            shown.hold(&toast.slot, toast_id);
            // Waits until the toast is clicked or closed. Each toast holds its own D-Bus connection
            // (notify-rust opens one per toast) and some daemons never report a close, so the wait
            // is bounded: after that, a click on the old toast no longer opens the inbox.
            let shown = shown.clone();
            tokio::spawn(async move {
                let wait = handle.wait_for_action_async(|response| {
                    if matches!(response, NotificationResponse::Default) {
                        let _ = commands.send(Command::OpenInbox);
                    }
                });
                let _ = tokio::time::timeout(TOAST_CLICK_WINDOW, wait).await;
                if let Some(id) = toast.notification_id {
                    shown.forget(id, toast_id);
                }
                shown.release(&toast.slot, toast_id);
            });
        }
        // No notification daemon: the tray and inbox still carry the news.
        Err(e) => tracing::warn!(error = %e, "cannot show a toast"),
    }
}
