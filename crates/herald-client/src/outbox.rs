//! What the user did, kept until the hub has it: recorded with its local effect in one
//! transaction (so the inbox shows it at once, online or not), sent when the feed is up,
//! and removed only when the hub acknowledged it.

use herald_proto::{ApiError, ErrorCode, MarkReadRequest, MAX_IDS_PER_REQUEST};
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
    /// An answer that is not the hub's (a proxy, a gateway, a half-started hub).
    #[error("unexpected HTTP {0} from the hub's address")]
    Http(u16),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
}

impl SendError {
    /// Whether sending the same action later may succeed. Only the hub's own verdict on the
    /// action (a `{code, message}` saying the request is wrong) drops it, so it does not block
    /// every action queued behind it; a rejected token, a hub failure, or an answer that is not
    /// the hub's at all (a proxy's 403/429/502…) says nothing about the action: keep it.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Network(_) | SendError::Mirror(_) | SendError::Http(_) => true,
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
    match action {
        Action::MarkRead { ids, read } => {
            for chunk in ids.chunks(MAX_IDS_PER_REQUEST) {
                let body = MarkReadRequest { ids: chunk.to_vec(), read: *read };
                post(http, server.join("v1/notifications/read").expect("static path"), token, &body).await?;
            }
            Ok(())
        }
    }
}

async fn post(http: &reqwest::Client, url: Url, token: &str, body: &impl serde::Serialize) -> Result<(), SendError> {
    let response = http.post(url).bearer_auth(token).json(body).send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    match response.json::<ApiError>().await {
        Ok(error) => Err(SendError::Refused(error)),
        Err(_) => Err(SendError::Http(status.as_u16())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hubs_verdict_on_the_action_drops_it() {
        assert!(!SendError::Refused(ApiError::new(ErrorCode::InvalidRequest, "bad")).is_retryable());
        assert!(SendError::Refused(ApiError::new(ErrorCode::Unauthorized, "token")).is_retryable());
        assert!(SendError::Refused(ApiError::new(ErrorCode::Internal, "db")).is_retryable());
        assert!(SendError::Http(404).is_retryable(), "a gateway's 404 is not the hub's");
        assert!(SendError::Http(429).is_retryable());
    }
}
