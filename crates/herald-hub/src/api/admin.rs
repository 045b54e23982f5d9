//! `/v1/admin/*`: what the `herald-hub` command line does to a data directory, over HTTP for
//! admin tokens — users, roles, organisations, follows and tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use herald_proto::{ErrorCode, ObjectRef};
use serde::{Deserialize, Serialize};

use super::json::JsonBody;
use super::{AppState, Failure};
use crate::auth::AuthAdmin;

#[derive(Debug, Serialize)]
pub struct UserEntry {
    name: String,
    roles: Vec<String>,
    organizations: Vec<String>,
}

pub async fn list_users(State(state): State<AppState>, _: AuthAdmin) -> Result<Json<Vec<UserEntry>>, Failure> {
    let users = state.store.list_users().await?;
    Ok(Json(
        users
            .into_iter()
            .map(|(user, roles, organizations)| UserEntry { name: user.name, roles, organizations })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
}

/// The token is in this answer only; the hub keeps its hash.
#[derive(Debug, Serialize)]
pub struct NewToken {
    token: String,
}

#[derive(Debug, Serialize)]
pub struct CreatedUser {
    name: String,
    token: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    _: AuthAdmin,
    JsonBody(request): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), Failure> {
    let (user, token) = state.store.add_user(&request.name).await?;
    tracing::info!(user = %user.name, "admin added a user");
    Ok((StatusCode::CREATED, Json(CreatedUser { name: user.name, token })))
}

pub async fn remove_user(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(name): Path<String>,
) -> Result<StatusCode, Failure> {
    state.store.remove_user(&name).await?;
    tracing::info!(user = %name, "admin removed a user");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn grant_role(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((name, role)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.grant_role(&name, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn revoke_role(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((name, role)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.revoke_role(&name, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn add_member(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((org, name)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.add_org_member(&org, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((org, name)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.remove_org_member(&org, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn follow(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(name): Path<String>,
    JsonBody(object): JsonBody<ObjectRef>,
) -> Result<StatusCode, Failure> {
    state.store.set_follow(&name, object, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unfollow(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((name, kind, id)): Path<(String, String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.set_follow(&name, ObjectRef { kind, id }, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"app": NAME, "callback_url"?: URL}` or `{"admin": true}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    app: Option<String>,
    callback_url: Option<String>,
    #[serde(default)]
    admin: bool,
}

pub async fn add_token(
    State(state): State<AppState>,
    _: AuthAdmin,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<NewToken>), Failure> {
    let token = match (request.app, request.admin) {
        (Some(app), false) => state.store.add_app_token(&app, request.callback_url.as_deref()).await?,
        (None, true) if request.callback_url.is_none() => state.store.add_admin_token().await?,
        _ => {
            return Err(Failure::new(
                ErrorCode::InvalidRequest,
                "send {\"app\": NAME, \"callback_url\"?: URL} or {\"admin\": true}",
            ))
        }
    };
    Ok((StatusCode::CREATED, Json(NewToken { token })))
}
