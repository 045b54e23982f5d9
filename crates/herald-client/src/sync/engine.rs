//! The sync loop: catch up from `GET /v1/changes` in pages ([`catch_up`]), then connect to
//! `GET /v1/feed?since=CURSOR` and apply what the plan says, flush the outbox once caught up, and
//! reconnect with backoff whenever the link drops.

mod catch_up;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use herald_proto::{ApiError, ErrorCode, FeedFrame};
use tokio::sync::{broadcast, watch, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use url::Url;

use super::backoff::{self, Backoff};
use super::network::NetworkWatch;
use super::plan::{FeedPlan, Step};
use super::{ConnectionState, SyncEvent};
use crate::mirror::{ids, AccountId, Applied, Identity, MirrorError, Reset, SharedMirror};
use crate::outbox;
use crate::tls::Tls;

/// The hub pings every 30 s (by default); this long without any frame means the link is dead.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest an HTTP call to the hub may take.
const HTTP_PATIENCE: Duration = Duration::from_secs(15);
/// After a network change, the feed must answer a ping within this long or it is taken for dead
/// (its socket may be bound to an address the machine no longer has).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// `Display` is what the tray and the inbox show a person; the log gets the `Debug` detail.
#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error("the hub rejected the sign-in token")]
    Unauthorized,
    #[error("cannot reach the hub")]
    Connect(String),
    /// The hub's certificate does not chain to a trusted root (set `HERALD_CA_FILE` for a
    /// private CA), or names another host.
    #[error("the hub's certificate is not trusted")]
    Untrusted(String),
    #[error("lost the connection to the hub")]
    Lost(String),
    #[error("the hub refused: {}", .0.message)]
    Refused(ApiError),
    #[error("cannot write the local inbox")]
    Mirror(#[from] MirrorError),
    /// The mirror was reset (another hub or user); connect again from 0 at once.
    #[error("starting over")]
    StartOver,
    /// The machine slept: the link is surely dead; connect again at once.
    #[error("resumed from sleep")]
    Resumed,
}

impl SyncError {
    /// A failure to reach the hub, told apart when it is the hub's certificate.
    fn connect(e: &(dyn std::error::Error + 'static)) -> Self {
        // An io::Error's `source()` skips the error it wraps (and io::Errors nest), so each is
        // opened instead.
        let chain: Vec<&(dyn std::error::Error + 'static)> =
            std::iter::successors(Some(e), |&c| inside_io_error(c).or_else(|| c.source())).collect();
        let certificate = chain.iter().find_map(|c| match c.downcast_ref::<rustls::Error>() {
            Some(rustls::Error::InvalidCertificate(why)) => Some(why),
            _ => None,
        });
        match certificate {
            Some(why) => SyncError::Untrusted(format!("{why:?}")),
            None => SyncError::Connect(chain.iter().map(ToString::to_string).collect::<Vec<_>>().join(": ")),
        }
    }

    /// A rejected token will not fix itself quickly: retry only at the slowest pace.
    fn is_permanent(&self) -> bool {
        matches!(self, SyncError::Unauthorized)
    }
}

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

    /// Starts sending the outbox unless a send is already running (then it runs again after).
    fn start_flush(&self, flushing: &mut Flushing, server: &Url, token: &str) {
        if flushing.is_running() {
            flushing.again = true;
            return;
        }
        let hub = outbox::Hub { account: self.account, server: server.clone(), token: token.to_owned() };
        let (http, mirror) = (self.http.clone(), self.mirror.clone());
        flushing.task = Some(tokio::spawn(async move {
            match outbox::flush(&http, &hub, &mirror).await {
                Ok(flushed) => (flushed, None),
                Err((flushed, e)) => (flushed, Some(e)),
            }
        }));
    }

    /// Reports a finished send; returns when to try again if some actions could not be sent.
    fn finish_flush(&self, done: FlushOutcome, backoff: &mut Backoff) -> Option<tokio::time::Instant> {
        let (flushed, failure) = done;
        self.report(flushed);
        match failure {
            None => {
                backoff.reset();
                None
            }
            Some(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?delay, "outbox flush failed; actions stay queued");
                Some(tokio::time::Instant::now() + delay)
            }
        }
    }

    /// Tells the shell what a flush did: sent actions, and refused ones (taken back locally).
    fn report(&self, flushed: outbox::Flushed) {
        if flushed.sent > 0 {
            tracing::info!(sent = flushed.sent, "outbox flushed");
            self.emit(SyncEvent::OutboxFlushed { sent: flushed.sent });
        }
        if flushed.inbox_changed {
            self.mirror_changed(Applied { read_changed: true, ..Applied::default() }, true);
        }
        for (action, error) in flushed.rejected {
            self.emit(SyncEvent::ActionRejected { action, error });
        }
    }
}

type FlushOutcome = (outbox::Flushed, Option<outbox::SendError>);

/// The outbox send in flight, if any. Dropped with the session: a send cut short leaves its
/// actions queued, and their keys make sending them again safe.
#[derive(Default)]
struct Flushing {
    task: Option<tokio::task::JoinHandle<FlushOutcome>>,
    /// More actions came while a send was running.
    again: bool,
}

impl Flushing {
    fn is_running(&self) -> bool {
        self.task.is_some()
    }

    async fn wait(&mut self) -> FlushOutcome {
        let Some(task) = self.task.as_mut() else { return std::future::pending().await };
        let outcome = task
            .await
            .unwrap_or_else(|e| (outbox::Flushed::default(), Some(outbox::SendError::Stopped(e.to_string()))));
        self.task = None;
        outcome
    }
}

impl Drop for Flushing {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Rows reach the search index in batches of this many, each its own transaction, so the feed's
/// writes never wait long behind the indexer.
const INDEX_BATCH: u32 = 2_000;

/// How long the indexer lets new rows gather before it indexes them. A live feed brings rows one
/// by one; indexed one transaction each, every row costs the search index a new segment to
/// merge, under the mirror's lock the feed waits on. Gathered for this long, a busy feed's rows
/// are indexed tens at a time (measured in `herald-bench live`, BENCHMARKS.md).
const INDEX_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// Keeps the search index up with the rows, off the sync path: catch-up makes rows visible at
/// once, and they become searchable moments later.
pub async fn index_in_background(mirror: SharedMirror, ready: Arc<Notify>) {
    loop {
        ready.notified().await;
        tokio::time::sleep(INDEX_DELAY).await;
        let mut indexed = 0;
        loop {
            match mirror.call(|m| m.index_some(INDEX_BATCH)).await {
                Ok(0) => break,
                Ok(n) => {
                    indexed += n;
                    tokio::task::yield_now().await
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search indexing failed; will retry with the next changes");
                    break;
                }
            }
        }
        // A big catch-up indexed: the caches it filled are not needed while the agent idles.
        if indexed >= INDEX_BATCH as usize {
            let _ = mirror.call(|m| m.release_memory()).await;
        }
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

/// The error an io::Error wraps.
fn inside_io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn std::error::Error + 'static)> {
    Some(e.downcast_ref::<std::io::Error>()?.get_ref()?)
}

/// Opens the feed's WebSocket, over TLS with `tls`'s trust when the URL is wss.
async fn connect(
    request: tungstenite::handshake::client::Request,
    tls: &Tls,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        tungstenite::handshake::client::Response,
    ),
    tungstenite::Error,
> {
    tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(tls.connector())).await
}

fn feed_request(server: &Url, token: &str, cursor: i64) -> Result<tungstenite::handshake::client::Request, SyncError> {
    let mut url = server.join("v1/feed").map_err(|e| SyncError::Connect(e.to_string()))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme).map_err(|()| SyncError::Connect("cannot make a WebSocket URL".into()))?;
    url.query_pairs_mut().append_pair("since", &cursor.to_string());
    let mut request = url.as_str().into_client_request().map_err(|e| SyncError::Connect(e.to_string()))?;
    let auth = format!("Bearer {token}").parse().map_err(|_| SyncError::Unauthorized)?;
    request.headers_mut().insert("authorization", auth);
    Ok(request)
}
