//! [`JsonBody`]: like `axum::Json`, but its rejections speak `{code, message}`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use herald_proto::ErrorCode;
use serde::de::DeserializeOwned;

use super::Failure;

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(describe(rejection)),
        }
    }
}

fn describe(rejection: JsonRejection) -> Failure {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Failure::new(
            ErrorCode::PayloadTooLarge,
            "the body is larger than this hub accepts (64 KiB unless configured otherwise)",
        );
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            Failure::new(ErrorCode::InvalidJson, "send 'Content-Type: application/json'")
        }
        JsonRejection::JsonDataError(e) => Failure::new(ErrorCode::InvalidRequest, e.body_text()),
        other => Failure::new(ErrorCode::InvalidJson, other.body_text()),
    }
}
