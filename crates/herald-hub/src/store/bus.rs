//! The change bus: committed changes, announced per user. Each open feed subscribes to its own
//! user's channel only, so a send to 10,000 users wakes each of their feeds once instead of
//! every feed 10,000 times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_proto::Change;
use tokio::sync::broadcast;

/// How many changes one user's feed may fall behind before it re-reads the journal instead.
/// Each channel preallocates this many slots, so it is small: a slot holds an `Arc` (a `Change`
/// inline made every idle feed cost 128 KiB at 256 slots; 16 `Arc` slots cost under 1 KiB).
pub const DEFAULT_CAPACITY: usize = 16;

#[derive(Clone)]
pub struct ChangeBus {
    channels: Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<Change>>>>>,
    capacity: usize,
}

impl ChangeBus {
    pub fn new(capacity: usize) -> Self {
        Self { channels: Arc::default(), capacity: capacity.max(1) }
    }

    /// `user_id`'s changes committed from now on, in `seq` order.
    pub fn subscribe(&self, user_id: i64) -> Subscription {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let receiver = channels.entry(user_id).or_insert_with(|| broadcast::channel(self.capacity).0).subscribe();
        Subscription { receiver, user_id, bus: self.clone() }
    }

    /// Announces committed changes to the user's open feeds (none open: the journal has them).
    /// Callers hold the store lock, so announcements keep `seq` order.
    pub(super) fn announce(&self, user_id: i64, changes: Vec<Change>) {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = channels.get(&user_id) {
            for change in changes {
                let _ = sender.send(Arc::new(change));
            }
        }
    }

    /// Users with at least one open subscription.
    pub fn users_listening(&self) -> usize {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// One feed's view of its user's changes; the channel goes when its last subscription does.
pub struct Subscription {
    receiver: broadcast::Receiver<Arc<Change>>,
    user_id: i64,
    bus: ChangeBus,
}

impl Subscription {
    pub async fn recv(&mut self) -> Result<Arc<Change>, broadcast::error::RecvError> {
        self.receiver.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut channels = self.bus.channels.lock().unwrap_or_else(|p| p.into_inner());
        // This subscription's receiver is still alive here, so "only us" is a count of one.
        if channels.get(&self.user_id).is_some_and(|s| s.receiver_count() <= 1) {
            channels.remove(&self.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::ChangeKind;

    use super::*;

    fn change(seq: i64) -> Change {
        Change { seq, kind: ChangeKind::Deleted { ids: vec![seq] } }
    }

    #[tokio::test]
    async fn each_user_hears_only_their_own_changes_and_channels_go_with_their_last_feed() {
        let bus = ChangeBus::new(8);
        let mut ann = bus.subscribe(1);
        let ann_again = bus.subscribe(1);
        let mut bob = bus.subscribe(2);
        bus.announce(2, vec![change(5)]);
        bus.announce(1, vec![change(6)]);
        assert_eq!(ann.recv().await.unwrap().seq, 6);
        assert_eq!(bob.recv().await.unwrap().seq, 5);
        assert_eq!(bus.users_listening(), 2);
        drop(ann);
        assert_eq!(bus.users_listening(), 2, "ann still has a feed open");
        drop(ann_again);
        drop(bob);
        assert_eq!(bus.users_listening(), 0);
        bus.announce(1, vec![change(7)]);
    }
}
