//! Toasts of live events (seed 000): calls, reminders, shutdown warnings. Never stored, so the
//! toast is all there is: a call's answers and a reminder's snoozes are its buttons, and a shutdown
//! warning counts down in place.

use herald_proto::{LiveEvent, LiveKind};
use jiff::Timestamp;

use super::{clip, plain, Interruptions, Press, Slot, Toast, ToastButton, MAX_BUTTONS};
use crate::outbox::Action;

/// A reminder's snoozes: label and length.
const SNOOZES: [(&str, &str, i64); 2] = [("snooze:5", "Snooze 5 min", 5 * 60), ("snooze:60", "Snooze 1 h", 60 * 60)];

/// A live event exists only to be seen now: shown unless quiet (calls and shutdown warnings
/// break through like critical notifications), urgently for calls and shutdowns.
pub fn decide_live(event: &LiveEvent, rules: &Interruptions, now: Timestamp) -> Option<Toast> {
    let urgent = event.kind.is_urgent();
    if !rules.lets_through(urgent, rules.quiet_at(now)) {
        return None;
    }
    // A shutdown warning counts down to its time, in place.
    let countdown = (event.kind == LiveKind::Shutdown)
        .then(|| event.at.as_deref().and_then(|at| at.parse::<Timestamp>().ok()))
        .flatten()
        .map(|at| countdown(at, now));
    let (summary, refresh_at) = match countdown {
        Some((left, next)) => (format!("{} — {left}", plain(&event.title)), next),
        None => (plain(&event.title), None),
    };
    Some(Toast {
        summary,
        body: clip(&event.body),
        notification_id: None,
        critical: urgent,
        slot: Slot::Live(event.id.clone()),
        buttons: live_buttons(event),
        refresh_at,
        resident: event.kind == LiveKind::Reminder,
    })
}

/// The words for the time left until `at`, and when they next change (None: they no longer do).
pub fn countdown(at: Timestamp, now: Timestamp) -> (String, Option<Timestamp>) {
    let left = at.duration_since(now).as_secs();
    if left <= 0 {
        return ("now".to_owned(), None);
    }
    if left <= 60 {
        return ("in under a minute".to_owned(), Some(at));
    }
    // Rounded up: "in 10 min" until 9 minutes are left.
    let minutes = (left + 59) / 60;
    let words = if minutes < 60 {
        format!("in {minutes} min")
    } else {
        format!("in {} h {:02} min", minutes / 60, minutes % 60)
    };
    let next = at - jiff::SignedDuration::from_secs((minutes - 1) * 60);
    (words, Some(next))
}

/// A live event's toast buttons: the answers its sender offers (answer/decline a call); a
/// reminder's first answer (done) and its snoozes.
fn live_buttons(event: &LiveEvent) -> Vec<ToastButton> {
    let answers = event.actions.iter().map(|b| ToastButton {
        key: format!("respond:{}", b.value),
        label: plain(&b.label),
        does: Press::Act(Action::RespondToEvent { event_id: event.id.clone(), action: b.value.clone() }),
    });
    if event.kind != LiveKind::Reminder {
        return answers.take(MAX_BUTTONS).collect();
    }
    let snoozes = SNOOZES.iter().map(|(key, label, seconds)| ToastButton {
        key: (*key).to_owned(),
        label: (*label).to_owned(),
        does: Press::Snooze(jiff::SignedDuration::from_secs(*seconds)),
    });
    answers.take(MAX_BUTTONS - SNOOZES.len()).chain(snoozes).collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{button, do_not_disturb, keys, live, now};
    use super::*;

    #[test]
    fn a_shutdown_warning_counts_down_in_place_and_says_when_to_look_again() {
        let at = |s: i64| now() + jiff::SignedDuration::from_secs(s);
        assert_eq!(countdown(at(600), now()), ("in 10 min".into(), Some(at(60))), "until 9 minutes are left");
        assert_eq!(countdown(at(541), now()), ("in 10 min".into(), Some(at(1))));
        assert_eq!(countdown(at(62), now()), ("in 2 min".into(), Some(at(2))));
        assert_eq!(countdown(at(60), now()), ("in under a minute".into(), Some(at(60))));
        assert_eq!(countdown(at(0), now()), ("now".into(), None));
        assert_eq!(countdown(at(-5), now()), ("now".into(), None));
        assert_eq!(countdown(at(2 * 3600 + 300), now()).0, "in 2 h 05 min");

        let shutdown = LiveEvent {
            id: "s1".into(),
            title: "ERP shuts down for maintenance".into(),
            at: Some("2026-11-21T10:10:00Z".into()),
            ..live(herald_proto::LiveKind::Shutdown)
        };
        let first = decide_live(&shutdown, &Interruptions::default(), now()).unwrap();
        assert_eq!(first.summary, "ERP shuts down for maintenance — in 10 min");
        assert!(first.critical);
        assert_eq!(first.slot, Slot::Live("s1".into()), "updates replace it");
        let later = decide_live(&shutdown, &Interruptions::default(), first.refresh_at.unwrap()).unwrap();
        assert_eq!(later.summary, "ERP shuts down for maintenance — in 9 min");
        assert_eq!(later.slot, first.slot);
        assert_eq!(
            decide_live(&live(herald_proto::LiveKind::Call), &Interruptions::default(), now()).unwrap().refresh_at,
            None
        );
    }
    #[test]
    fn a_call_offers_its_answers_on_the_toast() {
        let call = LiveEvent {
            actions: vec![button("answer", "Answer"), button("decline", "Decline")],
            ..live(herald_proto::LiveKind::Call)
        };
        let toast = decide_live(&call, &Interruptions::default(), now()).unwrap();
        assert_eq!(keys(&toast), [("respond:answer", "Answer"), ("respond:decline", "Decline")]);
        assert_eq!(
            toast.buttons[0].does,
            Press::Act(Action::RespondToEvent { event_id: "e".into(), action: "answer".into() })
        );
        assert!(!toast.resident);
    }
    #[test]
    fn a_reminder_stays_until_dismissed_with_done_and_two_snoozes() {
        let reminder = LiveEvent {
            actions: vec![button("done", "Done"), button("later", "Later")],
            ..live(herald_proto::LiveKind::Reminder)
        };
        let toast = decide_live(&reminder, &Interruptions::default(), now()).unwrap();
        assert!(toast.resident);
        assert_eq!(keys(&toast), [("respond:done", "Done"), ("snooze:5", "Snooze 5 min"), ("snooze:60", "Snooze 1 h")]);
        assert_eq!(toast.buttons[1].does, Press::Snooze(jiff::SignedDuration::from_mins(5)));
        let bare = decide_live(&live(herald_proto::LiveKind::Reminder), &Interruptions::default(), now()).unwrap();
        assert_eq!(keys(&bare), [("snooze:5", "Snooze 5 min"), ("snooze:60", "Snooze 1 h")]);
    }
    #[test]
    fn live_calls_and_shutdowns_are_urgent_reminders_are_not() {
        let rules = Interruptions::default();
        let call = decide_live(&live(herald_proto::LiveKind::Call), &rules, now()).unwrap();
        assert!(call.critical);
        assert_eq!(call.summary, "Call from <Ann>", "plain text; the backend escapes it");
        assert!(!decide_live(&live(herald_proto::LiveKind::Reminder), &rules, now()).unwrap().critical);
    }
    #[test]
    fn while_quiet_only_calls_and_shutdowns_come_through_live() {
        let quiet = do_not_disturb();
        assert!(decide_live(&live(herald_proto::LiveKind::Call), &quiet, now()).is_some());
        assert!(decide_live(&live(herald_proto::LiveKind::Reminder), &quiet, now()).is_none());
    }
}
