//! What the user did, kept until the hub has it: recorded with its local effect in one
//! transaction (so the inbox shows it at once, online or not), sent when the feed is up,
//! and removed only when the hub acknowledged it.

use herald_proto::{ApiError, ErrorCode, MarkReadRequest};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::mirror::{MirrorError, SharedMirror};

/// A user action for the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    MarkRead { ids: Vec<i64>, read: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot reach the hub: {0}")]
    Network(#[from] reqwest::Error),
    #[error("the hub refused: {0}")]
    Refused(ApiError),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
}

impl SendError {
    /// Whether sending the same action later may succeed. A refused action is dropped instead
    /// of blocking every action queued behind it — except for a rejected token or a hub
    /// failure, which say nothing about the action itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Network(_) | SendError::Mirror(_) => true,
            SendError::Refused(e) => matches!(e.code, ErrorCode::Unauthorized | ErrorCode::Internal),
        }
    }
}

/// Sends every pending action in order. Stops at the first retryable failure and returns it;
/// the rest stay queued for the next call.
pub async fn flush(
    http: &reqwest::Client,
    server: &Url,
    token: &str,
    mirror: &SharedMirror,
) -> Result<usize, SendError> {
    let mut sent = 0;
    loop {
        let pending = mirror.call(|m| m.pending_actions(50)).await?;
        if pending.is_empty() {
            return Ok(sent);
        }
        for (id, action) in pending {
            match send(http, server, token, &action).await {
                Ok(()) => sent += 1,
                Err(e) if e.is_retryable() => return Err(e),
                Err(e) => tracing::warn!(?action, error = %e, "the hub refused a queued action; dropping it"),
            }
            mirror.call(move |m| m.acknowledge_action(id)).await?;
        }
    }
}

async fn send(http: &reqwest::Client, server: &Url, token: &str, action: &Action) -> Result<(), SendError> {
    let (path, body) = match action {
        Action::MarkRead { ids, read } => {
            ("v1/notifications/read", serde_json::to_value(MarkReadRequest { ids: ids.clone(), read: *read }))
        }
    };
    let body = body.expect("actions always serialise");
    let response = http.post(server.join(path).expect("static path")).bearer_auth(token).json(&body).send().await?;
    if response.status().is_success() {
        return Ok(());
    }
    let status = response.status();
    let error = response.json::<ApiError>().await.unwrap_or_else(|_| {
        let code = if status.is_server_error() { ErrorCode::Internal } else { ErrorCode::InvalidRequest };
        ApiError::new(code, format!("HTTP {status}"))
    });
    Err(SendError::Refused(error))
}
