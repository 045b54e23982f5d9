//! The agent ↔ window protocol: newline-delimited JSON over a local socket that only the same
//! user can open.
//!
//! - [`Request`]: window → agent (user actions, "open the inbox").
//! - [`Event`]: agent → windows (inbox changed, connection state, "show yourself").
//! - [`socket`]: the transport: bind (single-instance), accept (same user only), connect.

pub mod socket;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::sync::ConnectionState;

/// Window → agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Show the inbox (a second `herald` sends this to the first, then exits).
    OpenInbox,
    /// Mark notifications read or unread; the agent records it and tells the hub.
    MarkRead {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
        read: bool,
    },
    /// Any user action (read, delete, confirm, reply, answer a live event): the agent applies it
    /// to the mirror at once and tells the hub.
    Act { action: crate::outbox::Action },
    /// Accounts were added or removed (`herald accounts add/remove`): sync what is set up now.
    AccountsChanged,
}

/// Agent → windows. Each window gets the current `Connection` and `InboxChanged` on connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The mirror changed: re-read it.
    InboxChanged {
        unread: u32,
    },
    Connection {
        connection: ConnectionState,
    },
    /// The live events still within their time to live (sent on connect and when they change).
    LiveEvents {
        events: Vec<herald_proto::LiveEvent>,
    },
    /// Catch-up progress: `done` of `total` changes applied ("Syncing 500 of 20,000").
    SyncProgress {
        #[ts(type = "number")]
        done: i64,
        #[ts(type = "number")]
        total: i64,
    },
    /// Bring the inbox window to the front.
    ShowInbox,
    /// Show this notification in the inbox (chosen in the tray's menu). A window started for it
    /// finds the id in `HERALD_UI_SHOW` instead.
    ShowNotification {
        #[ts(type = "number")]
        id: i64,
    },
    /// The agent now syncs exactly the accounts that are set up (the answer to
    /// `AccountsChanged`: `herald accounts add/remove` waits for it).
    AccountsReloaded,
    /// A request failed.
    Error(IpcError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub code: IpcErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorCode {
    /// The agent could not write the mirror.
    MirrorFailed,
    /// The request was not valid JSON or not a known request.
    BadRequest,
    /// The agent is not running (raised on the window's side).
    AgentUnavailable,
    /// The window cannot read the local inbox.
    MirrorUnavailable,
    /// A link that is not an http or https address: it is not opened.
    LinkRefused,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_a_flat_tagged_shape() {
        let event = Event::Connection {
            connection: ConnectionState::Offline { reason: "down".into(), retry_in_ms: Some(500) },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "connection", "connection": {"state": "offline", "reason": "down", "retry_in_ms": 500}})
        );
    }
}
