//! `/v1/devices`: a user token per device, made by signing in (the session cookie, or HTTP
//! Basic with the user's name and password, for a desktop or a script), listed with when each
//! was last used, and revoked: its token gets 401 at once and its open feeds close.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use herald_proto::ErrorCode;
use serde::{Deserialize, Serialize};

use super::json::JsonBody;
use super::{AppState, Failure};
use crate::auth::{bearer_token, AuthUser, Authenticated, Caller};
use crate::serve::ClientConn;
use crate::store::{Device, User};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// How the user will recognise it in the list ("Work laptop").
    name: String,
}

/// The token is in this answer only; the hub keeps its hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedDevice {
    id: i64,
    token: String,
}

/// A user who proved it with their password just now: HTTP Basic, or the session cookie (made
/// by signing in). A bearer token does not mint device tokens: a leaked one could otherwise
/// outlive its own revocation.
pub struct SignedIn(User);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some((name, password)) = basic_credentials(parts) {
            let conn = parts.extensions.get::<Arc<ClientConn>>().cloned();
            let user = super::session::check_password(state, conn.as_deref(), &name, &password).await?;
            if let Some(conn) = conn {
                conn.authenticated();
            }
            return Ok(SignedIn(user));
        }
        if bearer_token(&parts.headers).is_some() {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                "a device is added by signing in: send the user's name and password (HTTP Basic), or use the web inbox",
            )
            .into_response());
        }
        // No bearer token: the session cookie, which only a user has.
        match Authenticated::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?.0 {
            Caller::User(user) => Ok(SignedIn(user)),
            Caller::App { .. } | Caller::Admin => {
                Err(Failure::new(ErrorCode::Forbidden, "devices belong to users").into_response())
            }
        }
    }
}

/// `Authorization: Basic base64(user:password)`.
fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (name, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((name.to_owned(), password.to_owned()))
}

#[utoipa::path(post, path = "/v1/devices", tag = "devices", request_body = NewDevice, responses((status = 201, body = CreatedDevice), (status = 400, body = herald_proto::ApiError), (status = 401, body = herald_proto::ApiError), (status = 403, body = herald_proto::ApiError), (status = 429, body = herald_proto::ApiError)))]
pub async fn add(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    JsonBody(request): JsonBody<NewDevice>,
) -> Result<(StatusCode, Json<CreatedDevice>), Failure> {
    let (device, token) = state.store.add_device(user.id, &request.name).await?;
    tracing::info!(user = %user.name, device = ?device.name, "added a device");
    Ok((StatusCode::CREATED, Json(CreatedDevice { id: device.id, token })))
}

#[utoipa::path(get, path = "/v1/devices", tag = "devices", responses((status = 200, body = Vec<Device>), (status = 401, body = herald_proto::ApiError)))]
pub async fn list(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Vec<Device>>, Failure> {
    Ok(Json(state.store.devices(user.id).await?))
}

#[utoipa::path(delete, path = "/v1/devices/{id}", tag = "devices", params(("id" = i64, Path)), responses((status = 204, description = "Revoked: its token is refused from now on and its feeds are closed"), (status = 404, body = herald_proto::ApiError)))]
pub async fn revoke(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, Failure> {
    let token_hash = state.store.revoke_device(user.id, id).await?;
    state.feeds.close_all(token_hash);
    tracing::info!(user = %user.name, device = id, "revoked a device");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/v1/devices/current", tag = "devices", responses((status = 204, description = "The device whose token made this call is revoked (a desktop signing out)"), (status = 404, description = "The token is not a device's", body = herald_proto::ApiError), (status = 401, body = herald_proto::ApiError)))]
pub async fn revoke_current(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, Failure> {
    let Some(token) = bearer_token(&headers) else {
        return Err(Failure::new(ErrorCode::NotFound, "only a device's own token can sign that device out"));
    };
    let hash = crate::auth::hash_token(token);
    if !state.store.revoke_device_by_token(user.id, hash).await? {
        return Err(Failure::new(ErrorCode::NotFound, "this token is not a device's"));
    }
    state.feeds.close_all(hash);
    tracing::info!(user = %user.name, "a device signed itself out");
    Ok(StatusCode::NO_CONTENT)
}
