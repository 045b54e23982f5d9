//! Live events in flight (seed 000): a bus to the connected feeds and who is connected. Nothing
//! here touches the database — a live event that finds nobody connected is gone. The same bus
//! carries other frames meant only for whoever is connected now (a do-not-disturb change).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use herald_proto::{FeedFrame, LiveEvent};
use tokio::sync::broadcast;

use crate::store::now_rfc3339;

/// Live events remembered for responses at once; beyond this the oldest are forgotten.
const MAX_IN_FLIGHT: usize = 10_000;
/// Recipients of all remembered events together (each is 8–16 bytes in a set): a few events to
/// everyone on a large hub cannot take gigabytes. Beyond it, the events closest to expiring go.
pub const MAX_RECIPIENTS_IN_FLIGHT: usize = 1_000_000;
/// How many live events a slow feed may fall behind before it misses some.
const BUS_CAPACITY: usize = 1024;

/// One frame and the connected recipients it is for: one bus message per event, however many
/// recipients, so a large audience cannot overrun the bus.
pub struct Pushed {
    pub recipients: std::collections::HashSet<i64>,
    pub frame: FeedFrame,
    /// A frame still on its way after this (RFC 3339 UTC) is dropped.
    pub expires_at: Option<String>,
}

#[derive(Clone)]
pub struct Live {
    bus: broadcast::Sender<Arc<Pushed>>,
    connected: Arc<Mutex<HashMap<i64, usize>>>,
    /// Events still within their time to live, by id: what a response is checked against.
    in_flight: Arc<Mutex<HashMap<String, InFlightEvent>>>,
}

impl Default for Live {
    fn default() -> Self {
        Self { bus: broadcast::channel(BUS_CAPACITY).0, connected: Arc::default(), in_flight: Arc::default() }
    }
}

/// What the hub remembers of a live event until it expires.
struct InFlightEvent {
    /// The app to tell about responses; None for an admin's event.
    app: Option<String>,
    event: LiveEvent,
    recipients: HashSet<i64>,
    responded: HashSet<i64>,
}

/// A response taken: who sent the event, and what to tell them.
#[derive(Debug, Clone)]
pub struct Responded {
    pub app: Option<String>,
    pub event: LiveEvent,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RespondError {
    #[error("no live event {0} for you, or it has expired")]
    NotFound(String),
    #[error("event {id} has no action {action:?}")]
    NoSuchAction { id: String, action: String },
    #[error("you already responded to event {0}")]
    AlreadyResponded(String),
}

/// Held by a feed while it is open: the user counts as connected.
pub struct Presence {
    live: Live,
    user_id: i64,
}

impl Drop for Presence {
    fn drop(&mut self) {
        let mut connected = self.live.connected.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = connected.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                connected.remove(&self.user_id);
            }
        }
    }
}

impl Live {
    /// A feed for `user_id` opens: it receives live events from now on.
    pub fn join(&self, user_id: i64) -> (Presence, broadcast::Receiver<Arc<Pushed>>) {
        let receiver = self.bus.subscribe();
        *self.connected.lock().unwrap_or_else(|p| p.into_inner()).entry(user_id).or_default() += 1;
        (Presence { live: self.clone(), user_id }, receiver)
    }

    /// Pushes `event` to each recipient's open feeds; returns how many recipients had one.
    pub fn push(&self, recipients: &[i64], event: &LiveEvent) -> u32 {
        self.push_frame(recipients, FeedFrame::Event(event.clone()), Some(event.expires_at.clone()))
    }

    /// Pushes any frame to each recipient's open feeds; returns how many recipients had one.
    pub fn push_frame(&self, recipients: &[i64], frame: FeedFrame, expires_at: Option<String>) -> u32 {
        let reached: std::collections::HashSet<i64> = {
            let connected = self.connected.lock().unwrap_or_else(|p| p.into_inner());
            recipients.iter().copied().filter(|id| connected.contains_key(id)).collect()
        };
        let count = reached.len() as u32;
        if count > 0 {
            let _ = self.bus.send(Arc::new(Pushed { recipients: reached, frame, expires_at }));
        }
        count
    }

    /// Remembers `event` (sent by `app`) until it expires, so recipients can respond to it.
    pub fn remember(&self, app: Option<String>, event: LiveEvent, recipients: &[i64]) {
        let now = now_rfc3339();
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        in_flight.retain(|_, e| e.event.expires_at > now);
        let mut held: usize = in_flight.values().map(|e| e.recipients.len()).sum();
        if in_flight.len() >= MAX_IN_FLIGHT || held + recipients.len() > MAX_RECIPIENTS_IN_FLIGHT {
            // Bounded memory whatever apps send: the events closest to expiring go first.
            let mut by_expiry: Vec<(String, String)> =
                in_flight.iter().map(|(id, e)| (e.event.expires_at.clone(), id.clone())).collect();
            by_expiry.sort_unstable();
            for (_, id) in by_expiry {
                if in_flight.len() < MAX_IN_FLIGHT && held + recipients.len() <= MAX_RECIPIENTS_IN_FLIGHT {
                    break;
                }
                if let Some(gone) = in_flight.remove(&id) {
                    held -= gone.recipients.len();
                }
            }
        }
        let entry = InFlightEvent {
            app,
            recipients: recipients.iter().copied().collect(),
            responded: HashSet::new(),
            event: event.clone(),
        };
        in_flight.insert(event.id, entry);
    }

    /// `(events, recipients)` remembered now.
    pub fn in_flight(&self) -> (usize, usize) {
        let in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        (in_flight.len(), in_flight.values().map(|e| e.recipients.len()).sum())
    }

    /// Takes `user_id`'s response `action` to event `id`: once per recipient, one of its actions,
    /// before it expires.
    pub fn respond(&self, user_id: i64, id: &str, action: &str) -> Result<Responded, RespondError> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let entry = in_flight
            .get_mut(id)
            .filter(|e| e.recipients.contains(&user_id) && e.event.expires_at > now_rfc3339())
            .ok_or_else(|| RespondError::NotFound(id.to_owned()))?;
        if !entry.event.actions.iter().any(|a| a.value == action) {
            return Err(RespondError::NoSuchAction { id: id.to_owned(), action: action.to_owned() });
        }
        if !entry.responded.insert(user_id) {
            return Err(RespondError::AlreadyResponded(id.to_owned()));
        }
        Ok(Responded { app: entry.app.clone(), event: entry.event.clone() })
    }

    /// Takes back a response that could not be passed on, so the user can try again.
    pub fn forget_response(&self, user_id: i64, id: &str) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = in_flight.get_mut(id) {
            entry.responded.remove(&user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, ttl: u32) -> LiveEvent {
        LiveEvent {
            id: id.into(),
            kind: herald_proto::LiveKind::Reminder,
            title: "t".into(),
            body: String::new(),
            actions: Vec::new(),
            at: None,
            expires_at: crate::store::rfc3339_in(ttl),
        }
    }

    #[test]
    fn recipients_in_flight_are_bounded_and_the_soonest_to_expire_go_first() {
        let live = Live::default();
        let everyone: Vec<i64> = (0..400_000).collect();
        live.remember(None, event("a", 100), &everyone);
        live.remember(None, event("b", 300), &everyone);
        assert_eq!(live.in_flight(), (2, 800_000));
        live.remember(None, event("c", 200), &everyone);
        assert_eq!(live.in_flight(), (2, 800_000), "one had to go");
        assert!(live.respond(0, "a", "x").is_err_and(|e| e == RespondError::NotFound("a".into())), "the soonest");
        for kept in ["b", "c"] {
            assert!(!matches!(live.respond(0, kept, "x"), Err(RespondError::NotFound(_))), "{kept} is kept");
        }
    }
}
