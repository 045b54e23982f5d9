//! The per-user change log (atuin's shape): every change to a user's notifications gets a rising
//! sequence number; a client keeps the last one it applied as its cursor.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ApiError, DoNotDisturb, LiveEvent, Notification};

/// One entry of a user's change log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Change {
    /// Rises strictly within one user's log; the client's cursor is the last `seq` it applied.
    #[ts(type = "number")]
    pub seq: i64,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// What happened.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Wire values live briefly, one at a time; boxing the notification would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum ChangeKind {
    /// A notification was delivered to this user.
    Created { notification: Notification },
    /// Notifications were marked read or unread.
    ReadChanged {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
        read: bool,
    },
    /// A notification changed in place (it was answered): clients replace their copy.
    Updated { notification: Notification },
    /// Notifications were deleted: clients drop them (and their toasts).
    Deleted {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
    },
}

/// Answer of `GET /v1/changes?since=SEQ`: the next changes, oldest first, and the `since` for
/// the following page (null when this page reached the end of the log).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    #[ts(type = "number | null")]
    pub next: Option<i64>,
    /// With `count=true`: how many changes follow `since`, this page's included (a catch-up's
    /// "x of y"; asked on its first page only, as counting a long log is not free).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number | null")]
    pub remaining: Option<i64>,
    /// Whose log this is, as in the feed's `hello`: a client checks it before applying anything.
    #[serde(default)]
    pub hub_id: String,
    #[serde(default)]
    #[ts(type = "number")]
    pub user_id: i64,
}

/// A text frame of the `GET /v1/feed` WebSocket, hub to client.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum FeedFrame {
    /// Always the first frame: whose feed this is. A client whose mirror was filled by another
    /// hub or for another user must start over instead of mixing the two.
    Hello {
        hub_id: String,
        #[ts(type = "number")]
        user_id: i64,
    },
    /// How many changes the catch-up that follows will send (before the first of them), so a
    /// client can show "x of y".
    Backlog {
        #[ts(type = "number")]
        changes: i64,
    },
    Change(Change),
    /// The user's quiet hours and do-not-disturb: sent after `hello` and whenever they change.
    DoNotDisturb(DoNotDisturb),
    /// A live event: show it now (while not expired); it is not part of the change log.
    Event(LiveEvent),
    /// The user answered live event `id` (on any of their devices, this one included): it is
    /// over everywhere, so each client closes its toast and drops it from its quick panel.
    EventAnswered {
        id: String,
        action: String,
        /// When it was answered (RFC 3339, UTC).
        at: String,
    },
    /// Everything up to `seq` has been sent; what follows is live. `seq` is the cursor the client
    /// should hold now (it equals the client's own cursor when there was nothing to catch up on).
    CaughtUp {
        #[ts(type = "number")]
        seq: i64,
    },
    /// The client's cursor is older than the journal the hub keeps: the client drops its copy of
    /// the inbox (not its queued actions) and takes the `snapshot` frames that follow instead.
    Resync {
        /// Entries up to this seq are gone from the journal.
        #[ts(type = "number")]
        floor: i64,
    },
    /// Part of the user's inbox as it is now, after a `resync`; apply like `created` changes.
    Snapshot {
        notifications: Vec<Notification>,
    },
    /// The hub refuses to go on (the feed closes after this frame).
    Error(ApiError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_frames_are_flat_and_tagged() {
        let frame = FeedFrame::Change(Change { seq: 7, kind: ChangeKind::ReadChanged { ids: vec![3], read: true } });
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "change", "seq": 7, "kind": "read_changed", "ids": [3], "read": true})
        );
        let back: FeedFrame = serde_json::from_value(json).unwrap();
        assert_eq!(back, frame);
    }
}
