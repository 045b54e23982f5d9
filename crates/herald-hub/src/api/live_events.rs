//! `POST /v1/events`: an app pushes a live event to the recipients' connected clients (seed 000).
//! Nothing is stored; who is not connected within the time to live never sees it.

use axum::extract::State;
use axum::Json;
use herald_proto::{ErrorCode, LiveEvent, LiveEventRequest, LiveEventResponse};
use rand::RngCore;

use super::json::JsonBody;
use super::notifications::recipients_of;
use super::{check_buttons, AppState, Failure};
use crate::auth::{Authenticated, Caller};
use crate::store::{normalize_time, rfc3339_in};

/// A day: a live event is about now.
const MAX_TTL_SECONDS: u32 = 86_400;
const MAX_TITLE_CHARS: usize = 1_000;

pub async fn send(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<LiveEventRequest>,
) -> Result<Json<LiveEventResponse>, Failure> {
    if let Caller::User(_) = caller {
        return Err(Failure::new(ErrorCode::Forbidden, "live events come from apps: use an app token"));
    }
    let invalid = |message: String| Failure::new(ErrorCode::InvalidRequest, message);
    if !(1..=MAX_TTL_SECONDS).contains(&request.ttl_seconds) {
        return Err(invalid(format!("'ttl_seconds' must be 1–{MAX_TTL_SECONDS}")));
    }
    let title = request.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(invalid(format!("'title' must be 1–{MAX_TITLE_CHARS} characters")));
    }
    check_buttons(&request.actions)?;
    let at = match request.at.as_deref() {
        None => None,
        Some(at) => Some(normalize_time(at).ok_or_else(|| invalid("'at' is not an RFC 3339 time".into()))?),
    };
    let recipients = state.store.resolve(recipients_of(request.to, &caller)?).await?;
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    let event = LiveEvent {
        id: hex::encode(id),
        kind: request.kind,
        title: title.to_owned(),
        body: request.body,
        actions: request.actions,
        at,
        expires_at: rfc3339_in(request.ttl_seconds),
    };
    let connected = state.live.push(&recipients, &event);
    tracing::info!(?caller, kind = ?event.kind, recipients = recipients.len(), connected, "pushed a live event");
    Ok(Json(LiveEventResponse { id: event.id, recipients: recipients.len() as u32, connected }))
}
