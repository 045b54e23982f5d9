//! The tray icon on Linux: a StatusNotifierItem over D-Bus (ksni), so no GTK is loaded.
//! Its tooltip gives the unread count and the link state; its menu lists the newest unread,
//! marks all read, sets do-not-disturb, opens the inbox or quits.

use herald_client::ipc::OpenWindow;
use herald_client::status::{Status, UnreadMark};
use herald_client::toast::escape_markup;
use ksni::menu::{StandardItem, SubMenu};
use ksni::{MenuItem, ToolTip, TrayMethods};
use tokio::sync::{mpsc, watch};

use crate::tray_menu::{self, Entry};
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

    /// A left click: the quick panel, by the icon.
    fn activate(&mut self, x: i32, y: i32) {
        let _ = self.commands.send(Command::Open(OpenWindow::Panel { at: Some((x, y)), reply_to: None }));
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        tray_menu::entries(&self.status).into_iter().map(menu_item).collect()
    }
}

/// One entry of the menu as a dbusmenu item.
fn menu_item(entry: Entry) -> MenuItem<HeraldTray> {
    match entry {
        Entry::Item { label, icon, enabled, on_click } => StandardItem {
            label: access_key_free(&label),
            icon_name: icon.to_owned(),
            enabled,
            activate: Box::new(move |tray: &mut HeraldTray| {
                let _ = tray.commands.send(on_click());
            }),
            ..Default::default()
        }
        .into(),
        Entry::Submenu { label, icon, entries } => SubMenu {
            label: access_key_free(&label),
            icon_name: icon.to_owned(),
            submenu: entries.into_iter().map(menu_item).collect(),
            ..Default::default()
        }
        .into(),
        Entry::Separator => MenuItem::Separator,
    }
}

/// A label with its underscores shown: dbusmenu reads a single one as an access key.
fn access_key_free(label: &str) -> String {
    label.replace('_', "__")
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

#[cfg(test)]
mod tests {
    use super::access_key_free;

    #[test]
    fn underscores_are_shown_not_taken_for_access_keys() {
        assert_eq!(access_key_free("PO_42 needs approval"), "PO__42 needs approval");
    }
}
