//! The body of every failed request: `{"code": "...", "message": "..."}`. Clients match on `code`,
//! never on `message`, which is for people.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON, or not the expected shape.
    InvalidJson,
    /// The body is valid JSON but a field is missing or out of range.
    InvalidRequest,
    /// The request names no recipient.
    MissingRecipient,
    /// The recipient does not exist.
    UnknownRecipient,
    /// No bearer token, or one the hub does not know.
    Unauthorized,
    /// The token is valid but of a kind this call does not take.
    Forbidden,
    /// `POST /v1/session`, `POST /v1/devices`: the user name or password is wrong (the same
    /// answer for both, so it does not say which users exist).
    InvalidCredentials,
    /// A request that would change something, or a feed upgrade, came with the session cookie
    /// and an `Origin` other than the hub's own: another site acting with a signed-in user's
    /// cookie.
    ForbiddenOrigin,
    /// This token sent too many requests; retry after the `Retry-After` seconds.
    RateLimited,
    /// The body is larger than [`crate::MAX_BODY_BYTES`].
    PayloadTooLarge,
    NotFound,
    /// The route exists but does not take this HTTP method.
    MethodNotAllowed,
    /// The request conflicts with the state it would change (answered already, a name taken).
    Conflict,
    /// A request with the same `Idempotency-Key` is still being processed: retry later.
    RequestInProgress,
    /// The `Idempotency-Key` was used before for a different request.
    IdempotencyKeyReused,
    /// A request sent again with its `Idempotency-Key` was applied the first time, but the hub
    /// stopped before it could keep its answer: it is not applied again, and its answer is gone.
    /// The request has happened; read the state (the inbox, the feed) for its outcome.
    AnswerLost,
    /// The feed cursor is past the end of this hub's log for the user: the hub was reset or
    /// restored from an older backup. The client must drop its mirror and sync from 0.
    CursorAhead,
    /// `GET /v1/changes`: the cursor is older than the journal the hub keeps; fetch the inbox
    /// again (`GET /v1/notifications`) and continue from the `floor` the message names.
    ResyncRequired,
    /// An ingested event's type has no template (`POST /v1/ingest/{source}`).
    UnknownEventType,
    /// A template could not make a notification of the event (a field it needs is missing, the
    /// result is invalid, or the templates file is broken).
    TemplateError,
    /// The hub failed; retrying later may work.
    Internal,
    /// A code this version does not know (a newer hub's): read as such instead of failing to
    /// read the whole error. Never sent.
    #[serde(other)]
    Unknown,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", serde_json::to_value(self.code).unwrap_or_default(), self.message)
    }
}

impl std::error::Error for ApiError {}
