//! Every error the hub answers is `{code, message}`, including the ones axum writes itself as
//! plain text or with no body at all: a query string or path segment its extractors cannot
//! read, a method a route does not take, a feed request without a WebSocket upgrade. Found by
//! schemathesis and the hub_requests fuzz target; this catches the whole class in one place
//! rather than wrapping each extractor.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use herald_proto::{ApiError, ErrorCode};

/// Longest plain-text error kept as the message.
const MAX_MESSAGE: usize = 4 * 1024;

pub async fn as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // A page of the hub's own (the links in mail open them) stays a page.
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    // The status and headers stay (a 405's Allow, a 426's Upgrade); only the body is replaced.
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_MESSAGE).await {
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
    let body = serde_json::to_vec(&ApiError::new(code, message)).expect("an ApiError serialises");
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
