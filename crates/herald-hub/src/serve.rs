//! The connections themselves: what `axum::serve` did, with the limits a hub in front of
//! strangers needs. A silent or trickling client is closed ([`ConnLimits::header_timeout`] also
//! covers an idle keep-alive connection; a request's body must arrive within
//! [`ConnLimits::request_timeout`]), one address holds at most
//! [`ConnLimits::unauthenticated_per_address`] connections that have not yet shown a valid token,
//! and shutdown lets requests in progress finish for [`ConnLimits::shutdown_grace`], then closes
//! the rest.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;

/// How long connections may take and how many one address may hold.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// A request's headers must arrive within this, and an idle keep-alive connection is closed
    /// after it.
    pub header_timeout: Duration,
    /// A request's body must have arrived within this (408 after it).
    pub request_timeout: Duration,
    /// Connections one client address may hold before any of them showed a valid token.
    pub unauthenticated_per_address: usize,
    /// At shutdown, how long requests in progress may finish before their connections close.
    pub shutdown_grace: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            unauthenticated_per_address: 64,
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

/// Who is at the other end of a request's connection; a request extension.
pub struct ClientConn {
    pub peer: SocketAddr,
    unauthenticated: Mutex<Option<Unauthenticated>>,
}

impl ClientConn {
    /// A request on this connection showed a valid token: it no longer counts against its
    /// address's cap of connections not signed in.
    pub fn authenticated(&self) {
        self.unauthenticated.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Connections not signed in yet (or, for TLS, handshakes under way), per client address.
#[derive(Clone, Default)]
pub(crate) struct UnauthenticatedCounts {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection's place in its address's count, given back when dropped.
pub(crate) struct Unauthenticated {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
    address: IpAddr,
}

impl UnauthenticatedCounts {
    pub(crate) fn claim(&self, address: IpAddr, cap: usize) -> Option<Unauthenticated> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(address).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Unauthenticated { counts: self.counts.clone(), address })
    }
}

impl Drop for Unauthenticated {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Connections closed for their address's cap, logged at most every 10 s (a flood of them must
/// not become a flood of log lines).
#[derive(Default)]
struct Refusals {
    since_logged: u64,
    logged_at: Option<std::time::Instant>,
}

impl Refusals {
    fn refused(&mut self, peer: SocketAddr) {
        self.since_logged += 1;
        if self.logged_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            tracing::warn!(
                last = %peer,
                closed = self.since_logged,
                "closed connections from addresses holding too many without a valid token"
            );
            self.since_logged = 0;
            self.logged_at = Some(std::time::Instant::now());
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then closes every connection within
/// [`ConnLimits::shutdown_grace`].
pub async fn serve<L>(
    mut listener: L,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let unauthenticated = UnauthenticatedCounts::default();
    // HTTP/1.1 only: what the hub's clients speak, and what its TLS offers (ALPN). Serving
    // HTTP/2 too would mean sniffing each connection's first bytes, a wait with no timeout.
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let mut refusals = Refusals::default();
    // Every connection's task, so those still open after the grace are closed (dropped).
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Some(place) = unauthenticated.claim(peer.ip(), limits.unauthenticated_per_address) else {
            refusals.refused(peer);
            continue;
        };
        let conn = Arc::new(ClientConn { peer, unauthenticated: Mutex::new(Some(place)) });
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(conn.clone());
            app.clone().oneshot(request)
        });
        let connection = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                    // Finish the request in progress, take no other.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let finished = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, finished).await.is_err() {
        tracing::info!(open = connections.len(), "closing the connections still open at shutdown");
    }
    connections.shutdown().await;
    Ok(())
}

/// Middleware: reads the whole request body within `ConnLimits::request_timeout` (408 after it),
/// so a body sent a byte at a time holds its connection no longer. Only the body: once it is in,
/// the handler runs to its end, so a write is never applied after its caller was told 408.
/// Bodies are small (`max_body_bytes`), so holding one in memory costs nothing.
pub async fn body_within(
    axum::extract::State((limit, max_bytes)): axum::extract::State<(Duration, usize)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use herald_proto::ErrorCode;
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(limit, axum::body::to_bytes(body, max_bytes)).await {
        Ok(Ok(bytes)) => next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Ok(Err(_)) => crate::api::Failure::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {max_bytes} bytes, or was cut off"),
        )
        .into_response(),
        Err(_) => {
            let message = format!("the request body did not arrive within {} s", limit.as_secs());
            let mut response = crate::api::Failure::new(ErrorCode::InvalidRequest, message).into_response();
            *response.status_mut() = axum::http::StatusCode::REQUEST_TIMEOUT;
            response
        }
    }
}

/// Raises this process's open-file limit to its hard limit: every feed is a descriptor, and the
/// usual soft limit (1,024) would refuse connections long before the machine runs short.
/// Returns the limit now in force (None where there is none to read).
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            limit.current = limit.maximum;
            if let Err(e) = setrlimit(Resource::Nofile, limit) {
                tracing::warn!(error = %e, "could not raise the open-file limit");
                return getrlimit(Resource::Nofile).current;
            }
        }
        limit.current
    }
    #[cfg(not(unix))]
    None
}
