//! Every error the hub answers is `{code, message}`, including the ones axum writes itself as
//! plain text or with no body at all: a query string or path segment its extractors cannot
//! read, a method a route does not take, a feed request without a WebSocket upgrade. Found by
//! schemathesis and the hub_requests fuzz target; this catches the whole class in one place
//! rather than wrapping each extractor.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_proto::ErrorCode;

use super::Failure;

/// Longest plain-text error kept as the message.
const MAX_MESSAGE: usize = 4 * 1024;

pub async fn as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), MAX_MESSAGE).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message =
        if text.is_empty() { status.canonical_reason().unwrap_or("the request failed").to_lowercase() } else { text };
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        status if status.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidRequest,
    };
    Failure::new(code, message).into_response()
}
