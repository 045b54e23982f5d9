//! `GET /v1/feed?since=SEQ`: a WebSocket that sends the caller's changes after `SEQ`, a
//! `caught_up` frame, then each new change as it commits.
//!
//! Subscribe first, then replay from the cursor, and drop what the replay already sent by `seq`
//! (ntfy's order): a change committed between the two steps arrives once, never zero times.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use herald_proto::{ApiError, ErrorCode, FeedFrame};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::api::AppState;
use crate::auth::{credential_key, AuthUser};
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
/// WebSocket close code 1008, "policy violation": this token opened too many feeds.
const POLICY: u16 = 1008;

/// Open feeds per token. A token that opens more than the cap (a loop, a leak, an attack: one
/// token once held 3,000) closes its oldest feed with each new one, so a device that reconnects
/// is never the one refused.
#[derive(Clone, Default)]
pub struct FeedsByToken {
    open: Arc<Mutex<HashMap<[u8; 32], OpenFeeds>>>,
    next_id: Arc<AtomicU64>,
}

/// A token's open feeds, oldest first: each one's id and how to push it out.
type OpenFeeds = VecDeque<(u64, Arc<PushOut>)>;

/// How a feed is told to close: pushed out by newer feeds of its token, or its credential was
/// revoked (a device revoked, a session signed out).
#[derive(Default)]
struct PushOut {
    notify: tokio::sync::Notify,
    revoked: std::sync::atomic::AtomicBool,
}

/// One open feed's place; closing it (dropping) frees the place.
struct FeedPlace {
    feeds: FeedsByToken,
    token: [u8; 32],
    id: u64,
    /// Told when newer feeds of the same token pushed this one out, or its token was revoked.
    pushed_out: Arc<PushOut>,
}

impl FeedsByToken {
    fn open(&self, token: [u8; 32], cap: usize) -> FeedPlace {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let pushed_out = Arc::new(PushOut::default());
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let feeds = open.entry(token).or_default();
        feeds.push_back((id, pushed_out.clone()));
        while feeds.len() > cap.max(1) {
            if let Some((_, oldest)) = feeds.pop_front() {
                // Kept as a permit if that feed is busy sending: it sees it at its next turn.
                oldest.notify.notify_one();
            }
        }
        FeedPlace { feeds: self.clone(), token, id, pushed_out }
    }

    /// Closes every feed opened with the credential whose hash is `token`: it was revoked.
    pub fn close_all(&self, token: [u8; 32]) {
        let feeds = self.open.lock().unwrap_or_else(|p| p.into_inner()).remove(&token);
        for (_, feed) in feeds.into_iter().flatten() {
            feed.revoked.store(true, Ordering::Relaxed);
            feed.notify.notify_one();
        }
    }
}

impl Drop for FeedPlace {
    fn drop(&mut self) {
        let mut open = self.feeds.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(feeds) = open.get_mut(&self.token) {
            feeds.retain(|(id, _)| *id != self.id);
            if feeds.is_empty() {
                open.remove(&self.token);
            }
        }
    }
}

/// The feed's socket: every send must finish within `patience` (two ping intervals), so a
/// client that stops reading is dropped like one that stops answering pings, instead of
/// holding its task in a send for ever.
struct Peer {
    ws: WebSocket,
    patience: Duration,
}

impl Peer {
    async fn message(&mut self, message: Message) -> Result<(), FeedError> {
        match tokio::time::timeout(self.patience, self.ws.send(message)).await {
            Ok(sent) => Ok(sent?),
            Err(_) => Err(FeedError::Stalled(self.patience)),
        }
    }
}

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
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let place = state.feeds.open(credential_key(&headers), state.config.max_feeds_per_token);
    ws.max_message_size(MAX_CLIENT_FRAME).read_buffer_size(READ_BUFFER).on_upgrade(move |socket| async move {
        let name = user.name.clone();
        let socket = Peer { ws: socket, patience: 2 * state.config.ping_every };
        match stream(socket, state, user, query.since, place).await {
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
    #[error("the client read nothing for {0:?}")]
    Stalled(Duration),
}

async fn stream(mut socket: Peer, state: AppState, user: User, since: i64, place: FeedPlace) -> Result<(), FeedError> {
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
        return socket.message(Message::Close(None)).await;
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
            incoming = socket.ws.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                // Clients send nothing but pings/pongs yet; the library answers pings itself.
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > 2 * ping_every {
                    tracing::debug!(user = %user.name, "feed client stopped answering; closing");
                    return Ok(());
                }
                socket.message(Message::Ping(Default::default())).await?
            }
            () = place.pushed_out.notify.notified() => {
                if place.pushed_out.revoked.load(Ordering::Relaxed) {
                    tracing::info!(user = %user.name, "closed a feed whose device was revoked or session ended");
                    let reason = "this device was revoked or signed out";
                    let close = CloseFrame { code: POLICY, reason: reason.into() };
                    let _ = socket.message(Message::Close(Some(close))).await;
                    return Ok(());
                }
                tracing::info!(user = %user.name, "closed the oldest feed of a token that opened too many");
                let reason = "too many feeds for this token; the oldest was closed";
                let _ = socket.message(Message::Close(Some(CloseFrame { code: POLICY, reason: reason.into() }))).await;
                return Ok(());
            }
            _ = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => {
                let close = CloseFrame { code: GOING_AWAY, reason: "hub is shutting down".into() };
                let _ = socket.message(Message::Close(Some(close))).await;
                return Ok(());
            }
        }
    }
}

/// Sends the user's whole inbox in `snapshot` frames of [`REPLAY_BATCH`]. Changes made while it
/// is read are in the journal after the `latest` read before, so the replay that follows covers them.
async fn snapshot(socket: &mut Peer, store: &Store, user_id: i64) -> Result<(), FeedError> {
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
async fn replay(socket: &mut Peer, store: &Store, user_id: i64, mut cursor: i64) -> Result<i64, FeedError> {
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

async fn refuse(mut socket: Peer, err: StoreError) -> Result<(), FeedError> {
    tracing::error!(error = %err, "feed replay failed");
    let frame =
        FeedFrame::Error(ApiError::new(ErrorCode::Internal, "the hub could not read your changes; retry later"));
    send(&mut socket, &frame).await?;
    socket.message(Message::Close(None)).await
}

async fn send(socket: &mut Peer, frame: &FeedFrame) -> Result<(), FeedError> {
    let text = serde_json::to_string(frame).expect("feed frames always serialise");
    socket.message(Message::Text(text.into())).await
}
