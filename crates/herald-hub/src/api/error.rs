//! [`Failure`]: an [`ApiError`] with its HTTP status, the only error type handlers return.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_proto::{ApiError, ErrorCode};

use crate::store::StoreError;

#[derive(Debug)]
pub struct Failure(pub ApiError);

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ApiError::new(code, message))
    }
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidJson | ErrorCode::InvalidRequest | ErrorCode::MissingRecipient | ErrorCode::CursorAhead => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::UnknownRecipient | ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::ForbiddenOrigin => StatusCode::FORBIDDEN,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Conflict | ErrorCode::RequestInProgress | ErrorCode::AnswerLost => StatusCode::CONFLICT,
        ErrorCode::ResyncRequired => StatusCode::GONE,
        ErrorCode::IdempotencyKeyReused | ErrorCode::UnknownEventType | ErrorCode::TemplateError => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Internal | ErrorCode::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (status_of(self.0.code), Json(self.0)).into_response();
        if response.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", "Bearer".parse().expect("static header"));
        }
        response
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::UnknownUser(name) => {
                Failure::new(ErrorCode::UnknownRecipient, format!("no user named {name:?}"))
            }
            StoreError::UserExists(_) => Failure::new(ErrorCode::Conflict, err.to_string()),
            StoreError::InvalidUserName(_)
            | StoreError::InvalidEmail(_)
            | StoreError::InvalidName { .. }
            | StoreError::InvalidCallback(_)
            | StoreError::CallbackRefused { .. }
            | StoreError::TooManyRecipients(_)
            | StoreError::Search(_)
            | StoreError::TooSlow
            | StoreError::TooManyDevices => Failure::new(ErrorCode::InvalidRequest, err.to_string()),
            StoreError::UnknownDevice => Failure::new(ErrorCode::NotFound, err.to_string()),
            _ => {
                // Internal details go to the log, not to the caller.
                tracing::error!(error = %err, "store failure");
                Failure::new(ErrorCode::Internal, "the hub could not complete the request")
            }
        }
    }
}
