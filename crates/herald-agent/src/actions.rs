//! What the user does, from a window, a toast or the tray: recorded in the mirror (it shows at
//! once), queued for the hub, and announced like a synced change, so the tray, the windows and
//! the toasts follow in one place.

use std::sync::Arc;

use herald_client::mirror::{ids, Applied, MirrorError, SharedMirror};
use herald_client::outbox::Action;
use herald_client::sync::SyncEvent;
use tokio::sync::{broadcast, watch, Notify};

#[derive(Clone)]
pub struct Actions {
    pub mirror: SharedMirror,
    /// One per running account's engine: an action may concern any of them.
    pub outbox_ready: watch::Receiver<Vec<Arc<Notify>>>,
    pub mirror_changes: broadcast::Sender<SyncEvent>,
}

/// The longest snooze taken: a day (a longer one is a mistake, not a plan).
const MAX_SNOOZE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// How long a snooze's minute lasts: a minute, but `HERALD_SNOOZE_MINUTE_MS` for the tests that
/// see a snoozed reminder come back (they cannot wait five minutes).
fn snooze_minute() -> jiff::SignedDuration {
    std::env::var("HERALD_SNOOZE_MINUTE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(jiff::SignedDuration::from_mins(1), jiff::SignedDuration::from_millis)
}

impl Actions {
    /// Snoozes live event `event_id` on this desktop: its toast and its place in the quick
    /// panel go, and come back after `after` (1 minute to a day).
    pub fn snooze_live(&self, event_id: String, after: jiff::SignedDuration) {
        let after = after.clamp(jiff::SignedDuration::from_mins(1), MAX_SNOOZE);
        let until = jiff::Timestamp::now() + snooze_minute() * after.as_mins() as i32;
        let _ = self.mirror_changes.send(SyncEvent::LiveSnoozed { event_id, until });
    }

    /// Records `action` and wakes the outboxes; a toast of a notification read or deleted here
    /// closes, a live event answered here is over (its toast closes, a snoozed one stays away),
    /// and a do-not-disturb set here holds toasts back at once.
    pub async fn record(&self, action: Action) -> Result<(), MirrorError> {
        let deleted = matches!(action, Action::Delete { .. });
        let do_not_disturb = matches!(action, Action::SetDoNotDisturb { .. });
        let answered = match &action {
            Action::RespondToEvent { event_id, .. } => Some(event_id.clone()),
            _ => None,
        };
        let touched = self.mirror.call(move |m| m.record_action(&action)).await?;
        for ready in self.outbox_ready.borrow().iter() {
            ready.notify_one();
        }
        if let Some(&touched_first) = touched.first() {
            let applied = if deleted {
                Applied { deleted: touched, ..Applied::default() }
            } else {
                Applied { read_changed: true, read: touched, ..Applied::default() }
            };
            let account = ids::account_of(touched_first);
            let _ = self.mirror_changes.send(SyncEvent::MirrorChanged { account, applied, backfill: false });
        }
        if let Some(event_id) = answered {
            let _ = self.mirror_changes.send(SyncEvent::LiveAnswered { event_id });
        }
        if do_not_disturb {
            let settings = self.mirror.call(|m| m.each_do_not_disturb()).await?;
            for (account, settings) in settings {
                let _ = self.mirror_changes.send(SyncEvent::DoNotDisturb { account, settings });
            }
        }
        Ok(())
    }
}
