//! `GET /v1/feed?since=SEQ`: a WebSocket that sends the caller's changes after `SEQ`, a
//! `caught_up` frame, then each new change as it commits.
//!
//! Subscribe first, then replay from the cursor, and drop what the replay already sent by `seq`
//! (ntfy's order): a change committed between the two steps arrives once, never zero times.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use herald_proto::{ApiError, ErrorCode, FeedFrame};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::api::AppState;
use crate::auth::AuthUser;
use crate::store::{now_rfc3339, Store, StoreError, User};

/// Changes read from the log per query while replaying.
const REPLAY_BATCH: u32 = 500;
/// The client sends nothing big; refuse anything that is.
const MAX_CLIENT_FRAME: usize = 16 * 1024;
/// The socket's read buffer. Clients send only pongs, so a small buffer keeps an idle feed cheap
/// (the library's default is 128 KiB per socket).
const READ_BUFFER: usize = 256;
/// WebSocket close code 1001, "going away".
const GOING_AWAY: u16 = 1001;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    #[serde(default)]
    since: i64,
}

#[utoipa::path(get, path = "/v1/feed", tag = "sync", params(FeedQuery), responses((status = 101, description = "WebSocket of FeedFrame JSON text frames; see docs/protocol.md"), (status = 401, body = herald_proto::ApiError)))]
// Authentication runs first (extractors run in order), so a bad token is a 401 even before the upgrade.
pub async fn upgrade(
    AuthUser(user): AuthUser,
    State(state): State<AppState>,
    Query(query): Query<FeedQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(MAX_CLIENT_FRAME).read_buffer_size(READ_BUFFER).on_upgrade(move |socket| async move {
        let name = user.name.clone();
        match stream(socket, state, user, query.since).await {
            Ok(()) => tracing::debug!(user = %name, "feed closed"),
            Err(e) => tracing::debug!(user = %name, error = %e, "feed ended"),
        }
    })
}

#[derive(Debug, thiserror::Error)]
enum FeedError {
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

async fn stream(mut socket: WebSocket, state: AppState, user: User, since: i64) -> Result<(), FeedError> {
    send(&mut socket, &FeedFrame::Hello { hub_id: state.store.hub_id().to_owned(), user_id: user.id }).await?;
    let mut live = state.store.subscribe(user.id);
    // Joined before the replay, like the change bus: an event pushed meanwhile is not missed.
    let (_presence, mut events) = state.live.join(user.id);
    // Before any toast can be decided: the user's quiet hours and do-not-disturb.
    match state.store.do_not_disturb(user.id).await {
        Ok(settings) => send(&mut socket, &FeedFrame::DoNotDisturb(settings)).await?,
        Err(e) => return refuse(socket, e).await,
    }
    let latest = match state.store.latest_seq(user.id).await {
        Ok(latest) => latest,
        Err(e) => return refuse(socket, e).await,
    };
    if since > latest {
        // A cursor this hub never gave out: it was reset or restored from an older backup.
        let message = format!("cursor {since} is past the end of your log ({latest}); sync again from 0");
        send(&mut socket, &FeedFrame::Error(ApiError::new(ErrorCode::CursorAhead, message))).await?;
        return Ok(socket.send(Message::Close(None)).await?);
    }
    match state.store.count_changes_since(user.id, since).await {
        Ok(0) => {}
        Ok(changes) => send(&mut socket, &FeedFrame::Backlog { changes }).await?,
        Err(e) => return refuse(socket, e).await,
    }
    let mut cursor = match replay(&mut socket, &state.store, user.id, since).await {
        Ok(cursor) => cursor,
        Err(FeedError::Store(e)) => return refuse(socket, e).await,
        Err(e) => return Err(e),
    };
    send(&mut socket, &FeedFrame::CaughtUp { seq: cursor }).await?;

    let mut shutdown = state.shutdown.clone();
    // Pings keep proxies from closing an idle feed and let both ends notice a dead peer.
    let ping_every = state.config.ping_every;
    let mut ping = tokio::time::interval(ping_every);
    ping.reset();
    // Any frame from the client (pongs included) proves it is alive; a suspended laptop's feed
    // is closed after two unanswered pings instead of lingering until TCP gives up.
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(change) if change.seq > cursor => {
                    cursor = change.seq;
                    send(&mut socket, &FeedFrame::Change(Arc::unwrap_or_clone(change))).await?;
                }
                Ok(_) => {}
                // This feed fell behind the bus: the log still has everything, so read it from there.
                Err(RecvError::Lagged(_)) => cursor = replay(&mut socket, &state.store, user.id, cursor).await?,
                Err(RecvError::Closed) => return Ok(()),
            },
            event = events.recv() => match event {
                Ok(pushed) if pushed.recipients.contains(&user.id)
                    && pushed.expires_at.as_ref().is_none_or(|at| *at > now_rfc3339()) => {
                    send(&mut socket, &pushed.frame).await?;
                }
                Ok(_) => {}
                // Live events are best effort by design (seed 000): a feed this far behind misses
                // some. Do-not-disturb travels the same bus but must not be missed: send it again.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(user = %user.name, missed, "feed missed live events");
                    let settings = state.store.do_not_disturb(user.id).await?;
                    send(&mut socket, &FeedFrame::DoNotDisturb(settings)).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                // Clients send nothing but pings/pongs yet; the library answers pings itself.
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > 2 * ping_every {
                    tracing::debug!(user = %user.name, "feed client stopped answering; closing");
                    return Ok(());
                }
                socket.send(Message::Ping(Default::default())).await?
            }
            _ = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => {
                let close = CloseFrame { code: GOING_AWAY, reason: "hub is shutting down".into() };
                let _ = socket.send(Message::Close(Some(close))).await;
                return Ok(());
            }
        }
    }
}

/// Sends the user's whole inbox in `snapshot` frames of [`REPLAY_BATCH`]. Changes made while it
/// is read are in the journal after the `latest` read before, so the replay that follows covers them.
async fn snapshot(socket: &mut WebSocket, store: &Store, user_id: i64) -> Result<(), FeedError> {
    let mut before = None;
    loop {
        let (notifications, more) = store.list(user_id, before, REPLAY_BATCH).await?;
        before = notifications.last().map(|n| n.id);
        send(socket, &FeedFrame::Snapshot { notifications }).await?;
        if !more {
            return Ok(());
        }
    }
}

/// Sends every logged change after `cursor`; returns the new cursor. When the journal no longer
/// has them all (trimmed), sends a `resync` and the inbox as it is instead, and goes on from the
/// `seq` that snapshot stands for.
async fn replay(socket: &mut WebSocket, store: &Store, user_id: i64, mut cursor: i64) -> Result<i64, FeedError> {
    loop {
        let Some(batch) = store.changes_after(user_id, cursor, REPLAY_BATCH).await? else {
            let (floor, latest) = store.journal_bounds(user_id).await?;
            send(socket, &FeedFrame::Resync { floor }).await?;
            snapshot(socket, store, user_id).await?;
            cursor = latest;
            continue;
        };
        let done = batch.len() < REPLAY_BATCH as usize;
        for change in batch {
            cursor = change.seq;
            send(socket, &FeedFrame::Change(change)).await?;
        }
        if done {
            return Ok(cursor);
        }
    }
}

async fn refuse(mut socket: WebSocket, err: StoreError) -> Result<(), FeedError> {
    tracing::error!(error = %err, "feed replay failed");
    let frame =
        FeedFrame::Error(ApiError::new(ErrorCode::Internal, "the hub could not read your changes; retry later"));
    send(&mut socket, &frame).await?;
    Ok(socket.send(Message::Close(None)).await?)
}

async fn send(socket: &mut WebSocket, frame: &FeedFrame) -> Result<(), axum::Error> {
    let text = serde_json::to_string(frame).expect("feed frames always serialise");
    socket.send(Message::Text(text.into())).await
}
