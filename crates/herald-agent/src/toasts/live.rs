//! Live events' toasts (a call, a reminder, a shutdown warning): raised by the rules of the
//! moment, kept true while on screen (a countdown, a call that stops ringing), closed when the
//! user answered — here or on another device — and back from a snooze by the same rules as a new
//! one: held during quiet hours and do-not-disturb unless urgent and allowed through.

use std::collections::HashMap;

use herald_client::mirror::AccountId;
use herald_client::toast::{self, Interruptions, Slot};
use herald_proto::LiveEvent;
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{show, Shown, MAX_REMEMBERED};

pub struct LiveToasts {
    /// Each live event's task keeping its toast true; one sent again replaces its task.
    keeping_up: HashMap<String, AbortHandle>,
    /// The live events seen, with their account, for a snooze's end to decide on anew; the
    /// number orders them, so the oldest are forgotten first.
    seen: HashMap<String, (AccountId, LiveEvent, u64)>,
    arrivals: u64,
    /// Where a snooze's end is told (the event's id), back in the toasts' task.
    back: mpsc::UnboundedSender<String>,
}

impl LiveToasts {
    /// The toasts of live events, and the ends of their snoozes to listen to.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (back, ends) = mpsc::unbounded_channel();
        (Self { keeping_up: HashMap::new(), seen: HashMap::new(), arrivals: 0, back }, ends)
    }

    /// Live event `event` arrived (or again, updated): a toast if `rules` allow it now.
    pub async fn raise(&mut self, account: AccountId, event: LiveEvent, rules: &Interruptions, shown: &Shown) {
        self.remember(account, &event);
        let Some(toast) = toast::decide_live(&event, rules, Timestamp::now()) else {
            tracing::info!(event = %event.id, "live event held back (quiet hours or do not disturb)");
            return;
        };
        let refresh_at = toast.refresh_at;
        show(toast, shown).await;
        self.keeping_up.retain(|_, task| !task.is_finished());
        if let Some(earlier) = self.keeping_up.remove(&event.id) {
            earlier.abort();
        }
        let id = event.id.clone();
        let task = tokio::spawn(keep_up(event, rules.clone(), refresh_at, shown.clone()));
        self.keeping_up.insert(id, task.abort_handle());
    }

    /// Answered, here or elsewhere: the toast closes and does not come back from a snooze.
    pub async fn answered(&mut self, event_id: &str, shown: &Shown) {
        if let Some(task) = self.keeping_up.remove(event_id) {
            task.abort();
        }
        self.seen.remove(event_id);
        shown.answered(event_id).await;
    }

    /// Snoozed until `until` (on its toast or in the quick panel): the toast goes, and at
    /// `until` the event is decided on again ([`Self::back`]).
    pub fn snoozed(&mut self, event_id: &str, until: Timestamp, shown: &Shown) {
        if let Some(task) = self.keeping_up.remove(event_id) {
            task.abort();
        }
        shown.take_down_live(event_id);
        let (back, event_id) = (self.back.clone(), event_id.to_owned());
        tokio::spawn(async move {
            crate::status::until(Some(until)).await;
            let _ = back.send(event_id);
        });
    }

    /// A snooze of `event_id` ended: raised again by the rules of now (`rules_of` its account),
    /// unless it was answered meanwhile.
    pub async fn back(&mut self, event_id: &str, rules_of: impl Fn(AccountId) -> Interruptions, shown: &Shown) {
        if shown.was_answered(&Slot::Live(event_id.to_owned())) {
            return;
        }
        let Some((account, event, _)) = self.seen.get(event_id).cloned() else { return };
        tracing::info!(event = %event_id, "snooze over");
        self.raise(account, event, &rules_of(account), shown).await;
    }

    fn remember(&mut self, account: AccountId, event: &LiveEvent) {
        self.arrivals += 1;
        self.seen.insert(event.id.clone(), (account, event.clone(), self.arrivals));
        if self.seen.len() > MAX_REMEMBERED {
            let oldest = self.seen.iter().min_by_key(|(_, (_, _, arrival))| *arrival).map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.seen.remove(&oldest);
            }
        }
    }
}

/// Keeps a live event's toast true while it is on screen: a countdown is shown anew in place each
/// time its words change, and the toast closes when the event expires (a call that stopped
/// ringing). A toast the user dismissed is left alone.
async fn keep_up(event: LiveEvent, rules: Interruptions, mut refresh_at: Option<Timestamp>, shown: Shown) {
    let slot = Slot::Live(event.id.clone());
    // A reminder stays until the user dismisses it, past its time to live.
    let expires_at =
        (event.kind != herald_proto::LiveKind::Reminder).then(|| event.expires_at.parse::<Timestamp>().ok()).flatten();
    loop {
        let Some(wake) = [refresh_at, expires_at].into_iter().flatten().min() else { return };
        crate::status::until(Some(wake)).await;
        let Some(toast_id) = shown.replaces(&slot) else { return };
        if expires_at.is_some_and(|expires| Timestamp::now() >= expires) {
            shown.release(&slot, toast_id);
            shown.close_toast(toast_id).await;
            return;
        }
        match toast::decide_live(&event, &rules, Timestamp::now()) {
            Some(toast) => {
                refresh_at = toast.refresh_at;
                show(toast, &shown).await;
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use herald_client::ipc::settings::DeviceSettings;
    use tokio::sync::watch;

    use super::*;

    fn reminder(id: &str) -> LiveEvent {
        LiveEvent {
            id: id.into(),
            kind: herald_proto::LiveKind::Reminder,
            title: "Stand-up".into(),
            body: String::new(),
            actions: vec![],
            at: None,
            expires_at: "2020-01-01T00:00:00Z".into(),
        }
    }

    #[tokio::test]
    async fn a_reminder_on_screen_past_its_time_to_live_is_left_alone() {
        let (commands, _received) = mpsc::unbounded_channel();
        let shown = Shown::new(commands, None, watch::channel(DeviceSettings::default()).1);
        shown.hold(&Slot::Live("r1".into()), 9);
        let kept_up = keep_up(reminder("r1"), Interruptions::default(), None, shown.clone());
        tokio::time::timeout(std::time::Duration::from_secs(2), kept_up)
            .await
            .expect("nothing to keep up: done at once");
        assert_eq!(shown.replaces(&Slot::Live("r1".into())), Some(9), "still on screen until dismissed");
    }

    #[tokio::test]
    async fn a_snooze_ends_by_telling_the_toasts_which_event_is_back_unless_it_was_answered() {
        tokio::time::pause();
        let (commands, _received) = mpsc::unbounded_channel();
        let shown = Shown::new(commands, None, watch::channel(DeviceSettings::default()).1);
        let (mut live, mut back) = LiveToasts::new();
        live.raise(1, reminder("r4"), &Interruptions::default(), &shown).await;
        live.snoozed("r4", Timestamp::now() + jiff::SignedDuration::from_mins(5), &shown);
        assert_eq!(back.recv().await.as_deref(), Some("r4"), "told when the snooze is over");
        live.answered("r4", &shown).await;
        assert!(shown.was_answered(&Slot::Live("r4".into())));
        assert!(live.seen.is_empty(), "an answered event is not decided on again");
    }
}
