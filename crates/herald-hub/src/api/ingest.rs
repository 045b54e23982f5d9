//! `POST /v1/ingest/{source}`: an app forwards another system's event; the source's templates
//! make one notification per recipient (seeds 002, 004). A repeated event id is ignored.

use axum::extract::{Path, State};
use axum::Json;
use herald_proto::{Audience, ErrorCode, ObjectRef, Priority, SendRequest};
use serde::Serialize;
use serde_json::Value;

use super::json::JsonBody;
use super::notifications::validate;
use super::{AppState, Failure};
use crate::auth::{Authenticated, Caller};
use crate::ingest::{IngestError, Rendered};
use crate::store::MAX_RECIPIENTS;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestResponse {
    /// One per recipient that has a Herald account, in the event's order.
    ids: Vec<i64>,
    /// The event id was ingested before: nothing was done this time.
    duplicate: bool,
    /// Recipients whose Herald user name (from the `recipient` template) does not exist.
    unknown_recipients: Vec<Value>,
}

#[utoipa::path(post, path = "/v1/ingest/{source}", tag = "ingest", params(("source" = String, Path, description = "e.g. `selfcommunity`")), request_body(content = Object, description = "The source's event envelope `{event_id, type, created, data: {recipients, …}}`"), responses((status = 200, body = IngestResponse), (status = 404, description = "Unknown source", body = herald_proto::ApiError), (status = 422, description = "Unknown event type or template error", body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn ingest(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(source): Path<String>,
    JsonBody(envelope): JsonBody<Value>,
) -> Result<Json<IngestResponse>, Failure> {
    let Caller::App { name: app } = &caller else {
        return Err(Failure::new(ErrorCode::Forbidden, "events are ingested by apps: use an app token"));
    };
    // One spelling per id: 7, "7" and 7.0 would otherwise be three events.
    let event_id = match envelope.get("event_id") {
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 256 => id.clone(),
        Some(Value::Number(id)) if id.is_i64() || id.is_u64() => id.to_string(),
        _ => return Err(Failure::new(ErrorCode::InvalidRequest, "'event_id' (a string or an integer) is required")),
    };
    let templates = state.ingest.current();
    let templates = templates.as_ref().as_ref().map_err(|e| IngestError::BrokenConfig(e.clone()))?;
    if !templates.allows(&source, app) {
        return Err(Failure::new(ErrorCode::Forbidden, format!("app {app:?} may not post {source} events")));
    }
    if state.store.was_ingested(&source, &event_id).await? {
        return Ok(Json(IngestResponse { ids: Vec::new(), duplicate: true, unknown_recipients: Vec::new() }));
    }
    // Rendering is CPU work that grows with the recipients: off the runtime's workers, so a big
    // event holds up no other request.
    let rendered = {
        let (loaded, source, envelope) = (state.ingest.current(), source.clone(), envelope);
        tokio::task::spawn_blocking(move || match loaded.as_ref() {
            Ok(templates) => templates.render(&source, &envelope),
            Err(e) => Err(IngestError::BrokenConfig(e.clone())),
        })
        .await
        .map_err(|e| Failure::new(ErrorCode::Internal, format!("rendering failed: {e}")))??
    };
    if rendered.len() > MAX_RECIPIENTS {
        let message = format!("the event names {} recipients, more than {MAX_RECIPIENTS}", rendered.len());
        return Err(Failure::new(ErrorCode::InvalidRequest, message));
    }

    let ids = state.store.user_ids(rendered.iter().map(|r| r.user.clone()).collect()).await?;
    let mut items = Vec::with_capacity(rendered.len());
    let mut unknown_recipients = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (one, user_id) in rendered.into_iter().zip(ids) {
        let Some(user_id) = user_id else {
            unknown_recipients.push(one.recipient);
            continue;
        };
        // A recipient named twice gets one notification, like any audience.
        if !seen.insert(user_id) {
            continue;
        }
        let request = to_send_request(&one)?;
        let mut new = validate(&request, None, &state.config.types).map_err(|e| {
            Failure::new(ErrorCode::TemplateError, format!("the rendered notification: {}", e.0.message))
        })?;
        new.sender_app = Some(app.clone());
        items.push((user_id, new));
    }
    let Some(ids) = state.store.ingest(&source, &event_id, items).await? else {
        // Another delivery of the same event won the race.
        return Ok(Json(IngestResponse { ids: Vec::new(), duplicate: true, unknown_recipients: Vec::new() }));
    };
    tracing::info!(?source, ?event_id, count = ids.len(), unknown = unknown_recipients.len(), "ingested an event");
    Ok(Json(IngestResponse { ids, duplicate: false, unknown_recipients }))
}

/// The rendered fields as a send would have them, so they pass the same checks.
fn to_send_request(one: &Rendered) -> Result<SendRequest, Failure> {
    // Another system's text: a control character in it (a line break in a subject) becomes a
    // space rather than failing the whole event, which its source would retry for ever.
    let field =
        |name: &str| one.fields.get(name).map(|value| super::notifications::without_controls(value, name == "body"));
    let template_error = |message: String| Failure::new(ErrorCode::TemplateError, message);
    let priority = match field("priority") {
        None => Priority::Normal,
        Some(p) => Priority::parse(&p)
            .ok_or_else(|| template_error(format!("priority {p:?} is not low, normal, high or critical")))?,
    };
    let object = match (field("object_type"), field("object_id")) {
        (Some(kind), Some(id)) => Some(ObjectRef { kind, id }),
        (None, None) => None,
        _ => return Err(template_error("object_type and object_id come together".into())),
    };
    Ok(SendRequest {
        to: Audience::User(one.user.clone()),
        kind: field("type").unwrap_or_default(),
        subject: field("subject").unwrap_or_default(),
        body: field("body").unwrap_or_default(),
        link: field("link"),
        tag: field("tag"),
        sub_tag: field("sub_tag"),
        priority,
        object,
        buttons: Vec::new(),
        reply: None,
        expires_at: None,
    })
}

impl From<IngestError> for Failure {
    fn from(e: IngestError) -> Self {
        let code = match e {
            IngestError::UnknownSource(_) => ErrorCode::NotFound,
            IngestError::UnknownEventType { .. } => ErrorCode::UnknownEventType,
            IngestError::BadEnvelope(_) => ErrorCode::InvalidRequest,
            IngestError::Template { .. } | IngestError::BrokenConfig(_) => ErrorCode::TemplateError,
        };
        Failure::new(code, e.to_string())
    }
}
