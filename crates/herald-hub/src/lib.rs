//! herald-hub: the notification server.
//!
//! Map of the crate:
//! - [`store`]: the embedded SQLite store — users and hashed tokens, one notification row per
//!   recipient, the per-user change log — and the in-process bus that announces new changes.
//! - [`auth`]: bearer tokens (made, hashed, checked) and the `AuthUser` extractor.
//! - [`api`]: the HTTP routes (`/healthz`, `/v1/notifications`, `/v1/feed`) and JSON error mapping.
//! - [`live`]: live events in flight and who is connected (never stored).
//! - [`callbacks`]: delivers answers and event responses to apps' callback URLs, with retries.
//! - [`feed`]: the WebSocket feed: replay from the client's cursor, then live changes.
//! - [`ingest`]: templates that turn other systems' events into notifications.
//! - [`types`]: the notification types of the config file (`GET /v1/schema`).
//! - [`web`]: the web inbox's page and assets, embedded at build time.
//! - [`preferences`]: which channels reach a recipient (schema, roles, the user's switches).
//! - [`mail`]: email: the SMTP server, what a mail says, the worker that sends the mail queue.
//!
//! [`run`] serves a bound listener until `shutdown` resolves (mini-redis' shape), so tests bind
//! `127.0.0.1:0` and drive a real server.

pub mod api;
pub mod auth;
pub mod callback_dns;
pub mod callbacks;
pub mod feed;
pub mod ingest;
pub mod live;
pub mod mail;
pub mod passwords;
pub mod preferences;
mod retry;
pub mod serve;
pub mod store;
pub mod tls;
pub mod types;
pub mod web;

use std::future::Future;

use tokio::net::TcpListener;

pub use store::Store;

/// What can be tuned when serving.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// How often feeds are pinged; a feed that misses two pings is closed.
    pub ping_every: std::time::Duration,
    /// Requests per token; None: unlimited.
    pub rate_limit: Option<RateLimit>,
    /// The wait before the second try of a failed callback; it doubles with each further try.
    pub callback_retry_base: std::time::Duration,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// How long change-journal entries are kept; a client offline for longer gets a snapshot.
    pub journal_retention: std::time::Duration,
    /// How often notifications past their `expires_at` are deleted.
    pub expiry_check_every: std::time::Duration,
    /// The templates of `POST /v1/ingest/{source}`.
    pub ingest: std::sync::Arc<ingest::IngestConfig>,
    /// The notification types and their channels.
    pub types: std::sync::Arc<types::TypeRegistry>,
    /// Serve HTTPS and WSS with this; None: plain HTTP (for loopback, or behind a proxy).
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Connection timeouts and caps.
    pub connections: serve::ConnLimits,
    /// Feeds one token may hold open; a new one beyond it closes the oldest.
    pub max_feeds_per_token: usize,
    /// Failed authentications per client address; None: unlimited (a test that fails on
    /// purpose). Default: 30 at once, then one a second.
    pub failed_auth_limit: Option<RateLimit>,
    /// App tokens minted through the admin API may have any http(s) callback URL, and callbacks
    /// go to any address their host names resolve to.
    pub allow_private_callbacks: bool,
    /// How callback host names are looked up: the system's resolver (a fixed table in tests).
    pub callback_lookup: std::sync::Arc<dyn callback_dns::Lookup>,
    /// Failed password sign-ins per user name and per client address.
    pub sign_in_limits: api::SignInLimits,
    /// Where mail goes; None: the hub sends none (the queue still records what is owed).
    pub mail: Option<mail::MailConfig>,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            ping_every: std::time::Duration::from_secs(30),
            rate_limit: None,
            expiry_check_every: std::time::Duration::from_secs(1),
            journal_retention: std::time::Duration::from_secs(90 * 24 * 3600),
            max_body_bytes: herald_proto::MAX_BODY_BYTES,
            callback_retry_base: std::time::Duration::from_secs(1),
            ingest: std::sync::Arc::new(ingest::IngestConfig::built_in()),
            types: std::sync::Arc::new(types::TypeRegistry::built_in()),
            tls: None,
            connections: serve::ConnLimits::default(),
            max_feeds_per_token: 16,
            allow_private_callbacks: false,
            callback_lookup: std::sync::Arc::new(callback_dns::System),
            failed_auth_limit: Some(RateLimit { per_second: 1.0, burst: 30.0 }),
            sign_in_limits: api::SignInLimits::default(),
            mail: None,
        }
    }
}

/// Serves the hub's HTTP API and feed on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with(listener, store, HubConfig::default(), shutdown).await
}

/// [`run`] with a configuration.
pub async fn run_with(
    listener: TcpListener,
    store: Store,
    config: HubConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(sweep_expired(store.clone(), config.expiry_check_every, stop_rx.clone()));
    tokio::spawn(trim_journal(store.clone(), config.journal_retention, stop_rx.clone()));
    let tls = config.tls.clone();
    let limits = config.connections;
    let callbacks = callbacks::Callbacks::default();
    callbacks.spawn(store.clone(), &config, stop_rx.clone());
    let mail_drained = match config.mail.clone() {
        Some(mail) => {
            let mailer = mail::worker::Mailer::default();
            Some(mailer.spawn(store.clone(), mail, stop_rx.clone()).map_err(std::io::Error::other)?)
        }
        None => None,
    };
    let app = api::router(api::AppState::new(store, config, stop_rx, callbacks));
    let shutdown = async move {
        shutdown.await;
        // Feeds are long-lived; tell them to close so graceful shutdown does not wait forever.
        let _ = stop_tx.send(true);
    };
    let served = match tls {
        Some(tls) => serve::serve(tls::TlsListener::new(listener, tls)?, app, limits, shutdown).await,
        None => serve::serve(listener, app, limits, shutdown).await,
    };
    // Mail the SMTP server is accepting now is recorded before the hub exits, so the next start
    // does not send it again; a server too slow to answer in time leaves it to that start.
    if let Some(drained) = mail_drained {
        if tokio::time::timeout(MAIL_DRAIN, drained).await.is_err() {
            tracing::warn!(patience = ?MAIL_DRAIN, "mail still on its way at exit; the next start sends it");
        }
    }
    served
}

/// How long a stopping hub waits for mail on its way to be accepted and recorded.
const MAIL_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Deletes expired notifications every `every` until the hub stops. The query uses a partial
/// index of the rows that have an expiry, so a tick with nothing due costs one index probe.
async fn sweep_expired(store: Store, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => match store.delete_expired().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "deleted expired notifications"),
                Err(e) => tracing::error!(error = %e, "could not delete expired notifications"),
            },
            _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => return,
        }
    }
}

/// Trims journal entries older than `retention` and expired idempotency records, hourly, until
/// the hub stops.
async fn trim_journal(store: Store, retention: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                // A retention reaching before year 0 keeps everything.
                let Some(cutoff) = store::stored_time_before(retention) else { continue };
                match store.trim_journal(cutoff).await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "trimmed old journal entries"),
                    Err(e) => tracing::error!(error = %e, "could not trim the journal"),
                }
                let idempotency_cutoff = store::stored_time_ago(store::IDEMPOTENCY_RETENTION);
                match store.expire_idempotency(idempotency_cutoff).await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "forgot expired idempotency keys"),
                    Err(e) => tracing::error!(error = %e, "could not expire idempotency keys"),
                }
            }
            _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => return,
        }
    }
}
