//! The sync loop: catch up from `GET /v1/changes` in pages ([`catch_up`]), then connect to
//! `GET /v1/feed?since=CURSOR` and apply what the plan says, flush the outbox once caught up, and
//! reconnect with backoff whenever the link drops.

mod catch_up;
mod failure;
mod feed_link;
mod flush;
mod indexer;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use herald_proto::{ErrorCode, FeedFrame};
use tokio::sync::{broadcast, watch, Notify};
use tokio_tungstenite::tungstenite::{self, Message};
use url::Url;

use self::failure::SyncError;
use self::feed_link::{connect, feed_request};
use self::flush::Flushing;
pub use self::indexer::index_in_background;
use super::backoff::{self, Backoff};
use super::network::NetworkWatch;
use super::plan::{FeedPlan, Step};
use super::{ConnectionState, SyncEvent};
use crate::mirror::{ids, AccountId, Applied, Identity, Reset, SharedMirror};
use crate::tls::Tls;

/// The hub pings every 30 s (by default); this long without any frame means the link is dead.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest an HTTP call to the hub may take.
const HTTP_PATIENCE: Duration = Duration::from_secs(15);
/// After a network change, the feed must answer a ping within this long or it is taken for dead
/// (its socket may be bound to an address the machine no longer has).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps one account's inbox in step with its hub. Runs until `shutdown` turns true. Clone
/// `outbox_ready` and notify it after recording an action.
pub struct SyncEngine {
    account: AccountId,
    server: Option<Url>,
    token: Option<String>,
    mirror: SharedMirror,
    events: broadcast::Sender<SyncEvent>,
    outbox_ready: Arc<Notify>,
    /// Wakes the background search indexer after new rows landed.
    index_ready: Arc<Notify>,
    /// Whether this engine runs the indexer (it is one per mirror: see [`Self::sharing_indexer`]).
    runs_indexer: bool,
    http: reqwest::Client,
    /// Whom the feed trusts over wss (the same as `http`).
    tls: Tls,
    /// Where network changes come from; None: this thread's network (see [`Self::watching`]).
    network: Option<NetworkWatch>,
    /// Whether the feed is live (caught up): when it drops, the mirror records that it was in
    /// step until then, so an offline inbox can say how fresh it is.
    online: std::sync::atomic::AtomicBool,
}

impl SyncEngine {
    /// The engine of the mirror's first account (the one `HERALD_SERVER` sets up).
    pub fn new(
        server: Option<Url>,
        token: Option<String>,
        mirror: SharedMirror,
        events: broadcast::Sender<SyncEvent>,
    ) -> Self {
        Self::for_account(1, server, token, mirror, events)
    }

    pub fn for_account(
        account: AccountId,
        server: Option<Url>,
        token: Option<String>,
        mirror: SharedMirror,
        events: broadcast::Sender<SyncEvent>,
    ) -> Self {
        let tls = Tls::system();
        Self {
            account,
            server,
            token,
            mirror,
            events,
            outbox_ready: Arc::new(Notify::new()),
            index_ready: Arc::new(Notify::new()),
            runs_indexer: true,
            http: tls.http_client(HTTP_PATIENCE),
            tls,
            network: None,
            online: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Trusts `tls`'s roots (a configured CA besides the system's) for https and wss.
    pub fn with_tls(mut self, tls: Tls) -> Self {
        self.http = tls.http_client(HTTP_PATIENCE);
        self.tls = tls;
        self
    }

    /// Several accounts share one mirror and so one search indexer: this engine wakes the one
    /// [`index_in_background`] runs with `ready` instead of running its own.
    pub fn sharing_indexer(mut self, ready: Arc<Notify>) -> Self {
        self.index_ready = ready;
        self.runs_indexer = false;
        self
    }

    /// Watches `network` for changes instead of the machine's own (a test's network namespace).
    pub fn watching(mut self, network: NetworkWatch) -> Self {
        self.network = Some(network);
        self
    }

    /// Notify this after recording an action in the mirror's outbox.
    pub fn outbox_ready(&self) -> Arc<Notify> {
        self.outbox_ready.clone()
    }

    fn emit(&self, event: SyncEvent) {
        // No subscriber is fine: the mirror is the record.
        let _ = self.events.send(event);
    }

    pub async fn run(mut self, shutdown: watch::Receiver<bool>) {
        let indexer =
            self.runs_indexer.then(|| tokio::spawn(index_in_background(self.mirror.clone(), self.index_ready.clone())));
        // Rows a previous run left unindexed are taken up at once.
        self.index_ready.notify_one();
        let network = self.network.take().unwrap_or_else(NetworkWatch::open);
        self.sync(network, shutdown).await;
        if let Some(indexer) = indexer {
            indexer.abort();
        }
    }

    fn connection(&self, state: ConnectionState) {
        self.online.store(state == ConnectionState::Online, std::sync::atomic::Ordering::Relaxed);
        self.emit(SyncEvent::Connection { account: self.account, state });
    }

    fn mirror_changed(&self, applied: Applied, backfill: bool) {
        self.emit(SyncEvent::MirrorChanged { account: self.account, applied, backfill });
    }

    async fn sync(&self, mut network: NetworkWatch, mut shutdown: watch::Receiver<bool>) {
        let (Some(server), Some(token)) = (self.server.clone(), self.token.clone()) else {
            let reason = "not set up: set HERALD_SERVER and HERALD_TOKEN".to_owned();
            self.connection(ConnectionState::Offline { reason, retry_in_ms: None });
            stopped(&mut shutdown).await;
            return;
        };
        let mut backoff = Backoff::default();
        loop {
            self.connection(ConnectionState::Connecting);
            let ended = self.session(&server, &token, &mut backoff, &mut network, &mut shutdown).await;
            self.note_in_step_until_now().await;
            let error = match ended {
                Ok(()) => return,
                Err(SyncError::StartOver | SyncError::Resumed) => continue,
                Err(SyncError::Refused(e)) if e.code == ErrorCode::CursorAhead => {
                    match self.start_over(Reset::HubRestored).await {
                        Ok(()) => continue,
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            let delay = if error.is_permanent() { backoff::MAX } else { backoff.next_delay() };
            tracing::warn!(error = ?error, retry_in = ?delay, "sync disconnected");
            self.connection(ConnectionState::Offline {
                reason: error.to_string(),
                retry_in_ms: Some(delay.as_millis() as u64),
            });
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                // Back from a suspend: the network may well be there again; try at once.
                _ = super::wake::resumed() => backoff.reset(),
                // Another network, a cable, a VPN: the hub may be reachable now.
                _ = network.changed() => {
                    tracing::info!("the network changed: trying the hub now");
                    backoff.reset();
                }
                _ = stopped(&mut shutdown) => return,
            }
        }
    }

    /// A live feed just ended (dropped, or the agent stops): the mirror was in step until now.
    async fn note_in_step_until_now(&self) {
        if !self.online.swap(false, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let account = self.account;
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        if let Err(e) = self.mirror.call(move |m| m.mark_synced(account, &now)).await {
            tracing::warn!(error = %e, "cannot record when the inbox was last in step");
        }
    }

    /// One connection, from connect to disconnect. `Ok` only on shutdown.
    async fn session(
        &self,
        server: &Url,
        token: &str,
        backoff: &mut Backoff,
        network: &mut NetworkWatch,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SyncError> {
        let account = self.account;
        let mut history = !self.mirror.call(move |m| m.has_caught_up_once(account)).await?;
        // The bulk of a catch-up comes in pages over HTTP; the feed then brings what arrived
        // meanwhile. A resync (the hub trimmed its log past the cursor) goes through the feed.
        tokio::select! {
            caught_up = self.catch_up(server, token, history) => { caught_up?; }
            _ = stopped(shutdown) => return Ok(()),
            _ = super::wake::resumed() => return Err(SyncError::Resumed),
        }
        let cursor = self.mirror.call(move |m| m.cursor(account)).await?;
        let request = feed_request(server, token, cursor)?;
        let (socket, _) = match tokio::time::timeout(CONNECT_TIMEOUT, connect(request, &self.tls)).await {
            Err(_) => return Err(SyncError::Connect("timed out".into())),
            Ok(Err(tungstenite::Error::Http(response))) if response.status() == 401 => {
                return Err(SyncError::Unauthorized)
            }
            Ok(Err(e)) => return Err(SyncError::connect(&e)),
            Ok(Ok(connected)) => connected,
        };
        tracing::info!(%server, cursor, "feed connected");
        let (mut sink, mut stream) = socket.split();
        let mut plan = FeedPlan::new(cursor);
        // While the feed is up, a failed outbox flush is retried on its own backoff, not only
        // at the next action or reconnect.
        let mut outbox_backoff = Backoff::default();
        let mut outbox_retry: Option<tokio::time::Instant> = None;
        // The outbox is sent beside the feed, never in its way: a slow hub answer must not hold
        // up live frames (or the pongs that keep the feed open).
        let mut flushing = Flushing::default();
        let resumed = super::wake::resumed();
        tokio::pin!(resumed);
        // (applied, total) of the catch-up, once the hub said how long it is.
        let mut backlog: Option<(i64, i64)> = None;
        // From a `resync` to the next `caught_up`, what arrives is the inbox as it is (history),
        // even on a connection that was already live.
        let mut resyncing = false;
        // A frame read while gathering a burst of live changes, handled next.
        let mut deferred: Option<FeedFrame> = None;
        // Set when the network changed: the hub must answer our ping by then. Only its pong
        // counts: frames that were already on their way say nothing of the link now.
        let mut probe: Option<tokio::time::Instant> = None;
        loop {
            let frame = match deferred.take() {
                Some(frame) => frame,
                None => tokio::select! {
                    _ = &mut resumed => return Err(SyncError::Resumed),
                    frame = tokio::time::timeout(IDLE_LIMIT, stream.next()) => {
                        let message = match frame {
                            Err(_) => return Err(SyncError::Lost(format!("no frame for {}s", IDLE_LIMIT.as_secs()))),
                            Ok(None) => return Err(SyncError::Lost("the hub closed the feed".into())),
                            Ok(Some(Err(e))) => return Err(SyncError::Lost(e.to_string())),
                            Ok(Some(Ok(message))) => message,
                        };
                        if let Message::Pong(_) = message {
                            probe = None;
                        }
                        let Message::Text(text) = message else { continue };
                        match serde_json::from_str::<FeedFrame>(&text) {
                            Ok(frame) => frame,
                            // A newer hub may send kinds this client does not know; skipping them
                            // beats dropping the link over and over.
                            Err(e) => { tracing::warn!(error = %e, "skipping a feed frame this version cannot read"); continue }
                        }
                    }
                    _ = self.outbox_ready.notified(), if plan.is_caught_up() => {
                        self.start_flush(&mut flushing, server, token);
                        continue;
                    }
                    _ = sleep_until(outbox_retry), if outbox_retry.is_some() => {
                        outbox_retry = None;
                        self.start_flush(&mut flushing, server, token);
                        continue;
                    }
                    done = flushing.wait(), if flushing.is_running() => {
                        outbox_retry = self.finish_flush(done, &mut outbox_backoff);
                        if std::mem::take(&mut flushing.again) && outbox_retry.is_none() {
                            self.start_flush(&mut flushing, server, token);
                        }
                        continue;
                    }
                    _ = network.changed(), if probe.is_none() => {
                        tracing::info!("the network changed: checking the feed with a ping");
                        sink.send(Message::Ping(Default::default())).await.map_err(|e| SyncError::Lost(e.to_string()))?;
                        probe = Some(tokio::time::Instant::now() + PROBE_TIMEOUT);
                        continue;
                    }
                    _ = sleep_until(probe), if probe.is_some() => {
                        return Err(SyncError::Lost("no answer to a ping after the network changed".into()));
                    }
                    _ = stopped(shutdown) => {
                        let _ = sink.send(Message::Close(None)).await;
                        return Ok(());
                    }
                },
            };
            let live = plan.is_caught_up();
            match plan.on_frame(frame) {
                Step::Wait => {}
                Step::Live(mut event) => {
                    event.id = ids::local_event(account, &event.id);
                    self.emit(SyncEvent::Live { account, event })
                }
                Step::LiveAnswered(hub_event_id) => {
                    self.emit(SyncEvent::LiveAnswered { event_id: ids::local_event(account, &hub_event_id) })
                }
                Step::DoNotDisturb(settings) => {
                    let kept = settings.clone();
                    self.mirror.call(move |m| m.set_do_not_disturb(account, &kept)).await?;
                    self.emit(SyncEvent::DoNotDisturb { account, settings });
                }
                Step::Backlog(total) => {
                    backlog = Some((0, total));
                    self.emit(SyncEvent::Progress { account, done: 0, total });
                }
                Step::Resync => {
                    // The hub no longer has the changes after our cursor: what comes now
                    // is the inbox as it is — history, not news. Queued actions stay.
                    self.start_over(Reset::HubRestored).await?;
                    history = true;
                    resyncing = true;
                }
                Step::Fail(error) => return Err(SyncError::Refused(error)),
                Step::Identify { hub_id, user_id } => {
                    let identity = self.mirror.call(move |m| m.identify(account, &hub_id, user_id)).await?;
                    if identity == Identity::Different {
                        self.start_over(Reset::OtherAccount).await?;
                        return Err(SyncError::StartOver);
                    }
                }
                Step::Apply { mut changes, mut cursor, caught_up } => {
                    // Live changes already waiting in the socket join this one: a burst is
                    // one transaction, not one per change. Anything else waits its turn.
                    let mut lost = None;
                    if live {
                        while changes.len() < super::plan::CATCH_UP_BATCH {
                            let Some(next) = stream.next().now_or_never() else { break };
                            match next {
                                Some(Ok(Message::Text(text))) => match serde_json::from_str::<FeedFrame>(&text) {
                                    Ok(FeedFrame::Change(change)) => {
                                        if let Step::Apply { changes: more, cursor: to, .. } =
                                            plan.on_frame(FeedFrame::Change(change))
                                        {
                                            changes.extend(more);
                                            cursor = to;
                                        }
                                    }
                                    Ok(other) => {
                                        deferred = Some(other);
                                        break;
                                    }
                                    Err(e) => {
                                        tracing::warn!(error = %e, "skipping a feed frame this version cannot read")
                                    }
                                },
                                Some(Ok(Message::Pong(_))) => probe = None,
                                Some(Ok(_)) => {}
                                Some(Err(e)) => {
                                    lost = Some(SyncError::Lost(e.to_string()));
                                    break;
                                }
                                None => {
                                    lost = Some(SyncError::Lost("the hub closed the feed".into()));
                                    break;
                                }
                            }
                        }
                    }
                    let count = changes.len() as i64;
                    let applied = self.mirror.call(move |m| m.apply(account, &changes, cursor, caught_up)).await?;
                    if let Some((done, total)) = backlog.as_mut().filter(|_| !live) {
                        *done = (*done + count).min(*total);
                        self.emit(SyncEvent::Progress { account, done: *done, total: *total });
                    }
                    // New rows, and updated ones (their text left the index), need indexing.
                    if !applied.is_empty() {
                        self.index_ready.notify_one();
                    }
                    if !applied.is_empty() {
                        self.mirror_changed(applied, (history && !live) || resyncing);
                    }
                    if caught_up {
                        resyncing = false;
                        backoff.reset();
                        self.connection(ConnectionState::Online);
                        self.start_flush(&mut flushing, server, token);
                    }
                    if let Some(lost) = lost {
                        return Err(lost);
                    }
                }
            }
        }
    }

    /// The mirror cannot continue from its cursor: empty it and sync from the start.
    async fn start_over(&self, why: Reset) -> Result<(), SyncError> {
        let account = self.account;
        let dropped = self.mirror.call(move |m| m.reset(account, why)).await?;
        tracing::warn!(account, ?why, dropped_actions = dropped, "syncing the inbox again from the start");
        // The emptied rows' search entries are dropped by the indexer.
        self.index_ready.notify_one();
        self.mirror_changed(Applied { read_changed: true, ..Applied::default() }, true);
        Ok(())
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Resolves once `shutdown` turns true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
