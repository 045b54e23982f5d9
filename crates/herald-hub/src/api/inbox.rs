//! `GET /v1/inbox`: what a client that does not mirror the journal (the web inbox) needs to
//! start: who it is, the unread count, and the cursor to open the feed from after listing.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::{AppState, Failure};
use crate::auth::AuthUser;

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxSummary {
    user: String,
    unread: i64,
    /// The last change of the caller's log: `GET /v1/feed?since=SEQ` sends only what follows.
    seq: i64,
}

#[utoipa::path(get, path = "/v1/inbox", tag = "notifications", responses((status = 200, body = InboxSummary), (status = 401, body = herald_proto::ApiError), (status = 403, body = herald_proto::ApiError)))]
pub async fn summary(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<InboxSummary>, Failure> {
    let (unread, seq) = state.store.inbox_summary(user.id).await?;
    Ok(Json(InboxSummary { user: user.name, unread, seq }))
}
