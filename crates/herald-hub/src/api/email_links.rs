//! What the links in mail open: `/v1/email/unsubscribe/{token}` (RFC 8058 one-click: a POST
//! turns that mail off, a GET only shows a page with the button) and `/v1/email/answer/{token}`
//! (the answer page of a confirm-type notification: the GET asks once more, the POST records
//! the answer once, as `POST /v1/notifications/{id}/confirm` does). The signed token is the only
//! credential: mail clients and the pages' own forms send no cookie.

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use herald_proto::Channel;

use super::AppState;
use crate::mail::links::Link;
use crate::mail::pages::{self, Page};
use crate::store::{AnswerError, Response as AnswerResponse, ANSWER_KIND};

#[derive(Debug, serde::Deserialize)]
pub struct Choice {
    value: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Answer {
    value: String,
}

/// A page with its status, never cached, framed or sent on as a referrer (its URL holds the
/// token).
fn respond(status: StatusCode, page: Page) -> Response {
    let mut response = (status, page.html()).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(pages::CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a mail link failed");
    respond(StatusCode::INTERNAL_SERVER_ERROR, pages::gone("The hub could not do this just now; try again later."))
}

fn forged() -> Response {
    respond(StatusCode::FORBIDDEN, pages::invalid_link())
}

/// Where "open Herald" goes: the web inbox.
fn inbox(state: &AppState) -> String {
    state.config.mail.as_ref().map_or_else(|| "/".to_owned(), |m| m.public_url.to_string())
}

/// The user and types an unsubscribe token names, if it is genuine and the user still exists.
async fn unsubscribe_link(state: &AppState, token: &str) -> Result<(crate::store::User, Vec<String>), Response> {
    let (user_id, kinds) = match Link::verify(state.store.mail_key(), token) {
        Some(Link::Unsubscribe { user_id, kinds }) => (user_id, kinds),
        Some(Link::UnsubscribeDigest { user_id, mail_id }) => match state.store.digest_types(user_id, mail_id).await {
            Ok(Some(kinds)) => (user_id, kinds),
            Ok(None) => return Err(respond(StatusCode::NOT_FOUND, pages::gone("This digest is no longer known."))),
            Err(e) => return Err(failed(e)),
        },
        _ => return Err(forged()),
    };
    match state.store.user_by_id(user_id).await {
        Ok(Some(user)) => Ok((user, kinds)),
        Ok(None) => Err(respond(StatusCode::NOT_FOUND, pages::gone("This account no longer exists."))),
        Err(e) => Err(failed(e)),
    }
}

#[utoipa::path(get, path = "/v1/email/unsubscribe/{token}", tag = "email", security(()), params(("token" = String, Path, description = "From the mail's List-Unsubscribe header")), responses((status = 200, description = "A page with the unsubscribe button; changes nothing", content_type = "text/html"), (status = 403, description = "A token this hub did not sign", content_type = "text/html")))]
pub async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (user, kinds) = match unsubscribe_link(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let titles: Vec<String> = kinds.iter().map(|k| state.config.types.title_of(k).to_owned()).collect();
    respond(StatusCode::OK, pages::unsubscribe_form(&user.name, &titles))
}

#[utoipa::path(post, path = "/v1/email/unsubscribe/{token}", tag = "email", security(()), params(("token" = String, Path)), responses((status = 200, description = "Mail of those types is off for that user (RFC 8058 one-click)", content_type = "text/html"), (status = 403, description = "A token this hub did not sign", content_type = "text/html")))]
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (user, kinds) = match unsubscribe_link(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    // A type whose email the types file locks stays on: the organisation requires it.
    let (required, stopped): (Vec<String>, Vec<String>) =
        kinds.into_iter().partition(|k| state.config.types.rule_for(k).locked.contains(&Channel::Email));
    if let Err(e) = state.store.set_switches(user.id, stopped.clone(), Channel::Email, false).await {
        return failed(e);
    }
    tracing::info!(user = %user.name, types = ?stopped, "unsubscribed from mail");
    let title = |k: &String| state.config.types.title_of(k).to_owned();
    respond(
        StatusCode::OK,
        pages::unsubscribed(
            &stopped.iter().map(title).collect::<Vec<_>>(),
            &required.iter().map(title).collect::<Vec<_>>(),
            &inbox(&state),
        ),
    )
}

/// The user and notification an answer token names, as it is now.
async fn answer_link(state: &AppState, token: &str) -> Result<(i64, herald_proto::Notification), Response> {
    let Some(Link::Answer { user_id, notification_id }) = Link::verify(state.store.mail_key(), token) else {
        return Err(forged());
    };
    match state.store.notification(user_id, notification_id).await {
        Ok(Some(n)) => Ok((user_id, n)),
        Ok(None) => Err(respond(StatusCode::NOT_FOUND, pages::gone("This notification is no longer there."))),
        Err(e) => Err(failed(e)),
    }
}

#[utoipa::path(get, path = "/v1/email/answer/{token}", tag = "email", security(()), params(("token" = String, Path, description = "From a confirm button in a mail"), ("value" = Option<String>, Query, description = "The button chosen")), responses((status = 200, description = "The notification and the choice, asked once more (or the answer already recorded); changes nothing", content_type = "text/html"), (status = 403, description = "A token this hub did not sign", content_type = "text/html"), (status = 404, description = "The notification is gone", content_type = "text/html")))]
pub async fn answer_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(choice): Query<Choice>,
) -> Response {
    let (_, notification) = match answer_link(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if notification.answer.is_some() {
        return respond(StatusCode::OK, pages::answered(&notification, false, &inbox(&state)));
    }
    respond(StatusCode::OK, pages::answer_form(&notification, choice.value.as_deref()))
}

#[utoipa::path(post, path = "/v1/email/answer/{token}", tag = "email", security(()), params(("token" = String, Path)), request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "value=BUTTON"), responses((status = 200, description = "The answer recorded", content_type = "text/html"), (status = 409, description = "Already answered: the page shows the recorded answer", content_type = "text/html"), (status = 400, description = "No such button", content_type = "text/html"), (status = 403, description = "A token this hub did not sign", content_type = "text/html"), (status = 404, description = "The notification is gone", content_type = "text/html")))]
pub async fn answer(State(state): State<AppState>, Path(token): Path<String>, Form(answer): Form<Answer>) -> Response {
    let (user_id, notification) = match answer_link(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let rule = state.config.types.rule_for(ANSWER_KIND).clone();
    match state.store.answer(user_id, notification.id, AnswerResponse::Confirm(answer.value), rule).await {
        Ok(answered) => {
            if answered.callback_queued {
                state.callbacks.wake();
            }
            respond(StatusCode::OK, pages::answered(&answered.notification, true, &inbox(&state)))
        }
        Err(AnswerError::AlreadyAnswered(_)) => match state.store.notification(user_id, notification.id).await {
            Ok(Some(now)) => respond(StatusCode::CONFLICT, pages::answered(&now, false, &inbox(&state))),
            Ok(None) => respond(StatusCode::NOT_FOUND, pages::gone("This notification is no longer there.")),
            Err(e) => failed(e),
        },
        Err(AnswerError::NotFound(_)) => {
            respond(StatusCode::NOT_FOUND, pages::gone("This notification is no longer there."))
        }
        Err(AnswerError::NoSuchButton { .. } | AnswerError::NoReply(_)) => {
            respond(StatusCode::BAD_REQUEST, pages::answer_form(&notification, None))
        }
        Err(AnswerError::Store(e)) => failed(e),
    }
}
