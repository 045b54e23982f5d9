//! The tray icon on Linux: a StatusNotifierItem over D-Bus (ksni), so no GTK is loaded.
//! Its tooltip gives the unread count and the link state; its menu lists the newest unread,
//! marks all read, sets do-not-disturb, opens the inbox or quits.

use herald_client::ipc::OpenWindow;
use herald_client::outbox::Action;
use herald_client::status::{Status, UnreadMark};
use herald_client::toast::escape_markup;
use jiff::{Timestamp, Zoned};
use ksni::menu::{StandardItem, SubMenu};
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

    /// A left click: the quick panel, by the icon.
    fn activate(&mut self, x: i32, y: i32) {
        let _ = self.commands.send(Command::Open(OpenWindow::Panel { at: Some((x, y)), reply_to: None }));
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        let mut items: Vec<MenuItem<Self>> = self
            .status
            .latest_unread
            .iter()
            .map(|unread| {
                let id = unread.id;
                item(&menu_label(&unread.subject), "", move || Command::Open(OpenWindow::Inbox { show: Some(id) }))
                    .into()
            })
            .collect();
        if !items.is_empty() {
            items.push(MenuItem::Separator);
        }
        items.push(
            StandardItem {
                enabled: self.status.unread > 0,
                ..item("Mark all read", "mail-mark-read", || Command::Act(Action::ReadAll))
            }
            .into(),
        );
        items.push(self.do_not_disturb_menu());
        items.push(item("Open inbox", "mail-read", || Command::Open(OpenWindow::Inbox { show: None })).into());
        items.push(item("Settings", "preferences-system", || Command::Open(OpenWindow::Settings)).into());
        items.push(MenuItem::Separator);
        items.push(item("Quit", "application-exit", || Command::Quit).into());
        items
    }
}

impl HeraldTray {
    /// "Do not disturb" and its choices; the label says until when it is on.
    fn do_not_disturb_menu(&self) -> MenuItem<Self> {
        let now = Zoned::now();
        let until =
            self.status.dnd_until.as_deref().and_then(|t| t.parse::<Timestamp>().ok()).filter(|t| *t > now.timestamp());
        let label = match until {
            Some(until) => {
                format!("Do not disturb: on until {}", until.to_zoned(now.time_zone().clone()).strftime("%H:%M"))
            }
            None => "Do not disturb".to_owned(),
        };
        // The end is worked out when clicked: a menu may have been built hours before.
        let set = |end: fn(&Zoned) -> Option<Timestamp>| {
            move || Command::Act(Action::SetDoNotDisturb { until: end(&Zoned::now()).map(|t| t.to_string()) })
        };
        let mut choices = vec![
            item("For 1 hour", "", set(|now| Some(now.timestamp() + jiff::SignedDuration::from_hours(1)))).into(),
            // The start of tomorrow where the user is.
            item(
                "Until tomorrow",
                "",
                set(|now| {
                    let tomorrow = now.tomorrow().and_then(|day| day.start_of_day()).map(|day| day.timestamp());
                    Some(tomorrow.unwrap_or(now.timestamp() + jiff::SignedDuration::from_hours(24)))
                }),
            )
            .into(),
        ];
        choices.push(StandardItem { enabled: until.is_some(), ..item("Off", "", set(|_| None)) }.into());
        SubMenu { label, icon_name: "notifications-disabled".into(), submenu: choices, ..Default::default() }.into()
    }
}

/// A menu item that sends the agent a `command` when clicked.
fn item(label: &str, icon_name: &str, command: impl Fn() -> Command + Send + 'static) -> StandardItem<HeraldTray> {
    StandardItem {
        label: label.to_owned(),
        icon_name: icon_name.to_owned(),
        activate: Box::new(move |tray: &mut HeraldTray| {
            let _ = tray.commands.send(command());
        }),
        ..Default::default()
    }
}

/// A notification's subject as a menu label: one line, at most 48 characters, and its
/// underscores shown (a single one would mark an access key).
fn menu_label(subject: &str) -> String {
    let line: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String =
        if line.chars().count() > 48 { line.chars().take(47).chain(std::iter::once('…')).collect() } else { line };
    short.replace('_', "__")
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
    use super::menu_label;

    #[test]
    fn a_subject_becomes_one_short_line_with_its_underscores_shown() {
        assert_eq!(menu_label("PO_42  needs\nyour approval"), "PO__42 needs your approval");
        let long = "x".repeat(60);
        assert_eq!(menu_label(&long).chars().count(), 48);
        assert!(menu_label(&long).ends_with('…'));
        assert_eq!(menu_label("short"), "short");
    }
}
