//! Per-token rate limit: a token bucket for each bearer token (by its hash, so no lookup is
//! needed), `429 rate_limited` with `Retry-After` when it is empty. `/healthz` is not limited.
//!
//! Failed authentication is limited per client address (`HubConfig::failed_auth_limit`, 30 at
//! once and one a second by default): each 401 takes from the address's bucket, and once it is
//! empty a failed authentication answers 429 with `Retry-After` instead of 401. A valid token is
//! never refused for its address (many users share one behind a proxy or a NAT), and the answer
//! of a failure beyond the bucket no longer says whether the token was wrong.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_proto::ErrorCode;

use super::{AppState, Failure};
use crate::auth::{bearer_token, credential_key, hash_token, session_cookie};

/// Buckets kept before idle (full) ones are forgotten, so random tokens cannot grow the map forever.
const MAX_BUCKETS: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Clone, Default)]
pub struct RateLimiter(Arc<Mutex<HashMap<[u8; 32], Bucket>>>);

impl RateLimiter {
    /// Whether `key`'s bucket holds a request, without taking it; if not, the seconds until it does.
    pub fn check(&self, key: [u8; 32], per_second: f64, burst: f64) -> Result<(), u64> {
        let buckets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(bucket) = buckets.get(&key) else { return Ok(()) };
        let tokens = (bucket.tokens + bucket.updated.elapsed().as_secs_f64() * per_second).min(burst);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - tokens) / per_second).ceil().max(1.0) as u64)
        }
    }

    /// Takes one request from `key`'s bucket; on an empty bucket, the seconds until the next one.
    pub fn take(&self, key: [u8; 32], per_second: f64, burst: f64) -> Result<(), u64> {
        let mut buckets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&key) {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: burst, updated: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

pub fn too_many(message: String, retry_after: u64) -> Response {
    let mut response = Failure::new(ErrorCode::RateLimited, message).into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// The failed-authentication bucket of the request's client address.
fn address_key(request: &Request) -> Option<[u8; 32]> {
    let conn = request.extensions().get::<Arc<crate::serve::ClientConn>>()?;
    Some(hash_token(&format!("address {}", conn.peer.ip())))
}

/// Counts each 401 against its address; past the bucket, the 401 becomes a 429.
pub async fn limit_failed_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(key), Some(limit)) = (address_key(&request), state.config.failed_auth_limit) else {
        return next.run(request).await;
    };
    let response = next.run(request).await;
    if response.status() != axum::http::StatusCode::UNAUTHORIZED {
        return response;
    }
    match state.failed_auth.take(key, limit.per_second, limit.burst) {
        Ok(()) => response,
        Err(retry_after) => {
            too_many(format!("too many failed sign-ins from this address; retry in {retry_after} s"), retry_after)
        }
    }
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limits) = state.config.rate_limit else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    // The page and its assets are static and cheap; one bucket for every signed-out browser
    // would let one of them block everyone's sign-in page.
    if path == "/healthz" || crate::web::is_page_path(path) {
        return next.run(request).await;
    }
    // Keyed by the token (or session cookie) exactly as authentication reads it, so spacing
    // tricks share one bucket; a request with neither (signing in) by its client address.
    let headers = request.headers();
    let key = match (bearer_token(headers), session_cookie(headers), address_key(&request)) {
        (None, None, Some(address)) => address,
        _ => credential_key(headers),
    };
    match state.rate_limiter.take(key, limits.per_second, limits.burst) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            too_many(format!("too many requests for this token; retry in {retry_after} s"), retry_after)
        }
    }
}
