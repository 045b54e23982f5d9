//! Per-token rate limit: a token bucket for each bearer token (by its hash, so no lookup is
//! needed), `429 rate_limited` with `Retry-After` when it is empty. `/healthz` is not limited.
//!
//! Failed authentication is limited per client address (`HubConfig::failed_auth_limit`, 30 at
//! once and one a second by default): each 401 takes from the address's bucket, and while it is
//! empty every request from that address gets 429 before any work. A client guessing tokens, or one with a
//! revoked token in a loop, slows to one try a second.

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
use crate::auth::{bearer_token, hash_token};

/// Buckets kept before idle (full) ones are forgotten, so random tokens cannot grow the map forever.
const MAX_BUCKETS: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Clone, Default)]
pub struct RateLimiter(Arc<Mutex<HashMap<[u8; 32], Bucket>>>);

impl RateLimiter {
    /// Takes one request from `key`'s bucket; on an empty bucket, the seconds until the next one.
    fn take(&self, key: [u8; 32], per_second: f64, burst: f64) -> Result<(), u64> {
        self.bucket(key, per_second, burst, 1.0)
    }

    /// Like [`Self::take`] but takes nothing: whether `key`'s bucket has one left.
    fn check(&self, key: [u8; 32], per_second: f64, burst: f64) -> Result<(), u64> {
        self.bucket(key, per_second, burst, 0.0)
    }

    fn bucket(&self, key: [u8; 32], per_second: f64, burst: f64, cost: f64) -> Result<(), u64> {
        let mut buckets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&key) {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: burst, updated: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= cost;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

fn too_many(message: String, retry_after: u64) -> Response {
    let mut response = Failure::new(ErrorCode::RateLimited, message).into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// The failed-authentication bucket of the request's client address.
fn address_key(request: &Request) -> Option<[u8; 32]> {
    let conn = request.extensions().get::<Arc<crate::serve::ClientConn>>()?;
    Some(hash_token(&format!("address {}", conn.peer.ip())))
}

/// Refuses an address whose failed authentications used up its bucket; counts each new 401.
pub async fn limit_failed_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(key), Some(limit)) = (address_key(&request), state.config.failed_auth_limit) else {
        return next.run(request).await;
    };
    let failures = &state.failed_auth;
    if let Err(retry_after) = failures.check(key, limit.per_second, limit.burst) {
        let message = format!("too many failed sign-ins from this address; retry in {retry_after} s");
        return too_many(message, retry_after);
    }
    let response = next.run(request).await;
    if response.status() == axum::http::StatusCode::UNAUTHORIZED {
        let _ = failures.take(key, limit.per_second, limit.burst);
    }
    response
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limits) = state.config.rate_limit else {
        return next.run(request).await;
    };
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    // Keyed by the token exactly as authentication reads it, so spacing tricks share one bucket.
    let token = bearer_token(request.headers()).unwrap_or("");
    match state.rate_limiter.take(hash_token(token), limits.per_second, limits.burst) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            too_many(format!("too many requests for this token; retry in {retry_after} s"), retry_after)
        }
    }
}
