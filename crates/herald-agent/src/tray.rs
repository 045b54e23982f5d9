//! The tray icon on Linux: a StatusNotifierItem over D-Bus (ksni), so no GTK is loaded.
//! Its tooltip gives the unread count and the link state; its menu opens the inbox or quits.

use herald_client::status::{Status, UnreadMark};
use herald_client::toast::escape_markup;
use ksni::menu::StandardItem;
use ksni::{MenuItem, ToolTip, TrayMethods};
use tokio::sync::{mpsc, watch};

use crate::{tray_icon, Command};

pub struct HeraldTray {
    status: Status,
    commands: mpsc::UnboundedSender<Command>,
}

impl ksni::Tray for HeraldTray {
    fn id(&self) -> String {
        "herald".into()
    }

    fn title(&self) -> String {
        "Herald".into()
    }

    fn status(&self) -> ksni::Status {
        match self.status.badge().unread {
            UnreadMark::None => ksni::Status::Active,
            UnreadMark::Few(_) | UnreadMark::Many => ksni::Status::NeedsAttention,
        }
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        tray_icon::SIZES.iter().map(|&size| tray_icon::draw(self.status.badge(), size)).collect()
    }

    fn tool_tip(&self) -> ToolTip {
        // The description may be read as markup; the reason text comes from errors, so escape it.
        ToolTip { title: "Herald".into(), description: escape_markup(&self.status.tooltip()), ..Default::default() }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.commands.send(Command::OpenInbox);
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        vec![
            StandardItem {
                label: "Open inbox".into(),
                icon_name: "mail-read".into(),
                activate: Box::new(|tray: &mut Self| {
                    let _ = tray.commands.send(Command::OpenInbox);
                }),
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            StandardItem {
                label: "Quit".into(),
                icon_name: "application-exit".into(),
                activate: Box::new(|tray: &mut Self| {
                    let _ = tray.commands.send(Command::Quit);
                }),
                ..Default::default()
            }
            .into(),
        ]
    }
}

/// Publishes the tray and keeps it in step with `status`. Without a session bus there is no tray;
/// the agent still syncs and the inbox still opens from a second `herald`.
pub async fn spawn(
    mut status: watch::Receiver<Status>,
    commands: mpsc::UnboundedSender<Command>,
) -> Option<ksni::Handle<HeraldTray>> {
    let tray = HeraldTray { status: status.borrow().clone(), commands };
    // No StatusNotifierWatcher (a bare session, a test) is not fatal: a panel that starts later
    // finds the item, and tests can drive it over D-Bus directly.
    let handle = match tray.assume_sni_available(true).spawn().await {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, "no tray icon");
            return None;
        }
    };
    let updates = handle.clone();
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            if updates.update(|tray| tray.status = current).await.is_none() {
                return;
            }
        }
    });
    Some(handle)
}
