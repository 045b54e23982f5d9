//! HTTP routes and the one place errors become `{code, message}` responses.

mod admin;
mod changes;
mod devices;
mod email_links;
mod error;
mod idempotency;
mod inbox;
mod ingest;
mod interactions;
mod json;
mod live_events;
mod notifications;
mod openapi;
mod plain_errors;
mod preferences;
mod rate_limit;
mod sender_policy;
mod session;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;
use herald_proto::ErrorCode;
use tokio::sync::watch;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::Failure;
pub use idempotency::InFlight;
pub(crate) use notifications::check_buttons;
pub use rate_limit::RateLimiter;
pub use session::SignInLimits;

use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Turns `true` when the hub is shutting down; open feeds close on it.
    pub shutdown: watch::Receiver<bool>,
    pub in_flight: InFlight,
    pub live: crate::live::Live,
    pub config: crate::HubConfig,
    pub rate_limiter: RateLimiter,
    /// Failed authentications per client address.
    pub failed_auth: RateLimiter,
    /// Failed password sign-ins per user name and per client address.
    pub sign_in_failures: RateLimiter,
    /// Open feeds per token.
    pub feeds: crate::feed::FeedsByToken,
    pub callbacks: crate::callbacks::Callbacks,
    pub ingest: std::sync::Arc<crate::ingest::IngestConfig>,
}

/// On every answer: no content sniffing, nothing cached (answers hold a user's data), and under
/// TLS, HSTS (a browser that once reached the hub over HTTPS never falls back to HTTP).
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::header::{HeaderValue, CACHE_CONTROL, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if state.config.tls.is_some() {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

impl AppState {
    /// The state of a hub serving `store` with `config`, nothing in flight yet.
    pub fn new(
        store: Store,
        config: crate::HubConfig,
        shutdown: watch::Receiver<bool>,
        callbacks: crate::callbacks::Callbacks,
    ) -> Self {
        Self {
            store,
            shutdown,
            in_flight: InFlight::default(),
            live: crate::live::Live::default(),
            rate_limiter: RateLimiter::default(),
            failed_auth: RateLimiter::default(),
            sign_in_failures: RateLimiter::default(),
            feeds: crate::feed::FeedsByToken::default(),
            callbacks,
            ingest: config.ingest.clone(),
            config,
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(crate::web::page))
        .route("/assets/{*path}", get(crate::web::asset))
        .route("/favicon.svg", get(crate::web::favicon))
        .route("/v1/openapi.json", get(openapi::document))
        .route(
            "/v1/notifications",
            post(notifications::send).get(notifications::list).delete(notifications::delete_tagged),
        )
        .route("/v1/notifications/read", post(notifications::mark_read))
        .route("/v1/notifications/preview", post(notifications::preview))
        .route("/v1/notifications/read-all", post(notifications::read_all))
        .route("/v1/notifications/{id}/read", post(notifications::read_from))
        .route("/v1/notifications/{id}", get(notifications::get_one).delete(notifications::delete_one))
        .route("/v1/notifications/{id}/confirm", post(interactions::confirm))
        .route("/v1/notifications/{id}/answer", post(interactions::answer))
        .route("/v1/events", post(live_events::send))
        .route("/v1/events/{id}/respond", post(live_events::respond))
        .route("/v1/changes", get(changes::page))
        .route("/v1/feed", get(crate::feed::upgrade))
        .route("/v1/inbox", get(inbox::summary))
        .route("/v1/session", post(session::sign_in).get(session::who).delete(session::sign_out))
        .route("/v1/devices", post(devices::add).get(devices::list))
        .route("/v1/devices/current", delete(devices::revoke_current))
        .route("/v1/devices/{id}", delete(devices::revoke))
        .route("/v1/admin/users", get(admin::list_users).post(admin::add_user))
        .route("/v1/admin/users/{name}", delete(admin::remove_user).patch(admin::change_user))
        .route("/v1/admin/users/{name}/roles/{role}", put(admin::grant_role).delete(admin::revoke_role))
        .route("/v1/admin/users/{name}/follows", post(admin::follow))
        .route("/v1/admin/users/{name}/follows/{type}/{id}", delete(admin::unfollow))
        .route("/v1/admin/organizations/{org}/members/{name}", put(admin::add_member).delete(admin::remove_member))
        .route("/v1/admin/tokens", post(admin::add_token))
        .route("/v1/admin/stats", get(admin::stats))
        .route("/v1/admin/roles/{role}/preferences", get(preferences::get_role).put(preferences::put_role))
        .route("/v1/schema", get(preferences::schema))
        .route("/v1/ingest/{source}", post(ingest::ingest))
        .route("/v1/preferences", get(preferences::get).put(preferences::put))
        .route("/v1/email/unsubscribe/{token}", get(email_links::unsubscribe_page).post(email_links::unsubscribe))
        .route("/v1/email/answer/{token}", get(email_links::answer_page).post(email_links::answer))
        .fallback(|| async { Failure::new(ErrorCode::NotFound, "no such route") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::guard))
        // A limited request costs nothing else.
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit_failed_auth))
        // Outermost: one structured log line per request (method, path, status, latency; never
        // the Authorization header).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        // A body sent a byte at a time holds a connection no longer than this.
        .layer(axum::middleware::from_fn_with_state(
            (state.config.connections.request_timeout, state.config.max_body_bytes),
            crate::serve::body_within,
        ))
        .layer(axum::middleware::map_response_with_state(state.clone(), security_headers))
        .layer(axum::middleware::map_response(plain_errors::as_json))
        // A bug that panics in a handler answers 500 in the usual shape instead of dropping the
        // connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            axum::response::IntoResponse::into_response(Failure::new(
                ErrorCode::Internal,
                "the hub failed on this request",
            ))
        }))
        .with_state(state)
}
