//! The sync engine: keeps the mirror equal to the hub's state for this user.
//!
//! - [`plan`]: the pure decisions — which feed frames to apply, in what batches, when the client
//!   has caught up — unit-tested without a network.
//! - [`backoff`]: reconnect delays.
//! - [`wake`]: noticing a resume from sleep, to reconnect at once.
//! - [`network`]: noticing a network change, to reconnect at once or check the connection.
//! - [`engine`]: the loop that connects, catches up from the cursor, applies live changes,
//!   flushes the outbox and reconnects.

pub mod backoff;
pub mod engine;
pub mod network;
pub mod plan;
pub mod wake;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use engine::SyncEngine;

use crate::mirror::{AccountId, Applied};

/// The link to the hub, as the tray and the inbox show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    /// Caught up and receiving live changes.
    Online,
    /// Not connected; the engine tries again in `retry_in_ms` (none: not configured).
    Offline {
        reason: String,
        #[ts(type = "number | null")]
        retry_in_ms: Option<u64>,
    },
}

/// What an account's engine tells the rest of the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    Connection {
        account: AccountId,
        state: ConnectionState,
    },
    /// The mirror changed. `backfill` is true for what the very first catch-up of a new mirror
    /// brought: that history is not news, so it raises no toasts.
    MirrorChanged {
        account: AccountId,
        applied: Applied,
        backfill: bool,
    },
    /// A live event arrived (not stored; show it while it lasts). Its id is the mirror's
    /// ([`crate::mirror::ids::local_event`]).
    Live {
        account: AccountId,
        event: herald_proto::LiveEvent,
    },
    /// The hub announced the user's quiet hours and do-not-disturb.
    DoNotDisturb {
        account: AccountId,
        settings: herald_proto::DoNotDisturb,
    },
    /// The hub acknowledged `sent` queued user actions.
    OutboxFlushed {
        sent: usize,
    },
    /// Catch-up progress: `done` of `total` changes applied.
    Progress {
        account: AccountId,
        done: i64,
        total: i64,
    },
    /// The user answered a live event (a call, a reminder), here or on another device (the hub
    /// says so to all their feeds): it is over for this desktop.
    LiveAnswered {
        event_id: String,
    },
    /// The user snoozed a reminder here (its toast or the quick panel): away until `until`.
    LiveSnoozed {
        event_id: String,
        until: jiff::Timestamp,
    },
    /// The hub refused a queued action for good; its local effect was taken back.
    ActionRejected {
        action: crate::outbox::Action,
        error: herald_proto::ApiError,
    },
}
