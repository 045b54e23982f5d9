//! `GET /v1/changes?since=SEQ&limit=N`: the caller's change log in pages, for clients that catch
//! up over plain HTTP (a CLI, a resync) instead of the feed.

use axum::extract::{Query, State};
use axum::Json;
use herald_proto::{ChangesPage, ErrorCode};
use serde::Deserialize;

use super::{AppState, Failure};
use crate::auth::AuthUser;

const DEFAULT_LIMIT: u32 = 500;
const MAX_LIMIT: u32 = 1_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    #[serde(default)]
    since: i64,
    limit: Option<u32>,
    /// Also say how many changes follow `since` (`remaining`).
    #[serde(default)]
    count: bool,
}

#[utoipa::path(get, path = "/v1/changes", tag = "sync", params(ChangesQuery), responses((status = 200, body = herald_proto::ChangesPage), (status = 410, description = "The journal no longer has these changes", body = herald_proto::ApiError), (status = 400, description = "Invalid request", body = herald_proto::ApiError), (status = 401, description = "No or unknown token", body = herald_proto::ApiError)))]
pub async fn page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<ChangesQuery>,
) -> Result<Json<ChangesPage>, Failure> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let (floor, latest) = state.store.journal_bounds(user.id).await?;
    if query.since > latest {
        let message = format!("cursor {} is past the end of your log ({latest}); sync again from 0", query.since);
        return Err(Failure::new(ErrorCode::CursorAhead, message));
    }
    let Some(mut changes) = state.store.changes_after(user.id, query.since, limit + 1).await? else {
        let message = format!(
            "changes up to {floor} are no longer kept; list your notifications again and continue from since={floor}"
        );
        return Err(Failure::new(ErrorCode::ResyncRequired, message));
    };
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let next = if more { changes.last().map(|c| c.seq) } else { None };
    let remaining = match query.count {
        true => Some(state.store.count_changes_since(user.id, query.since).await?),
        false => None,
    };
    Ok(Json(ChangesPage { changes, next, remaining, hub_id: state.store.hub_id().to_owned(), user_id: user.id }))
}
