//! `/v1/notifications`: send, list the caller's own, mark read.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use herald_proto::{
    Audience, Button, ErrorCode, MarkReadRequest, MarkReadResponse, Notification, Page, SendRequest, SendResponse,
    MAX_IDS_PER_REQUEST,
};
use serde::Deserialize;

use super::json::JsonBody;
use super::{AppState, Failure};
use crate::auth::{AuthUser, Authenticated, Caller};
use crate::store::{normalize_time, now_rfc3339, ListFilter, NewNotification, Recipients};
use crate::types::{valid_kind, TypeRegistry};

const MAX_SUBJECT_CHARS: usize = 1_000;
const MAX_LINK_CHARS: usize = 2_048;
/// Types, tags, sub-tags and button values.
const MAX_NAME_CHARS: usize = 256;
const MAX_LABEL_CHARS: usize = 200;
const MAX_BUTTONS: usize = 5;
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

#[utoipa::path(post, path = "/v1/notifications", tag = "notifications", request_body = herald_proto::SendRequest, responses((status = 200, description = "One id per recipient, in recipient order", body = herald_proto::SendResponse), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError), (status = 403, description = "`everyone` from a user", body = herald_proto::ApiError), (status = 404, description = "Unknown recipient", body = herald_proto::ApiError), (status = 413, body = herald_proto::ApiError), (status = 429, body = herald_proto::ApiError)))]
pub async fn send(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(raw): JsonBody<serde_json::Value>,
) -> Result<Json<SendResponse>, Failure> {
    let (new, recipients) = prepare(&state, &caller, raw).await?;
    let delivered = state.store.deliver(recipients, new).await?;
    tracing::info!(?caller, count = delivered.len(), "delivered notification");
    Ok(Json(SendResponse { ids: delivered.iter().map(|n| n.id).collect() }))
}

/// A send checked as `POST /v1/notifications` checks it (shape, limits, who may send what) and
/// its audience resolved: what would be stored, and for whom.
async fn prepare(
    state: &AppState,
    caller: &Caller,
    raw: serde_json::Value,
) -> Result<(NewNotification, Vec<i64>), Failure> {
    // Checked before the typed parse so a missing recipient gets its own code, not a serde message.
    if raw.get("to").is_none_or(serde_json::Value::is_null) {
        return Err(Failure::new(
            ErrorCode::MissingRecipient,
            "the request has no 'to'; e.g. {\"to\": {\"user\": \"alice\"}}",
        ));
    }
    let request: SendRequest =
        serde_json::from_value(raw).map_err(|e| Failure::new(ErrorCode::InvalidRequest, e.to_string()))?;
    // A user's send is personal and names them; an app's or admin's is a system notification.
    let sender = match caller {
        Caller::User(user) => Some(user.name.as_str()),
        Caller::App { .. } | Caller::Admin => None,
    };
    let mut new = validate(&request, sender, &state.config.types)?;
    if let Caller::User(user) = caller {
        super::sender_policy::check(state, user, &request).await?;
    }
    if let Caller::App { name } = caller {
        new.sender_app = Some(name.clone());
    }
    let recipients = state.store.resolve(recipients_of(request.to, caller)?).await?;
    Ok((new, recipients))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// How many users the send would reach (each once).
    recipients: usize,
}

#[utoipa::path(post, path = "/v1/notifications/preview", tag = "notifications", request_body = herald_proto::SendRequest, responses((status = 200, description = "What the same POST /v1/notifications would do, without doing it", body = Preview), (status = 400, body = herald_proto::ApiError), (status = 401, body = herald_proto::ApiError), (status = 403, body = herald_proto::ApiError), (status = 404, body = herald_proto::ApiError)))]
pub async fn preview(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(raw): JsonBody<serde_json::Value>,
) -> Result<Json<Preview>, Failure> {
    let (_, recipients) = prepare(&state, &caller, raw).await?;
    Ok(Json(Preview { recipients: recipients.len() }))
}

/// The store's audience for a request's `to`; `everyone` only for apps and admins.
pub(super) fn recipients_of(audience: Audience, caller: &Caller) -> Result<Recipients, Failure> {
    Ok(match audience {
        Audience::Everyone(false) => return Err(Failure::new(ErrorCode::MissingRecipient, "'everyone' is false")),
        Audience::Everyone(true) if matches!(caller, Caller::User(_)) => {
            return Err(Failure::new(ErrorCode::Forbidden, "only apps and admins may send to everyone"));
        }
        Audience::Everyone(true) => Recipients::Everyone,
        Audience::User(name) => Recipients::Users(vec![name]),
        Audience::Users(names) if names.is_empty() => {
            return Err(Failure::new(ErrorCode::MissingRecipient, "'users' names nobody"));
        }
        Audience::Users(names) => Recipients::Users(names),
        Audience::Role(role) => Recipients::Role(role),
        Audience::Organization(org) => Recipients::Organization(org),
        Audience::FollowersOf(object) => Recipients::FollowersOf(object),
    })
}

/// `text` with each control character a space; `keep_lines`: but for line breaks and tabs.
pub(super) fn without_controls(text: &str, keep_lines: bool) -> String {
    text.chars().map(|c| if c.is_control() && !(keep_lines && matches!(c, '\n' | '\t')) { ' ' } else { c }).collect()
}

pub(super) fn validate(
    request: &SendRequest,
    sender: Option<&str>,
    types: &TypeRegistry,
) -> Result<NewNotification, Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::InvalidRequest, message);
    // Text a person reads: control characters (a line break or a tab in a subject, NUL, ESC,
    // C1) become spaces, so they can neither forge lines in logs and terminals nor break a
    // client's one-line display. The body keeps its line breaks and tabs.
    let subject = without_controls(&request.subject, false);
    let subject = subject.trim();
    let body = without_controls(&request.body, true);
    let link = request.link.as_deref().map(|link| without_controls(link, false));
    if subject.is_empty() {
        return Err(invalid("'subject' must not be empty".into()));
    }
    let lengths = [("subject", Some(subject), MAX_SUBJECT_CHARS), ("link", link.as_deref(), MAX_LINK_CHARS)];
    // Names: a control character in one is refused.
    let limits = [
        ("type", Some(request.kind.as_str()), MAX_NAME_CHARS),
        ("tag", request.tag.as_deref(), MAX_NAME_CHARS),
        ("sub_tag", request.sub_tag.as_deref(), MAX_NAME_CHARS),
    ];
    for (field, value, max) in lengths.into_iter().chain(limits) {
        if value.is_some_and(|v| v.chars().count() > max) {
            return Err(invalid(format!("'{field}' is longer than {max} characters")));
        }
        if value.is_some_and(|v| v.chars().any(char::is_control)) {
            return Err(invalid(format!("'{field}' holds a control character (NUL, C0 or C1)")));
        }
    }
    check_buttons(&request.buttons)?;
    if request.reply.as_ref().is_some_and(|r| r.placeholder.chars().count() > MAX_LABEL_CHARS) {
        return Err(invalid(format!("'reply.placeholder' is longer than {MAX_LABEL_CHARS} characters")));
    }
    if !valid_kind(&request.kind) {
        return Err(invalid(format!("'type' {:?} is not `module.name` in a-z, 0-9, '_', '-', '.'", request.kind)));
    }
    let expires_at = match request.expires_at.as_deref() {
        None => None,
        Some(at) => {
            let at = normalize_time(at).ok_or_else(|| invalid("'expires_at' is not an RFC 3339 time".into()))?;
            if at <= now_rfc3339() {
                return Err(invalid("'expires_at' is in the past: the notification would never be seen".into()));
            }
            Some(at)
        }
    };
    let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    Ok(NewNotification {
        kind: request.kind.clone(),
        subject: subject.to_owned(),
        body,
        link: non_empty(&link),
        tag: non_empty(&request.tag),
        sub_tag: non_empty(&request.sub_tag),
        priority: request.priority,
        object: request.object.clone(),
        sender: sender.map(str::to_owned),
        sender_app: None,
        buttons: request.buttons.clone(),
        reply: request.reply.clone(),
        rule: types.rule_for(&request.kind).clone(),
        expires_at,
    })
}

/// At most a few buttons, each with a short distinct value and a label.
pub(crate) fn check_buttons(buttons: &[Button]) -> Result<(), Failure> {
    let invalid = |message: String| Err(Failure::new(ErrorCode::InvalidRequest, message));
    if buttons.len() > MAX_BUTTONS {
        return invalid(format!("at most {MAX_BUTTONS} buttons"));
    }
    for (i, button) in buttons.iter().enumerate() {
        if button.value.is_empty() || button.value.chars().count() > MAX_NAME_CHARS {
            return invalid(format!("button {i} needs a value of 1–{MAX_NAME_CHARS} characters"));
        }
        if button.label.trim().is_empty() || button.label.chars().count() > MAX_LABEL_CHARS {
            return invalid(format!("button {i} needs a label of 1–{MAX_LABEL_CHARS} characters"));
        }
        if buttons[..i].iter().any(|b| b.value == button.value) {
            return invalid(format!("two buttons have the value {:?}", button.value));
        }
    }
    Ok(())
}

/// `GET /v1/notifications` parameters: a page (`before`, `limit`) and filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    limit: Option<u32>,
    /// The `next` of the previous page (`cursor` is the older name).
    #[serde(alias = "cursor")]
    before: Option<String>,
    unread: Option<bool>,
    #[serde(rename = "type")]
    kind: Option<String>,
    module: Option<String>,
    tag: Option<String>,
    sub_tag: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// Words to find in subject or body.
    q: Option<String>,
    /// Unanswered confirm-type notifications first, then the rest.
    #[serde(default)]
    confirm_first: bool,
}

#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(ListQuery), responses((status = 200, description = "A page, newest first (or unanswered confirm-type first)", body = inline(herald_proto::Page<herald_proto::Notification>)), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Notification>>, Failure> {
    let invalid = |message: &str| Failure::new(ErrorCode::InvalidRequest, message);
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let cursor = ListCursor::parse(query.before.as_deref())
        .ok_or_else(|| invalid("'before' is not a cursor this hub gave out"))?;
    let time = |field: &str, value: Option<String>| match value {
        None => Ok(None),
        Some(v) => normalize_time(&v).map(Some).ok_or_else(|| invalid(&format!("'{field}' is not an RFC 3339 time"))),
    };
    let filter = ListFilter {
        unread: query.unread,
        kind: query.kind,
        module: query.module,
        tag: query.tag,
        sub_tag: query.sub_tag,
        from: time("from", query.from)?,
        to: time("to", query.to)?,
        text: query.q.filter(|q| !q.trim().is_empty()),
        awaiting: None,
    };
    if !query.confirm_first {
        let before = match cursor {
            ListCursor::Start => None,
            ListCursor::Rest(id) => Some(id),
            ListCursor::Awaiting(_) => return Err(invalid("that cursor belongs to a confirm_first=true listing")),
        };
        let (items, more) = state.store.search(user.id, before, limit, filter).await?;
        let next = if more { items.last().map(|n| n.id.to_string()) } else { None };
        return Ok(Json(Page { items, next }));
    }
    confirm_first(&state, user.id, cursor, limit, filter).await.map(Json)
}

/// Where a listing goes on. With `confirm_first` a listing has two sections — unanswered
/// confirm-type notifications, then the rest, each newest first — and the cursor says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListCursor {
    Start,
    /// `a<ID>`: in the unanswered section, below ID.
    Awaiting(i64),
    /// `<ID>`: in the (only or second) section, below ID.
    Rest(i64),
}

impl ListCursor {
    fn parse(text: Option<&str>) -> Option<Self> {
        match text {
            None | Some("") => Some(Self::Start),
            Some(text) => match text.strip_prefix('a') {
                Some(id) => id.parse().ok().map(Self::Awaiting),
                None => text.parse().ok().map(Self::Rest),
            },
        }
    }
}

async fn confirm_first(
    state: &AppState,
    user_id: i64,
    cursor: ListCursor,
    limit: u32,
    filter: ListFilter,
) -> Result<Page<Notification>, Failure> {
    let mut items = Vec::new();
    let rest_from = match cursor {
        ListCursor::Rest(id) => Some(id),
        ListCursor::Start | ListCursor::Awaiting(_) => {
            let before = if let ListCursor::Awaiting(id) = cursor { Some(id) } else { None };
            let awaiting = ListFilter { awaiting: Some(true), ..filter.clone() };
            let (found, more) = state.store.search(user_id, before, limit, awaiting).await?;
            if more {
                let next = found.last().map(|n| format!("a{}", n.id));
                return Ok(Page { items: found, next });
            }
            items = found;
            None
        }
    };
    let rest = ListFilter { awaiting: Some(false), ..filter };
    let room = limit - items.len() as u32;
    if room == 0 {
        // The first section filled the page exactly: say whether the second has anything.
        let (peek, _) = state.store.search(user_id, rest_from, 1, rest).await?;
        let next = (!peek.is_empty()).then(|| rest_from.unwrap_or(i64::MAX).to_string());
        return Ok(Page { items, next });
    }
    let (found, more) = state.store.search(user_id, rest_from, room, rest).await?;
    let next = if more { found.last().map(|n| n.id.to_string()) } else { None };
    items.extend(found);
    Ok(Page { items, next })
}

#[utoipa::path(post, path = "/v1/notifications/read", tag = "notifications", request_body = herald_proto::MarkReadRequest, responses((status = 200, body = herald_proto::MarkReadResponse), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn mark_read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(request): JsonBody<MarkReadRequest>,
) -> Result<Json<MarkReadResponse>, Failure> {
    if request.ids.len() > MAX_IDS_PER_REQUEST {
        return Err(Failure::new(ErrorCode::InvalidRequest, format!("at most {MAX_IDS_PER_REQUEST} ids per request")));
    }
    let changed = state.store.mark_read(user.id, request.ids, request.read).await?;
    Ok(Json(MarkReadResponse { changed }))
}

/// A notification id from the path; anything else is a 400 in the usual shape.
pub(super) fn parse_id(raw: &str) -> Result<i64, Failure> {
    raw.parse().map_err(|_| Failure::new(ErrorCode::InvalidRequest, format!("{raw:?} is not a notification id")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadFromQuery {
    /// Seed 003: true reads only this one; false or absent also reads every newer one.
    #[serde(default)]
    only_current: bool,
}

#[utoipa::path(post, path = "/v1/notifications/{id}/read", tag = "notifications", params(("id" = i64, Path, description = "A notification id"), ReadFromQuery), responses((status = 200, body = herald_proto::MarkReadResponse), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn read_from(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(query): Query<ReadFromQuery>,
) -> Result<Json<MarkReadResponse>, Failure> {
    let changed = state.store.read_from(user.id, parse_id(&id)?, query.only_current).await?;
    Ok(Json(MarkReadResponse { changed }))
}

#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications", responses((status = 200, body = herald_proto::MarkReadResponse), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn read_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<MarkReadResponse>, Failure> {
    Ok(Json(MarkReadResponse { changed: state.store.read_all(user.id).await? }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteTaggedQuery {
    tag: Option<String>,
    sub_tag: Option<String>,
}

#[utoipa::path(delete, path = "/v1/notifications", tag = "notifications", params(DeleteTaggedQuery), responses((status = 200, description = "`{\"deleted\": N}`"), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
/// `DELETE /v1/notifications?tag=…&sub_tag=…` (seed 003's delete by TAG / SUB_TAG).
pub async fn delete_tagged(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<DeleteTaggedQuery>,
) -> Result<Json<serde_json::Value>, Failure> {
    if query.tag.is_none() && query.sub_tag.is_none() {
        return Err(Failure::new(ErrorCode::InvalidRequest, "name a 'tag' or a 'sub_tag' to delete"));
    }
    let ids = state.store.tagged_ids(user.id, query.tag, query.sub_tag).await?;
    let deleted = state.store.delete(user.id, ids).await?;
    Ok(Json(serde_json::json!({ "deleted": deleted.len() })))
}

#[utoipa::path(delete, path = "/v1/notifications/{id}", tag = "notifications", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn delete_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    let id = parse_id(&id)?;
    if state.store.delete(user.id, vec![id]).await?.is_empty() {
        return Err(Failure::new(ErrorCode::NotFound, format!("you have no notification {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/notifications/{id}", tag = "notifications", params(("id" = i64, Path)), responses((status = 200, body = herald_proto::Notification), (status = 404, body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
/// One of the caller's notifications (a link in a mail opens it in the web inbox however old).
pub async fn get_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<herald_proto::Notification>, Failure> {
    let id = parse_id(&id)?;
    match state.store.notification(user.id, id).await? {
        Some(notification) => Ok(Json(notification)),
        None => Err(Failure::new(ErrorCode::NotFound, format!("you have no notification {id}"))),
    }
}
