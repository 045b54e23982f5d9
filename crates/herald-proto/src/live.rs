//! Live events (seed 000): not stored, only pushed to the recipients' connected clients while
//! their time to live lasts — reminders, calls, shutdown warnings.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Audience, Button};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LiveKind {
    Reminder,
    Call,
    Email,
    Shutdown,
    Warning,
    System,
}

impl LiveKind {
    /// Calls and shutdown warnings interrupt; the rest may wait.
    pub fn is_urgent(self) -> bool {
        matches!(self, LiveKind::Call | LiveKind::Shutdown)
    }
}

/// A live event as clients receive it in the feed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LiveEvent {
    pub id: String,
    pub kind: LiveKind,
    pub title: String,
    pub body: String,
    /// Buttons the user may answer with (answer/decline a call, done/snooze a reminder).
    pub actions: Vec<Button>,
    /// For `shutdown`: when it happens, so clients count down (RFC 3339, UTC).
    pub at: Option<String>,
    /// After this, the event is stale: clients drop it (RFC 3339, UTC).
    pub expires_at: String,
}

/// Body of `POST /v1/events`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LiveEventRequest {
    pub to: Audience,
    pub kind: LiveKind,
    pub ttl_seconds: u32,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub actions: Vec<Button>,
    #[serde(default)]
    pub at: Option<String>,
    /// A notification to store for the same recipients as well (a missed call stays in the
    /// inbox after the ringing stops): the fields of a send, without `to`.
    #[serde(default)]
    #[ts(type = "Omit<SendRequest, 'to'> | null")]
    pub notification: Option<serde_json::Value>,
}

/// Answer of `POST /v1/events`: how many of the recipients had a client connected.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LiveEventResponse {
    pub id: String,
    pub recipients: u32,
    pub connected: u32,
    /// The ids of the notification the event carried, one per recipient (empty if none).
    #[ts(type = "number[]")]
    #[serde(default)]
    pub notification_ids: Vec<i64>,
}

/// Body of `POST /v1/events/{id}/respond`: one of the event's action values (answer or
/// decline a call, done or snooze a reminder).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EventResponseRequest {
    pub action: String,
}
