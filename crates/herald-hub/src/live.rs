//! Live events in flight (seed 000): a bus to the connected feeds and who is connected. Nothing
//! here touches the database — a live event that finds nobody connected is gone. The same bus
//! carries other frames meant only for whoever is connected now (a do-not-disturb change).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_proto::{FeedFrame, LiveEvent};
use tokio::sync::broadcast;

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
}

impl Default for Live {
    fn default() -> Self {
        Self { bus: broadcast::channel(BUS_CAPACITY).0, connected: Arc::default() }
    }
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
}
