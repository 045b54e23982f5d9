//! `Idempotency-Key`: a mutating request sent again with the same key (by the same caller) gets
//! the first answer again, and nothing is applied twice. A key reused for a different request
//! is refused (422); a repeat while the first is still running is refused (409).
//!
//! Only successful answers are kept: a failed request may be retried with the same key.
//! The request's first write records that it was applied, in the same transaction
//! (store/idempotency.rs); the answer replaces that record right after the handler, even if the
//! client has hung up. A retry after a hub crash in between gets `answer_lost` (409): applied
//! once, not again. This covers what handlers write through the store's group writer: sends,
//! reads, deletes, answers, ingest. The admin calls and preferences write directly and are
//! idempotent by content, but for `POST /v1/admin/tokens`: after a crash its retry makes a
//! second token (the first was never shown to anyone).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_proto::ErrorCode;
use sha2::{Digest, Sha256};

use super::{AppState, Failure};
use crate::auth::{Authenticated, Caller};
use crate::store::{Applying, StoredResponse, ANSWER_PENDING, APPLYING};

const HEADER: &str = "idempotency-key";
/// Marks an answer given again from the store.
const REPLAYED: &str = "idempotent-replayed";

/// Keys whose first request is still running, per user.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashSet<(String, String)>>>);

struct Claim {
    set: InFlight,
    entry: (String, String),
}

impl InFlight {
    fn claim(&self, principal: &str, key: &str) -> Option<Claim> {
        let entry = (principal.to_owned(), key.to_owned());
        let fresh = self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(entry.clone());
        fresh.then(|| Claim { set: self.clone(), entry })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.set.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.entry);
    }
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mutating = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    let Some(key) = request.headers().get(HEADER).filter(|_| mutating) else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) => key.to_owned(),
        _ => {
            return Failure::new(ErrorCode::InvalidRequest, "Idempotency-Key must be 1–255 visible ASCII characters")
                .into_response()
        }
    };
    match with_key(state, key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

/// A JSON object's bytes without its `password` (kept records hold the request's SHA-256, and
/// one over a password would be a fast hash of it at rest, beside the argon2 one).
fn without_password(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.as_object_mut()?.remove("password")?;
    serde_json::to_vec(&value).ok()
}

async fn with_key(state: AppState, key: String, request: Request, next: Next) -> Result<Response, Response> {
    // Keys are the caller's own, so authenticate here (the handler checks again).
    let (mut parts, body) = request.into_parts();
    let Authenticated(caller) =
        Authenticated::from_request_parts(&mut parts, &state).await.map_err(IntoResponse::into_response)?;
    let principal = match &caller {
        Caller::User(user) => format!("user:{}", user.id),
        Caller::App { name } => format!("app:{name}"),
        // Per admin token: one admin cannot replay another's key and receive their answer.
        Caller::Admin => {
            let token = crate::auth::bearer_token(&parts.headers).unwrap_or("");
            format!("admin:{}", hex::encode(&crate::auth::hash_token(token)[..12]))
        }
    };
    let limit = state.config.max_body_bytes;
    let body = to_bytes(body, limit).await.map_err(|_| {
        Failure::new(ErrorCode::PayloadTooLarge, format!("the body is larger than {limit} bytes")).into_response()
    })?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(parts.uri.to_string().as_bytes());
    hasher.update(without_password(&body).as_deref().unwrap_or(&body));
    let request_hash = hasher.finalize().to_vec();

    let claim = state.in_flight.claim(&principal, &key).ok_or_else(|| {
        Failure::new(ErrorCode::RequestInProgress, "a request with this Idempotency-Key is still running")
            .into_response()
    })?;
    if let Some(first) =
        state.store.stored_response(&principal, &key).await.map_err(|e| Failure::from(e).into_response())?
    {
        if first.request_hash != request_hash {
            // (A different request under a key whose answer was lost is still a reuse.)
            return Err(Failure::new(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request",
            )
            .into_response());
        }
        if first.status == ANSWER_PENDING {
            return Err(Failure::new(
                ErrorCode::AnswerLost,
                "this request was applied once; the hub stopped before keeping its answer, and will not apply it again",
            )
            .into_response());
        }
        return Ok(replay(first));
    }

    // Run the request and keep its answer in a task of its own: if the client hangs up midway,
    // the answer is still kept, so its retry replays it instead of applying the request again.
    let store = state.store.clone();
    let applying = Applying { principal, key, request_hash };
    let run = tokio::spawn({
        let (store, applying) = (store.clone(), applying.clone());
        async move {
            let _claim = claim;
            let response =
                APPLYING.scope(applying.clone(), next.run(Request::from_parts(parts, Body::from(body)))).await;
            if !response.status().is_success() {
                forget(&store, &applying).await;
                return response;
            }
            let (parts, body) = response.into_parts();
            let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let stored = StoredResponse {
                request_hash: applying.request_hash,
                status: parts.status.as_u16(),
                body: body.to_vec(),
            };
            if let Err(e) = store.store_response(&applying.principal, &applying.key, stored).await {
                tracing::error!(error = %e, "cannot keep an idempotent answer; a retry will get answer_lost");
            }
            Response::from_parts(parts, Body::from(body))
        }
    });
    match run.await {
        Ok(response) => Ok(response),
        Err(e) => {
            // A handler that panicked answered nothing: its key must not stay "applied".
            forget(&store, &applying).await;
            Err(Failure::new(ErrorCode::Internal, format!("the request failed: {e}")).into_response())
        }
    }
}

/// A request that failed after all is not "applied": its retry may run it again.
async fn forget(store: &crate::store::Store, applying: &Applying) {
    if let Err(e) = store.forget_pending(&applying.principal, &applying.key).await {
        tracing::error!(error = %e, "cannot forget a failed request's key; its retry will be refused");
    }
}

fn replay(first: StoredResponse) -> Response {
    let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK);
    let mut response = (status, first.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
