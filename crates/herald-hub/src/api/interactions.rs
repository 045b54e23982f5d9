//! `POST /v1/notifications/{id}/confirm` and `/answer`: the user answers a notification once,
//! with one of its buttons or in text (seed 003).

use axum::extract::{Path, State};
use axum::Json;
use herald_proto::{AnswerRequest, ConfirmRequest, ErrorCode, Notification};

use super::json::JsonBody;
use super::notifications::parse_id;
use super::{AppState, Failure};
use crate::auth::AuthUser;
use crate::store::{AnswerError, Response, ANSWER_KIND};

const MAX_ANSWER_CHARS: usize = 4_000;

#[utoipa::path(post, path = "/v1/notifications/{id}/confirm", tag = "notifications", params(("id" = i64, Path)), request_body = herald_proto::ConfirmRequest, responses((status = 200, description = "The answered notification", body = herald_proto::Notification), (status = 404, body = herald_proto::ApiError), (status = 409, description = "Already answered", body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn confirm(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ConfirmRequest>,
) -> Result<Json<Notification>, Failure> {
    let id = parse_id(&id)?;
    answer_with(&state, user.id, id, Response::Confirm(request.value)).await
}

#[utoipa::path(post, path = "/v1/notifications/{id}/answer", tag = "notifications", params(("id" = i64, Path)), request_body = herald_proto::AnswerRequest, responses((status = 200, body = herald_proto::Notification), (status = 404, body = herald_proto::ApiError), (status = 409, body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn answer(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<AnswerRequest>,
) -> Result<Json<Notification>, Failure> {
    let id = parse_id(&id)?;
    let text = request.text.trim();
    if text.is_empty() || text.chars().count() > MAX_ANSWER_CHARS {
        return Err(Failure::new(ErrorCode::InvalidRequest, format!("'text' must be 1–{MAX_ANSWER_CHARS} characters")));
    }
    answer_with(&state, user.id, id, Response::Text(text.to_owned())).await
}

/// Records the answer; the sender learns of it without this request waiting for them.
async fn answer_with(
    state: &AppState,
    user_id: i64,
    id: i64,
    response: Response,
) -> Result<Json<Notification>, Failure> {
    let rule = state.config.types.rule_for(ANSWER_KIND).clone();
    let answered = state.store.answer(user_id, id, response, rule).await?;
    if answered.callback_queued {
        state.callbacks.wake();
    }
    Ok(Json(answered.notification))
}

impl From<AnswerError> for Failure {
    fn from(e: AnswerError) -> Self {
        let message = e.to_string();
        let code = match e {
            AnswerError::Store(inner) => return inner.into(),
            AnswerError::NotFound(_) => ErrorCode::NotFound,
            AnswerError::AlreadyAnswered(_) => ErrorCode::Conflict,
            AnswerError::NoSuchButton { .. } | AnswerError::NoReply(_) => ErrorCode::InvalidRequest,
        };
        Failure::new(code, message)
    }
}
