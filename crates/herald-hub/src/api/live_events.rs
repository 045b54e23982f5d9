//! `POST /v1/events`: an app pushes a live event to the recipients' connected clients (seed 000).
//! Nothing is stored; who is not connected within the time to live never sees it.

use axum::extract::{Path, State};
use axum::Json;
use herald_proto::{
    ErrorCode, EventResponseRequest, FeedFrame, LiveEvent, LiveEventRequest, LiveEventResponse, SendRequest,
};
use rand::RngCore;

use super::json::JsonBody;
use super::notifications::{recipients_of, validate};
use super::{check_buttons, AppState, Failure};
use crate::auth::{AuthUser, Authenticated, Caller};
use crate::live::RespondError;
use crate::store::{normalize_time, now_rfc3339, rfc3339_in};

/// A day: a live event is about now.
const MAX_TTL_SECONDS: u32 = 86_400;
const MAX_TITLE_CHARS: usize = 1_000;
/// A live event is a call or a countdown, not a document: held in memory until it expires.
const MAX_EVENT_BODY_CHARS: usize = 4_000;

#[utoipa::path(post, path = "/v1/events", tag = "live events", request_body = herald_proto::LiveEventRequest, responses((status = 200, body = herald_proto::LiveEventResponse), (status = 403, description = "Users cannot send live events", body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
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
    // As in a send: control characters become spaces (the body keeps line breaks and tabs).
    let title = super::notifications::without_controls(&request.title, false);
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(invalid(format!("'title' must be 1–{MAX_TITLE_CHARS} characters")));
    }
    let body = super::notifications::without_controls(&request.body, true);
    if body.chars().count() > MAX_EVENT_BODY_CHARS {
        return Err(invalid(format!("a live event's 'body' is at most {MAX_EVENT_BODY_CHARS} characters")));
    }
    check_buttons(&request.actions)?;
    let at = match request.at.as_deref() {
        None => None,
        Some(at) => Some(normalize_time(at).ok_or_else(|| invalid("'at' is not an RFC 3339 time".into()))?),
    };
    // The carried notification is checked before anything is pushed: all or nothing.
    let carried = match request.notification {
        None => None,
        Some(mut fields) => {
            let Some(object) = fields.as_object_mut() else {
                return Err(invalid("'notification' is an object with the fields of a send".into()));
            };
            object.insert("to".into(), serde_json::to_value(&request.to).expect("audiences serialise"));
            let send: SendRequest =
                serde_json::from_value(fields).map_err(|e| invalid(format!("'notification': {e}")))?;
            Some(validate(&send, None, &state.config.types)?)
        }
    };
    let recipients = state.store.resolve(recipients_of(request.to, &caller)?).await?;
    let notification_ids = match carried {
        None => Vec::new(),
        Some(mut new) => {
            new.sender_app = app_of(&caller);
            state.store.deliver(recipients.clone(), new).await?.iter().map(|n| n.id).collect()
        }
    };
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    let event = LiveEvent {
        id: hex::encode(id),
        kind: request.kind,
        title: title.to_owned(),
        body,
        actions: request.actions,
        at,
        expires_at: rfc3339_in(request.ttl_seconds),
    };
    state.live.remember(app_of(&caller), event.clone(), &recipients);
    let connected = state.live.push(&recipients, &event);
    tracing::info!(?caller, kind = ?event.kind, recipients = recipients.len(), connected, "pushed a live event");
    Ok(Json(LiveEventResponse { id: event.id, recipients: recipients.len() as u32, connected, notification_ids }))
}

fn app_of(caller: &Caller) -> Option<String> {
    match caller {
        Caller::App { name } => Some(name.clone()),
        Caller::User(_) | Caller::Admin => None,
    }
}

#[utoipa::path(post, path = "/v1/events/{id}/respond", tag = "live events", params(("id" = String, Path)), request_body = herald_proto::EventResponseRequest, responses((status = 200, description = "`{event, action, at}`"), (status = 404, description = "Unknown, not yours, or expired", body = herald_proto::ApiError), (status = 409, body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
/// `POST /v1/events/{id}/respond`: a recipient answers a live event with one of its actions;
/// the sending app hears of it through its callback URL, like an answered notification.
pub async fn respond(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<EventResponseRequest>,
) -> Result<Json<serde_json::Value>, Failure> {
    let responded = state.live.respond(user.id, &id, &request.action).map_err(|e| {
        let code = match e {
            RespondError::NotFound(_) => ErrorCode::NotFound,
            RespondError::NoSuchAction { .. } => ErrorCode::InvalidRequest,
            RespondError::AlreadyResponded(_) => ErrorCode::Conflict,
        };
        Failure::new(code, e.to_string())
    })?;
    let at = now_rfc3339();
    if let Some(app) = &responded.app {
        let payload = serde_json::json!({
            "type": "event.responded",
            "event": {"id": responded.event.id, "kind": responded.event.kind, "title": responded.event.title},
            "user": user.name,
            "action": request.action,
            "at": at,
        });
        match state.store.enqueue_callback(app, payload).await {
            Ok(true) => state.callbacks.wake(),
            Ok(false) => {}
            Err(e) => {
                // Not passed on: the user may try again rather than meet a 409.
                state.live.forget_response(user.id, &id);
                return Err(e.into());
            }
        }
    }
    // Every feed of the user's hears it, so the call stops ringing on their other devices too
    // (the one that answered has closed its toast already and takes this as a no-op).
    let answered = FeedFrame::EventAnswered { id: id.clone(), action: request.action.clone(), at: at.clone() };
    state.live.push_frame(&[user.id], answered, Some(responded.event.expires_at.clone()));
    tracing::info!(user = %user.name, event = ?id, action = ?request.action, "live event answered");
    Ok(Json(serde_json::json!({"event": id, "action": request.action, "at": at})))
}
