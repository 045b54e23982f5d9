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
use crate::store::StoreError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserEntry {
    name: String,
    roles: Vec<String>,
    organizations: Vec<String>,
}

#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", responses((status = 200, body = Vec<UserEntry>), (status = 403, body = herald_proto::ApiError)))]
pub async fn list_users(State(state): State<AppState>, _: AuthAdmin) -> Result<Json<Vec<UserEntry>>, Failure> {
    let users = state.store.list_users().await?;
    Ok(Json(
        users
            .into_iter()
            .map(|(user, roles, organizations)| UserEntry { name: user.name, roles, organizations })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    /// For the web inbox and devices; stored as argon2id, never returned.
    #[serde(default)]
    password: Option<String>,
    /// Where the user's mail goes.
    #[serde(default)]
    email: Option<String>,
}

/// Body of `PATCH /v1/admin/users/{name}`: what to change (absent fields stay).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// A new address, or null for no mail.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
}

/// `"x"` → Some(Some("x")), `null` → Some(None); an absent field stays None (serde's default).
fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The token is in this answer only; the hub keeps its hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    name: String,
    token: String,
    email: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", request_body = NewUser, responses((status = 201, body = CreatedUser), (status = 409, body = herald_proto::ApiError), (status = 403, body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn add_user(
    State(state): State<AppState>,
    _: AuthAdmin,
    JsonBody(request): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), Failure> {
    // Checked and hashed first: a refused address or password leaves no user behind.
    if let Some(address) = &request.email {
        if !crate::store::valid_address(address) {
            return Err(StoreError::InvalidEmail(address.clone()).into());
        }
    }
    let hash = match request.password.as_deref() {
        Some(password) => Some(
            crate::passwords::hash(password)
                .await
                .map_err(|e| Failure::new(ErrorCode::InvalidRequest, format!("'password': {e}")))?,
        ),
        None => None,
    };
    let (user, token) = state.store.add_user_with_password(&request.name, hash).await?;
    if request.email.is_some() {
        state.store.set_email(&user.name, request.email.clone()).await?;
    }
    tracing::info!(user = %user.name, "admin added a user");
    Ok((StatusCode::CREATED, Json(CreatedUser { name: user.name, token, email: request.email })))
}

#[utoipa::path(patch, path = "/v1/admin/users/{name}", tag = "admin", params(("name" = String, Path)), request_body = UserChange, responses((status = 204), (status = 404, body = herald_proto::ApiError), (status = 400, body = herald_proto::ApiError)))]
pub async fn change_user(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(name): Path<String>,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<StatusCode, Failure> {
    if let Some(email) = change.email {
        if !state.store.set_email(&name, email).await? {
            return Err(StoreError::UnknownUser(name).into());
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/v1/admin/users/{name}", tag = "admin", params(("name" = String, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn remove_user(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(name): Path<String>,
) -> Result<StatusCode, Failure> {
    state.store.remove_user(&name).await?;
    tracing::info!(user = ?name, "admin removed a user");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/v1/admin/users/{name}/roles/{role}", tag = "admin", params(("name" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn grant_role(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((name, role)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.grant_role(&name, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/v1/admin/users/{name}/roles/{role}", tag = "admin", params(("name" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn revoke_role(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((name, role)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.revoke_role(&name, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/v1/admin/organizations/{org}/members/{name}", tag = "admin", params(("org" = String, Path), ("name" = String, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn add_member(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((org, name)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.add_org_member(&org, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/v1/admin/organizations/{org}/members/{name}", tag = "admin", params(("org" = String, Path), ("name" = String, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn remove_member(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((org, name)): Path<(String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.remove_org_member(&org, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/users/{name}/follows", tag = "admin", params(("name" = String, Path)), request_body = herald_proto::ObjectRef, responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn follow(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path(name): Path<String>,
    JsonBody(object): JsonBody<ObjectRef>,
) -> Result<StatusCode, Failure> {
    state.store.set_follow(&name, object, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/v1/admin/users/{name}/follows/{type}/{id}", tag = "admin", params(("name" = String, Path), ("type" = String, Path), ("id" = String, Path)), responses((status = 204), (status = 404, body = herald_proto::ApiError)))]
pub async fn unfollow(
    State(state): State<AppState>,
    _: AuthAdmin,
    Path((name, kind, id)): Path<(String, String, String)>,
) -> Result<StatusCode, Failure> {
    state.store.set_follow(&name, ObjectRef { kind, id }, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"app": NAME, "callback_url"?: URL}` or `{"admin": true}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    app: Option<String>,
    callback_url: Option<String>,
    #[serde(default)]
    admin: bool,
}

#[utoipa::path(post, path = "/v1/admin/tokens", tag = "admin", request_body = TokenRequest, responses((status = 201, body = NewToken), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn add_token(
    State(state): State<AppState>,
    _: AuthAdmin,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<NewToken>), Failure> {
    let token = match (request.app, request.admin) {
        (Some(app), false) => {
            let url = request.callback_url.as_deref();
            state.store.add_app_token_with(&app, url, state.config.allow_private_callbacks).await?
        }
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

/// What the hub is doing: open feeds and how much group commit saves.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// Writes committed by the group-commit writer, and the commits they took.
    writes: usize,
    commits: usize,
    /// Users with at least one feed open.
    users_connected: usize,
    /// The mail queue by state.
    mail: crate::store::MailCounts,
}

#[utoipa::path(get, path = "/v1/admin/stats", tag = "admin", responses((status = 200, body = Stats), (status = 403, body = herald_proto::ApiError)))]
pub async fn stats(State(state): State<AppState>, _: AuthAdmin) -> Result<Json<Stats>, Failure> {
    let (writes, commits) = state.store.writer_stats();
    let mail = state.store.mail_counts().await?;
    Ok(Json(Stats { writes, commits, users_connected: state.store.users_listening(), mail }))
}
