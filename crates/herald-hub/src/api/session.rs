//! `/v1/session`: signing in with a user name and password for a browser session cookie, who
//! is signed in, and signing out. Also the password check that `POST /v1/devices` shares.
//!
//! Failed sign-ins are limited per user name and per client address, before the password is
//! checked: once either bucket is empty the answer is `429 rate_limited` with `Retry-After`
//! whatever the password, so guessing gets no further. A wrong password and an unknown user
//! get the same `401 invalid_credentials` after the same argon2 work.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{HeaderValue, SET_COOKIE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use herald_proto::ErrorCode;
use serde::{Deserialize, Serialize};

use super::json::JsonBody;
use super::rate_limit::too_many;
use super::{AppState, Failure};
use crate::auth::{forbidden_origin, hash_token, origin_allowed, session_cookie, session_key, AuthUser};
use crate::serve::ClientConn;
use crate::store::User;

/// How many failed sign-ins a user name, and a client address, may have in a burst, and how
/// fast that allowance comes back.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    pub per_user_burst: f64,
    pub per_user_per_second: f64,
    pub per_address_burst: f64,
    pub per_address_per_second: f64,
}

impl Default for SignInLimits {
    /// 10 wrong passwords per user, then one every 30 s; 30 per address (an office behind one
    /// NAT), then one every 2 s.
    fn default() -> Self {
        Self {
            per_user_burst: 10.0,
            per_user_per_second: 1.0 / 30.0,
            per_address_burst: 30.0,
            per_address_per_second: 0.5,
        }
    }
}

/// A browser keeps the cookie this long; the hub ends the session after 30 days unused.
const COOKIE_MAX_AGE: u64 = 400 * 24 * 3600;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    user: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedInAs {
    user: String,
}

/// `GET /v1/session`: who, and what the web inbox offers them (`composer`: "Create
/// notification" for groups).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Who {
    user: String,
    roles: Vec<String>,
}

fn bucket_keys(name: &str, conn: Option<&ClientConn>) -> ([u8; 32], Option<[u8; 32]>) {
    (
        hash_token(&format!("sign-in user {}", name.to_lowercase())),
        conn.map(|conn| hash_token(&format!("sign-in address {}", conn.peer.ip()))),
    )
}

/// `name` and `password` checked, within the sign-in limits: the user, or the answer to give.
pub(super) async fn check_password(
    state: &AppState,
    conn: Option<&ClientConn>,
    name: &str,
    password: &str,
) -> Result<User, Response> {
    let limits = state.config.sign_in_limits;
    let (user_key, address_key) = bucket_keys(name, conn);
    let limited =
        state.sign_in_failures.check(user_key, limits.per_user_per_second, limits.per_user_burst).err().or_else(|| {
            address_key.and_then(|key| {
                state.sign_in_failures.check(key, limits.per_address_per_second, limits.per_address_burst).err()
            })
        });
    if let Some(retry_after) = limited {
        return Err(too_many(format!("too many failed sign-ins; retry in {retry_after} s"), retry_after));
    }
    let found = state.store.password_hash_of(name).await.map_err(|e| Failure::from(e).into_response())?;
    let (user, stored) = match found {
        Some((user, stored)) => (Some(user), stored),
        None => (None, None),
    };
    if crate::passwords::verify(password, stored).await {
        if let Some(user) = user {
            return Ok(user);
        }
    }
    let _ = state.sign_in_failures.take(user_key, limits.per_user_per_second, limits.per_user_burst);
    if let Some(key) = address_key {
        let _ = state.sign_in_failures.take(key, limits.per_address_per_second, limits.per_address_burst);
    }
    tracing::info!(user = ?name, "failed sign-in");
    Err(Failure::new(ErrorCode::InvalidCredentials, "wrong user name or password").into_response())
}

fn cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.tls.is_some() { "; Secure" } else { "" };
    let cookie = format!(
        "{}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}",
        crate::auth::SESSION_COOKIE
    );
    HeaderValue::from_str(&cookie).expect("a token is printable ASCII")
}

#[utoipa::path(post, path = "/v1/session", tag = "session", request_body = SignIn, responses((status = 200, description = "Signed in; the answer sets the session cookie", body = SignedInAs), (status = 401, description = "Wrong user name or password", body = herald_proto::ApiError), (status = 403, description = "Sent from another site's page", body = herald_proto::ApiError), (status = 429, body = herald_proto::ApiError)))]
pub async fn sign_in(
    State(state): State<AppState>,
    conn: Option<Extension<Arc<ClientConn>>>,
    method: Method,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SignIn>,
) -> Result<Response, Response> {
    // Another site's page signing the browser in to an account of the attacker's (login CSRF).
    if !origin_allowed(&method, &headers) {
        return Err(forbidden_origin().into_response());
    }
    let conn = conn.map(|Extension(conn)| conn);
    let user = check_password(&state, conn.as_deref(), &request.user, &request.password).await?;
    let session = state.store.add_session(user.id).await.map_err(|e| Failure::from(e).into_response())?;
    if let Some(conn) = conn {
        conn.authenticated();
    }
    tracing::info!(user = %user.name, "signed in");
    let mut response = Json(SignedInAs { user: user.name }).into_response();
    response.headers_mut().insert(SET_COOKIE, cookie(&state, &session, COOKIE_MAX_AGE));
    Ok(response)
}

#[utoipa::path(get, path = "/v1/session", tag = "session", responses((status = 200, description = "Who the session cookie (or token) belongs to, with their roles", body = Who), (status = 401, body = herald_proto::ApiError)))]
pub async fn who(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Who>, Failure> {
    let roles = state.store.roles_of(user.id).await?;
    Ok(Json(Who { user: user.name, roles }))
}

#[utoipa::path(delete, path = "/v1/session", tag = "session", responses((status = 204, description = "Signed out: the session is over and its feeds closed; the cookie is cleared"), (status = 403, body = herald_proto::ApiError)))]
pub async fn sign_out(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Result<Response, Failure> {
    if let Some(session) = session_cookie(&headers) {
        if !origin_allowed(&method, &headers) {
            return Err(forbidden_origin());
        }
        state.store.end_session(session).await?;
        state.feeds.close_all(session_key(session));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, cookie(&state, "", 0));
    Ok(response)
}
