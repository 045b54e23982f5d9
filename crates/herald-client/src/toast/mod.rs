//! Which synced notifications become native toasts, and what the toasts say.
//!
//! The agent only renders what this decides. Rules: history is not news (no toasts for the first
//! catch-up of a new mirror), nothing already read, nothing without the `desktop` channel, a
//! notification with a tag takes the place of the toast with that tag, and a burst (after a night
//! offline, or many in a few seconds) becomes one summary that counts up in place instead of a
//! wall of popups.

use std::collections::VecDeque;

use herald_proto::{ApiError, Channel, DoNotDisturb, Notification, Priority};
use jiff::Timestamp;

use crate::mirror::Applied;
use crate::outbox::Action;
use crate::quiet::is_quiet;

mod live;
#[cfg(test)]
mod testing;

pub use live::{countdown, decide_live};

/// More new notifications than this within [`BURST_WINDOW`] are summarised in one toast.
pub const MAX_INDIVIDUAL: usize = 3;
/// How close together toasts make a burst.
pub const BURST_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);
/// Toast bodies are a glance, not the message; the inbox has the rest.
const MAX_BODY_CHARS: usize = 240;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// Plain text.
    pub summary: String,
    /// Plain text, untrusted: each desktop's backend escapes it for its own format (the
    /// freedesktop body markup, a Windows toast's XML), so it can never become markup.
    pub body: String,
    /// The notification this toast is about; None for a summary of several.
    pub notification_id: Option<i64>,
    /// Shown with critical urgency (stays until dismissed on most desktops).
    pub critical: bool,
    /// Which toast on screen this one takes the place of, so an update never stacks.
    pub slot: Slot,
    /// Its buttons, in order (most desktops show three at most).
    pub buttons: Vec<ToastButton>,
    /// When its words change (a countdown): decide again then and show it in place.
    pub refresh_at: Option<Timestamp>,
    /// Stays on screen until dismissed (a reminder).
    pub resident: bool,
}

impl Toast {
    /// A toast that only says something: no notification behind it, no buttons, not critical.
    pub fn plain(summary: impl Into<String>, body: impl Into<String>) -> Self {
        Toast {
            summary: summary.into(),
            body: body.into(),
            notification_id: None,
            critical: false,
            slot: Slot::Own,
            buttons: Vec::new(),
            refresh_at: None,
            resident: false,
        }
    }
}

/// A button on a toast, and what pressing it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToastButton {
    /// The freedesktop action key, unique on its toast.
    pub key: String,
    /// Plain text.
    pub label: String,
    pub does: Press,
}

/// What pressing a toast's button does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// Records a user action, as if done in the inbox.
    Act(Action),
    /// Takes the toast away and raises it again after this long (a reminder).
    Snooze(jiff::SignedDuration),
    /// Opens the quick panel at this notification's reply box (a toast cannot take text).
    Reply(i64),
}

/// The buttons a toast shows at most; desktops drop the rest.
const MAX_BUTTONS: usize = 3;

/// A notification's toast buttons: its confirm choices while unanswered (seed 003), "Reply" if
/// it takes a reply not given yet, then "Mark read", as many as fit.
fn notification_buttons(n: &Notification) -> Vec<ToastButton> {
    let choices = n.answer.is_none().then_some(&n.buttons).into_iter().flatten().map(|b| ToastButton {
        key: format!("confirm:{}", b.value),
        label: plain(&b.label),
        does: Press::Act(Action::Confirm { id: n.id, value: b.value.clone() }),
    });
    let reply = (n.reply.is_some() && n.answer.is_none()).then(|| ToastButton {
        key: "reply".into(),
        label: "Reply".into(),
        does: Press::Reply(n.id),
    });
    let read = ToastButton {
        key: "read".into(),
        label: "Mark read".into(),
        does: Press::Act(Action::MarkRead { ids: vec![n.id], read: true }),
    };
    choices.chain(reply).chain(std::iter::once(read)).take(MAX_BUTTONS).collect()
}

/// Where a toast goes on screen (the freedesktop `replaces_id`, tracked by the agent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A toast of its own.
    Own,
    /// In place of the toast showing this tag (a newer notification of the same thing, seed 003).
    Tag(String),
    /// In place of the running summary of a burst.
    Summary,
    /// In place of the toast of this live event (a shutdown countdown ticking down).
    Live(String),
}

/// The toasts of the last [`BURST_WINDOW`]: past [`MAX_INDIVIDUAL`], new ones fold into one
/// summary that counts up until the burst is over.
#[derive(Debug, Default)]
pub struct Bursts {
    recent: VecDeque<Timestamp>,
    /// Notifications folded into the running summary.
    summarised: usize,
}

impl Bursts {
    /// Counts `fresh` new toasts at `now`; returns the summary's count if they fold into it.
    fn take(&mut self, fresh: usize, now: Timestamp) -> Option<usize> {
        while self.recent.front().is_some_and(|&at| now.duration_since(at) > BURST_WINDOW) {
            self.recent.pop_front();
        }
        if self.recent.is_empty() {
            self.summarised = 0;
        }
        let folds = self.summarised > 0 || self.recent.len() + fresh > MAX_INDIVIDUAL;
        self.recent.extend(std::iter::repeat_n(now, fresh));
        if self.recent.len() > 1_000 {
            self.recent.drain(..self.recent.len() - 1_000);
        }
        folds.then(|| {
            self.summarised += fresh;
            self.summarised
        })
    }
}

/// What the agent does with toasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToastCommand {
    Show(Toast),
    /// The notification was read or deleted (here or on another device): its toast goes.
    Close {
        notification_id: i64,
    },
}

/// When toasts may interrupt: the hub's quiet hours and do-not-disturb, a local snooze, and
/// whether critical ones break through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruptions {
    pub do_not_disturb: DoNotDisturb,
    /// Toasts held back on this device until then.
    pub snoozed_until: Option<Timestamp>,
    /// Critical notifications, calls and shutdown warnings toast even when quiet.
    pub critical_breaks_through: bool,
}

impl Default for Interruptions {
    fn default() -> Self {
        Self { do_not_disturb: DoNotDisturb::default(), snoozed_until: None, critical_breaks_through: true }
    }
}

impl Interruptions {
    /// Whether only what breaks through may toast at `now`.
    pub fn quiet_at(&self, now: Timestamp) -> bool {
        self.snoozed_until.is_some_and(|until| now < until) || is_quiet(&self.do_not_disturb, now)
    }

    fn lets_through(&self, critical: bool, quiet: bool) -> bool {
        !quiet || (critical && self.critical_breaks_through)
    }
}

/// The toasts to show and close for what the mirror just applied.
pub fn decide(
    applied: &Applied,
    backfill: bool,
    rules: &Interruptions,
    bursts: &mut Bursts,
    now: Timestamp,
) -> Vec<ToastCommand> {
    let mut commands: Vec<ToastCommand> = applied
        .deleted
        .iter()
        .chain(&applied.read)
        .map(|&notification_id| ToastCommand::Close { notification_id })
        .collect();
    if backfill {
        return commands;
    }
    let quiet = rules.quiet_at(now);
    // Only what the hub resolved for the desktop channel (the user's preferences, seed 001), and
    // while quiet only what breaks through; the inbox has the rest either way.
    let fresh: Vec<&Notification> = applied
        .created
        .iter()
        .filter(|n| !n.read && n.channels.contains(&Channel::Desktop))
        .filter(|n| rules.lets_through(n.priority == Priority::Critical, quiet))
        .collect();
    let Some(newest) = fresh.last() else { return commands };
    if let Some(total) = bursts.take(fresh.len(), now) {
        commands.push(ToastCommand::Show(Toast {
            summary: format!("{total} new notifications"),
            body: clip(&format!("Latest: {}", newest.subject)),
            notification_id: None,
            critical: fresh.iter().any(|n| n.priority == Priority::Critical),
            slot: Slot::Summary,
            buttons: Vec::new(),
            refresh_at: None,
            resident: false,
        }));
        return commands;
    }
    commands.extend(fresh.into_iter().map(|n| {
        ToastCommand::Show(Toast {
            summary: plain(&n.subject),
            body: clip(&n.body),
            notification_id: Some(n.id),
            critical: n.priority == Priority::Critical,
            slot: n.tag.clone().map_or(Slot::Own, Slot::Tag),
            buttons: notification_buttons(n),
            refresh_at: None,
            resident: false,
        })
    }));
    commands
}

/// The hub refused something the user did (and the inbox took it back): say so, or the user
/// would believe it done.
pub fn decide_rejected(action: &Action, error: &ApiError) -> Toast {
    let what = match action {
        Action::MarkRead { read: true, .. } | Action::ReadAll | Action::ReadFrom { .. } => "mark as read",
        Action::MarkRead { read: false, .. } => "mark as unread",
        Action::Delete { .. } => "delete",
        Action::Confirm { .. } => "send your choice",
        Action::Answer { .. } => "send your reply",
        Action::RespondToEvent { .. } => "send your response",
        Action::SetDoNotDisturb { .. } => "change do-not-disturb",
    };
    Toast::plain(format!("Herald could not {what}"), clip(&error.message))
}

/// Bidirectional overrides, embeddings, isolates and marks (U+202A–U+202E, U+2066–U+2069,
/// U+200E, U+200F, U+061C): in untrusted text they reorder what is shown, so that
/// "invoice\u{202E}fdp.exe" reads as "invoiceexe.pdf". Shown inertly: dropped.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn clip(text: &str) -> String {
    let text: String = text.chars().filter(|c| !is_bidi_control(*c)).collect();
    let text = text.trim();
    if text.chars().count() <= MAX_BODY_CHARS {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(MAX_BODY_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

/// One line, no control characters.
fn plain(text: &str) -> String {
    let text = text.chars().filter(|c| !is_bidi_control(*c));
    text.map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// The freedesktop spec lets servers that advertise `body-markup` read `<b>`, `<a href>`, `<img>`
/// in the body; notification text is untrusted, so every markup character is escaped.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use herald_proto::QuietHours;

    use super::testing::{button, do_not_disturb, keys, now};
    use super::*;

    fn note(id: i64, subject: &str, body: &str, read: bool) -> Notification {
        Notification { body: body.into(), read, ..Notification::plain(id, subject, "2026-11-21T10:00:00Z") }
    }

    fn applied(created: Vec<Notification>) -> Applied {
        Applied { created, cursor: 1, ..Applied::default() }
    }

    /// The toasts shown, under no quiet rules.
    fn shown(applied: &Applied, backfill: bool) -> Vec<Toast> {
        shown_with(applied, backfill, &Interruptions::default())
    }

    fn shown_with(applied: &Applied, backfill: bool, rules: &Interruptions) -> Vec<Toast> {
        decide(applied, backfill, rules, &mut Bursts::default(), now())
            .into_iter()
            .filter_map(|c| match c {
                ToastCommand::Show(toast) => Some(toast),
                ToastCommand::Close { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_confirm_request_offers_its_choices_on_the_toast_and_an_answered_one_only_mark_read() {
        let mut invite = note(5, "Meeting at 10?", "", false);
        invite.buttons = vec![button("Y", "Accept"), button("N", "Decline <now>")];
        let toast = shown(&applied(vec![invite.clone()]), false).remove(0);
        assert_eq!(keys(&toast), [("confirm:Y", "Accept"), ("confirm:N", "Decline <now>"), ("read", "Mark read")]);
        assert_eq!(toast.buttons[1].does, Press::Act(Action::Confirm { id: 5, value: "N".into() }));
        assert_eq!(toast.buttons[2].does, Press::Act(Action::MarkRead { ids: vec![5], read: true }));

        invite.answer =
            Some(herald_proto::Answer { value: Some("Y".into()), text: None, at: "2026-11-21T10:00:00Z".into() });
        assert_eq!(
            keys(&shown(&applied(vec![invite.clone()]), false)[0]),
            [("read", "Mark read")],
            "answered elsewhere"
        );

        let mut question = note(6, "Ann: lunch at 12?", "", false);
        question.reply = Some(herald_proto::Reply::default());
        let toast = shown(&applied(vec![question.clone()]), false).remove(0);
        assert_eq!(keys(&toast), [("reply", "Reply"), ("read", "Mark read")]);
        assert_eq!(toast.buttons[0].does, Press::Reply(6));
        question.answer = invite.answer.clone();
        assert_eq!(keys(&shown(&applied(vec![question]), false)[0]), [("read", "Mark read")], "replied elsewhere");

        invite.answer = None;
        invite.buttons = (1..=5).map(|i| button(&i.to_string(), &format!("Option {i}"))).collect();
        assert_eq!(shown(&applied(vec![invite]), false)[0].buttons.len(), 3, "as many as a desktop shows");
    }

    #[test]
    fn each_new_unread_notification_gets_a_toast() {
        let toasts =
            shown(&applied(vec![note(1, "Reply from Ann", "Looks good", false), note(2, "Seen", "", true)]), false);
        assert_eq!(
            toasts,
            [Toast {
                summary: "Reply from Ann".into(),
                body: "Looks good".into(),
                notification_id: Some(1),
                critical: false,
                slot: Slot::Own,
                buttons: vec![ToastButton {
                    key: "read".into(),
                    label: "Mark read".into(),
                    does: Press::Act(Action::MarkRead { ids: vec![1], read: true })
                }],
                refresh_at: None,
                resident: false,
            }]
        );
    }

    #[test]
    fn a_notification_the_user_turned_off_for_the_desktop_stays_in_the_inbox_only() {
        let inbox_only =
            Notification { channels: vec![Channel::Inbox, Channel::Email], ..note(1, "Digest", "", false) };
        assert!(shown(&applied(vec![inbox_only]), false).is_empty());
    }

    #[test]
    fn do_not_disturb_and_quiet_hours_hold_toasts_back_but_critical_breaks_through_if_allowed() {
        let calm = note(1, "Weekly digest", "", false);
        let alarm = Notification { priority: Priority::Critical, ..note(2, "Shutdown in 10 minutes", "", false) };
        let both = applied(vec![calm.clone(), alarm.clone()]);
        let through: Vec<Option<i64>> =
            shown_with(&both, false, &do_not_disturb()).iter().map(|t| t.notification_id).collect();
        assert_eq!(through, [Some(2)]);
        let strict = Interruptions { critical_breaks_through: false, ..do_not_disturb() };
        assert!(shown_with(&both, false, &strict).is_empty());

        let nights = Interruptions {
            do_not_disturb: DoNotDisturb {
                quiet_hours: Some(QuietHours {
                    timezone: "UTC".into(),
                    periods: vec![herald_proto::QuietPeriod {
                        days: vec![herald_proto::Weekday::Sat],
                        from: "09:00".into(),
                        to: "12:00".into(),
                    }],
                }),
                dnd_until: None,
            },
            ..Interruptions::default()
        };
        assert_eq!(
            shown_with(&applied(vec![calm.clone()]), false, &nights),
            [],
            "2026-11-21 10:00 is a quiet Saturday"
        );
        let snoozed =
            Interruptions { snoozed_until: Some("2026-11-21T10:30:00Z".parse().unwrap()), ..Interruptions::default() };
        assert!(shown_with(&applied(vec![calm]), false, &snoozed).is_empty());
    }

    #[test]
    fn a_notification_read_or_deleted_anywhere_closes_its_toast() {
        let changes = Applied { read: vec![3], deleted: vec![4], read_changed: true, ..Applied::default() };
        assert_eq!(
            decide(&changes, false, &do_not_disturb(), &mut Bursts::default(), now()),
            [ToastCommand::Close { notification_id: 4 }, ToastCommand::Close { notification_id: 3 }]
        );
        assert_eq!(
            decide(&changes, true, &Interruptions::default(), &mut Bursts::default(), now()).len(),
            2,
            "history closes too"
        );
    }

    #[test]
    fn a_refused_action_is_told_with_the_hubs_reason() {
        let error = ApiError::new(herald_proto::ErrorCode::Conflict, "notification 7 was already answered");
        let toast = decide_rejected(&Action::Confirm { id: 7, value: "Y".into() }, &error);
        assert_eq!(toast.summary, "Herald could not send your choice");
        assert_eq!(toast.body, "notification 7 was already answered");
    }

    #[test]
    fn critical_notifications_make_critical_toasts_even_in_a_summary() {
        let alarm = Notification { priority: Priority::Critical, ..note(1, "Shutdown in 10 minutes", "", false) };
        assert!(shown(&applied(vec![alarm.clone()]), false)[0].critical);
        let mut burst: Vec<Notification> = (2..=5).map(|i| note(i, "n", "", false)).collect();
        burst.push(alarm);
        assert!(shown(&applied(burst), false)[0].critical);
        assert!(!shown(&applied(vec![note(9, "calm", "", false)]), false)[0].critical);
    }

    #[test]
    fn history_raises_nothing() {
        assert!(shown(&applied(vec![note(1, "Old", "", false)]), true).is_empty());
    }

    #[test]
    fn many_in_a_few_seconds_fold_into_one_summary_that_counts_up_and_a_tag_replaces_its_toast() {
        let mut bursts = Bursts::default();
        let at = |s: i64| now().checked_add(jiff::SignedDuration::from_secs(s)).unwrap();
        let one = |id: i64, s: i64, bursts: &mut Bursts| -> Toast {
            let commands = decide(
                &applied(vec![note(id, &format!("n{id}"), "", false)]),
                false,
                &Interruptions::default(),
                bursts,
                at(s),
            );
            match commands.into_iter().next() {
                Some(ToastCommand::Show(toast)) => toast,
                other => panic!("{other:?}"),
            }
        };
        // Three arrive one by one within seconds: each its own toast…
        for id in 1..=3 {
            assert_eq!(one(id, id, &mut bursts).slot, Slot::Own);
        }
        // …the next ones fold into one summary that counts up in place…
        let fourth = one(4, 4, &mut bursts);
        assert_eq!((fourth.summary.as_str(), &fourth.slot), ("1 new notifications", &Slot::Summary));
        assert_eq!(one(5, 12, &mut bursts).summary, "2 new notifications");
        // …and after a quiet spell they are single toasts again.
        assert_eq!(one(6, 40, &mut bursts).slot, Slot::Own);

        let tagged = Notification { tag: Some("po-42".into()), ..note(7, "PO-42: approved", "", false) };
        let toasts = shown(&applied(vec![tagged]), false);
        assert_eq!(toasts[0].slot, Slot::Tag("po-42".into()), "in place of the earlier PO-42 toast");
    }

    #[test]
    fn a_burst_becomes_one_summary() {
        let burst = (1..=5).map(|i| note(i, &format!("n{i}"), "", false)).collect();
        let toasts = shown(&applied(burst), false);
        assert_eq!(toasts.len(), 1);
        assert_eq!(toasts[0].summary, "5 new notifications");
        assert_eq!(toasts[0].body, "Latest: n5");
        assert_eq!(toasts[0].notification_id, None);
    }

    #[test]
    fn bidi_overrides_in_untrusted_text_are_shown_inertly() {
        let n = note(1, "invoice\u{202E}fdp.exe", "see \u{2067}attached\u{2069} file", false);
        let toasts = shown(&applied(vec![n]), false);
        let toast = &toasts[0];
        assert_eq!(toast.summary, "invoicefdp.exe", "the override is gone, the letters stay in their order");
        assert_eq!(toast.body, "see attached file");
    }

    #[test]
    fn toast_text_stays_the_text_sent_for_the_backend_to_escape() {
        let toasts = shown(&applied(vec![note(1, "Hi\nthere", "<a href='x'>click</a> & <img src=y>", false)]), false);
        assert_eq!(toasts[0].summary, "Hi there");
        assert_eq!(toasts[0].body, "<a href='x'>click</a> & <img src=y>");
        assert_eq!(
            escape_markup(&toasts[0].body),
            "&lt;a href=&apos;x&apos;&gt;click&lt;/a&gt; &amp; &lt;img src=y&gt;"
        );
    }

    #[test]
    fn long_bodies_are_clipped() {
        let toasts = shown(&applied(vec![note(1, "s", &"word ".repeat(200), false)]), false);
        assert_eq!(toasts[0].body.chars().count(), MAX_BODY_CHARS);
        assert!(toasts[0].body.ends_with('…'));
    }
}
