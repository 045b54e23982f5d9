//! The tray's menu as data, the same on every system: the newest unread (a click opens the inbox
//! at one), Mark all read, Do not disturb (1 hour / until tomorrow / off), Open inbox, Settings,
//! Quit. Each tray backend (`tray.rs` on Linux, `tray_windows.rs`) draws it in its own widgets.

use std::sync::Arc;

use herald_client::ipc::OpenWindow;
use herald_client::outbox::Action;
use herald_client::status::Status;
use jiff::{Timestamp, Zoned};

use crate::Command;

/// What clicking an item asks of the agent, worked out at the click (a menu may have been built
/// hours before: "for 1 hour" counts from the click).
pub type OnClick = Arc<dyn Fn() -> Command + Send + Sync>;

pub enum Entry {
    Item {
        /// Plain text: each backend escapes its own access-key character.
        label: String,
        /// A freedesktop icon name, where the backend shows icons (Linux); may be empty.
        #[cfg_attr(windows, allow(dead_code))]
        icon: &'static str,
        enabled: bool,
        on_click: OnClick,
    },
    Submenu {
        label: String,
        #[cfg_attr(windows, allow(dead_code))]
        icon: &'static str,
        entries: Vec<Entry>,
    },
    Separator,
}

fn item(label: impl Into<String>, icon: &'static str, on_click: impl Fn() -> Command + Send + Sync + 'static) -> Entry {
    Entry::Item { label: label.into(), icon, enabled: true, on_click: Arc::new(on_click) }
}

fn disabled_unless(enabled: bool, entry: Entry) -> Entry {
    match entry {
        Entry::Item { label, icon, on_click, .. } => Entry::Item { label, icon, enabled, on_click },
        other => other,
    }
}

/// The menu for `status`.
pub fn entries(status: &Status) -> Vec<Entry> {
    let mut entries: Vec<Entry> = status
        .latest_unread
        .iter()
        .map(|unread| {
            let id = unread.id;
            item(one_line(&unread.subject), "", move || Command::Open(OpenWindow::Inbox { show: Some(id) }))
        })
        .collect();
    if !entries.is_empty() {
        entries.push(Entry::Separator);
    }
    entries.push(disabled_unless(
        status.unread > 0,
        item("Mark all read", "mail-mark-read", || Command::Act(Action::ReadAll)),
    ));
    entries.push(do_not_disturb(status));
    entries.push(item("Open inbox", "mail-read", || Command::Open(OpenWindow::Inbox { show: None })));
    entries.push(item("Settings", "preferences-system", || Command::Open(OpenWindow::Settings)));
    entries.push(Entry::Separator);
    entries.push(item("Quit", "application-exit", || Command::Quit));
    entries
}

/// "Do not disturb" and its choices; the label says until when it is on.
fn do_not_disturb(status: &Status) -> Entry {
    let now = Zoned::now();
    let until = status.dnd_until.as_deref().and_then(|t| t.parse::<Timestamp>().ok()).filter(|t| *t > now.timestamp());
    let label = match until {
        Some(until) => {
            format!("Do not disturb: on until {}", until.to_zoned(now.time_zone().clone()).strftime("%H:%M"))
        }
        None => "Do not disturb".to_owned(),
    };
    let set = |end: fn(&Zoned) -> Option<Timestamp>| {
        move || Command::Act(Action::SetDoNotDisturb { until: end(&Zoned::now()).map(|t| t.to_string()) })
    };
    let entries = vec![
        item("For 1 hour", "", set(|now| Some(now.timestamp() + jiff::SignedDuration::from_hours(1)))),
        // The start of tomorrow where the user is.
        item(
            "Until tomorrow",
            "",
            set(|now| {
                let tomorrow = now.tomorrow().and_then(|day| day.start_of_day()).map(|day| day.timestamp());
                Some(tomorrow.unwrap_or(now.timestamp() + jiff::SignedDuration::from_hours(24)))
            }),
        ),
        disabled_unless(until.is_some(), item("Off", "", set(|_| None))),
    ];
    Entry::Submenu { label, icon: "notifications-disabled", entries }
}

/// A notification's subject as a menu label: one line, at most 48 characters.
fn one_line(subject: &str) -> String {
    let line: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 48 {
        line.chars().take(47).chain(std::iter::once('…')).collect()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_client::status::Unread;

    fn labels(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Item { label, enabled: true, .. } => label.clone(),
                Entry::Item { label, enabled: false, .. } => format!("({label})"),
                Entry::Submenu { label, entries, .. } => format!("{label} > {}", labels(entries).join(", ")),
                Entry::Separator => "—".into(),
            })
            .collect()
    }

    #[test]
    fn the_menu_lists_the_newest_unread_then_what_the_user_can_do() {
        let mut status = Status::default();
        assert_eq!(
            labels(&entries(&status)),
            [
                "(Mark all read)",
                "Do not disturb > For 1 hour, Until tomorrow, (Off)",
                "Open inbox",
                "Settings",
                "—",
                "Quit"
            ]
        );
        status.unread = 2;
        status.latest_unread = vec![
            Unread { id: 7, subject: "PO-42  needs\nyour approval".into() },
            Unread { id: 6, subject: "x".repeat(60) },
        ];
        let menu = entries(&status);
        let shown = labels(&menu);
        assert_eq!(shown[0], "PO-42 needs your approval");
        assert_eq!(shown[1].chars().count(), 48);
        assert!(shown[1].ends_with('…'));
        assert_eq!(&shown[2..4], ["—", "Mark all read"]);
        let Entry::Item { on_click, .. } = &menu[0] else { panic!("an item") };
        assert!(matches!(on_click(), Command::Open(OpenWindow::Inbox { show: Some(7) })));
    }
}
