//! What the user did, kept until the hub has it: recorded with its local effect in one
//! transaction (so the inbox shows it at once, online or not), sent when the feed is up,
//! and removed only when the hub acknowledged it.

use herald_proto::{
    AnswerRequest, ApiError, ConfirmRequest, ErrorCode, EventResponseRequest, MarkReadRequest, MAX_IDS_PER_REQUEST,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::mirror::ids::{self, AccountId};
use crate::mirror::{MirrorError, Queued, SharedMirror};

/// A user action for the hub (also what a window or the CLI asks the agent to do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Action {
    MarkRead {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
        read: bool,
    },
    /// Every unread notification (but unanswered confirm requests) read.
    ReadAll,
    /// This one and every newer one read (seed 003).
    ReadFrom {
        #[ts(type = "number")]
        id: i64,
    },
    Delete {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
    },
    Confirm {
        #[ts(type = "number")]
        id: i64,
        value: String,
    },
    Answer {
        #[ts(type = "number")]
        id: i64,
        text: String,
    },
    /// Answer or decline a call, done or snooze a reminder.
    RespondToEvent { event_id: String, action: String },
    /// Do-not-disturb until this time (RFC 3339, UTC), on every account; None: off.
    SetDoNotDisturb { until: Option<String> },
}

/// How to take an action's local effect back if the hub refuses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Undo {
    Nothing,
    /// These were set to `read`; set them back where they still are.
    Read {
        ids: Vec<i64>,
        read: bool,
    },
    /// Deleted here. A delete the hub does not have is taken as done (404); it refuses one only
    /// for a malformed request, and the row stays gone here until the next resync.
    Gone,
    /// This answer (JSON, as stored) was recorded; clear it where it is still the one stored.
    Answered {
        id: i64,
        answer: String,
        was_read: bool,
    },
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
    /// The send was cut short (its task stopped); what was not acknowledged stays queued.
    #[error("sending stopped: {0}")]
    Stopped(String),
}

impl SendError {
    /// Whether sending the same action later may succeed. Only the hub's own verdict on the
    /// action (a `{code, message}` saying the request is wrong) drops it, so it does not block
    /// every action queued behind it; a rejected token, a hub failure, or an answer that is not
    /// the hub's at all (a proxy's 403/429/502…) says nothing about the action: keep it.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Network(_) | SendError::Mirror(_) | SendError::Http(_) | SendError::Stopped(_) => true,
            // Rate limited, or the same key still running on the hub (a retry after a timeout, or
            // the CLI and the agent sending at once): later will do.
            SendError::Refused(e) => matches!(
                e.code,
                ErrorCode::Unauthorized | ErrorCode::Internal | ErrorCode::RateLimited | ErrorCode::RequestInProgress
            ),
        }
    }
}

/// What one flush did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Actions the hub took.
    pub sent: usize,
    /// Actions the hub refused for good, with why; their local effect was taken back.
    pub rejected: Vec<(Action, ApiError)>,
    /// Whether taking a refused action back changed the inbox.
    pub inbox_changed: bool,
}

/// Sends every pending action in order, each with its Idempotency-Key (so one whose answer was
/// lost is not applied twice when sent again). Stops at the first retryable failure and returns
/// it; the rest stay queued for the next call.
pub async fn flush(http: &reqwest::Client, hub: &Hub, mirror: &SharedMirror) -> Result<Flushed, (Flushed, SendError)> {
    let mut flushed = Flushed::default();
    let account = hub.account;
    loop {
        let pending = match mirror.call(move |m| m.pending_actions(account, 50)).await {
            Ok(pending) => pending,
            Err(e) => return Err((flushed, e.into())),
        };
        if pending.is_empty() {
            return Ok(flushed);
        }
        for queued in pending {
            let id = queued.id;
            let done = match send(http, &hub.server, &hub.token, &queued).await {
                Ok(()) => {
                    flushed.sent += 1;
                    mirror.call(move |m| m.acknowledge_action(id)).await
                }
                Err(SendError::Refused(error)) if !SendError::Refused(error.clone()).is_retryable() => {
                    tracing::warn!(action = ?queued.action, %error, "the hub refused a queued action; taking it back");
                    flushed.rejected.push((queued.action, error));
                    mirror.call(move |m| m.reject_action(id)).await.map(|changed| flushed.inbox_changed |= changed)
                }
                Err(e) => return Err((flushed, e)),
            };
            if let Err(e) = done {
                return Err((flushed, e.into()));
            }
        }
    }
}

/// Where one account's actions go.
#[derive(Debug, Clone)]
pub struct Hub {
    pub account: AccountId,
    pub server: Url,
    pub token: String,
}

/// Sends one queued action, with the hub's ids in place of the mirror's.
async fn send(http: &reqwest::Client, server: &Url, token: &str, queued: &Queued) -> Result<(), SendError> {
    let url = |path: &str| server.join(path).expect("paths here are relative and valid");
    let key = queued.key.as_str();
    match &for_the_hub(&queued.action) {
        Action::MarkRead { ids, read } => {
            // Entries queued before actions were cut to the hub's limit may hold more ids: they
            // go in several requests, each with its own key derived from the action's.
            for (i, chunk) in ids.chunks(MAX_IDS_PER_REQUEST).enumerate() {
                let body = MarkReadRequest { ids: chunk.to_vec(), read: *read };
                post(http, url("v1/notifications/read"), token, &format!("{key}-{i}"), &body).await?;
            }
            Ok(())
        }
        Action::ReadAll => post(http, url("v1/notifications/read-all"), token, key, &serde_json::json!({})).await,
        Action::ReadFrom { id } => {
            post(http, url(&format!("v1/notifications/{id}/read")), token, key, &serde_json::json!({})).await
        }
        Action::Delete { ids } => {
            for (i, id) in ids.iter().enumerate() {
                let request = http
                    .delete(url(&format!("v1/notifications/{id}")))
                    .bearer_auth(token)
                    .header("idempotency-key", format!("{key}-{i}"));
                match answer(request.send().await?).await {
                    // Already gone on the hub: the delete has happened.
                    Err(SendError::Refused(e)) if e.code == ErrorCode::NotFound => {}
                    other => other?,
                }
            }
            Ok(())
        }
        Action::Confirm { id, value } => {
            let body = ConfirmRequest { value: value.clone() };
            post(http, url(&format!("v1/notifications/{id}/confirm")), token, key, &body).await
        }
        Action::Answer { id, text } => {
            let body = AnswerRequest { text: text.clone() };
            post(http, url(&format!("v1/notifications/{id}/answer")), token, key, &body).await
        }
        Action::RespondToEvent { event_id, action } => {
            let body = EventResponseRequest { action: action.clone() };
            post(http, url(&format!("v1/events/{event_id}/respond")), token, key, &body).await
        }
        // Setting a time twice is the same as once: no key needed.
        Action::SetDoNotDisturb { until } => {
            let request =
                http.put(url("v1/preferences")).bearer_auth(token).json(&serde_json::json!({ "dnd_until": until }));
            answer(request.send().await?).await
        }
    }
}

/// The action with the hub's ids for the mirror's (see [`crate::mirror::ids`]).
fn for_the_hub(action: &Action) -> Action {
    let hub_ids = |ids: &[i64]| ids.iter().map(|&id| ids::hub(id)).collect();
    match action {
        Action::MarkRead { ids, read } => Action::MarkRead { ids: hub_ids(ids), read: *read },
        Action::ReadAll => Action::ReadAll,
        Action::ReadFrom { id } => Action::ReadFrom { id: ids::hub(*id) },
        Action::Delete { ids } => Action::Delete { ids: hub_ids(ids) },
        Action::Confirm { id, value } => Action::Confirm { id: ids::hub(*id), value: value.clone() },
        Action::Answer { id, text } => Action::Answer { id: ids::hub(*id), text: text.clone() },
        Action::RespondToEvent { event_id, action } => {
            Action::RespondToEvent { event_id: ids::split_event(event_id).1.to_owned(), action: action.clone() }
        }
        Action::SetDoNotDisturb { until } => Action::SetDoNotDisturb { until: until.clone() },
    }
}

async fn post(
    http: &reqwest::Client,
    url: Url,
    token: &str,
    key: &str,
    body: &impl serde::Serialize,
) -> Result<(), SendError> {
    answer(http.post(url).bearer_auth(token).header("idempotency-key", key).json(body).send().await?).await
}

async fn answer(response: reqwest::Response) -> Result<(), SendError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    match response.json::<ApiError>().await {
        // The hub applied this action before it stopped, and lost only its answer: it is done.
        Ok(error) if error.code == ErrorCode::AnswerLost => Ok(()),
        Ok(error) => Err(SendError::Refused(error)),
        Err(_) => Err(SendError::Http(status.as_u16())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_is_told_its_own_ids() {
        let other = ids::local(2, 7).unwrap();
        assert_eq!(
            for_the_hub(&Action::MarkRead { ids: vec![other], read: true }),
            Action::MarkRead { ids: vec![7], read: true }
        );
        assert_eq!(
            for_the_hub(&Action::Confirm { id: 7, value: "Y".into() }),
            Action::Confirm { id: 7, value: "Y".into() }
        );
        let event = Action::RespondToEvent { event_id: ids::local_event(2, "ab"), action: "answer".into() };
        assert_eq!(for_the_hub(&event), Action::RespondToEvent { event_id: "ab".into(), action: "answer".into() });
    }

    #[test]
    fn only_the_hubs_verdict_on_the_action_drops_it() {
        assert!(!SendError::Refused(ApiError::new(ErrorCode::InvalidRequest, "bad")).is_retryable());
        assert!(SendError::Refused(ApiError::new(ErrorCode::Unauthorized, "token")).is_retryable());
        assert!(SendError::Refused(ApiError::new(ErrorCode::Internal, "db")).is_retryable());
        assert!(SendError::Http(404).is_retryable(), "a gateway's 404 is not the hub's");
        assert!(SendError::Http(429).is_retryable());
        assert!(SendError::Refused(ApiError::new(ErrorCode::RateLimited, "slow down")).is_retryable());
        assert!(SendError::Refused(ApiError::new(ErrorCode::RequestInProgress, "running")).is_retryable());
        assert!(!SendError::Refused(ApiError::new(ErrorCode::Conflict, "answered")).is_retryable());
    }
}
