//! HTTP requests as the hub parses them: any method, a path built on the hub's own routes with
//! fuzzed segments, a fuzzed query string, content type, Idempotency-Key and body, from each kind
//! of caller. The requests go through the real router and a real (in-memory) SQLite store, one
//! for the whole run (an input may meet what earlier ones left). Whatever comes in, the hub
//! answers below 500, and every error is exactly `{code, message}`.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::Request;
use herald_hub::api::{router, AppState};
use herald_hub::{HubConfig, Store};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];
const ROUTES: [&str; 25] = [
    "/v1/notifications",
    "/v1/notifications/read",
    "/v1/notifications/read-all",
    "/v1/notifications/{}/read",
    "/v1/notifications/{}",
    "/v1/notifications/{}/confirm",
    "/v1/notifications/{}/answer",
    "/v1/events",
    "/v1/events/{}/respond",
    "/v1/changes",
    "/v1/preferences",
    "/v1/schema",
    "/v1/ingest/{}",
    "/v1/admin/users/{}/roles/{}",
    "/v1/admin/roles/{}/preferences",
    "/v1/admin/users",
    "/v1/admin/users/{}",
    "/v1/admin/users/{}/follows",
    "/v1/admin/users/{}/follows/{}/{}",
    "/v1/admin/organizations/{}/members/{}",
    "/v1/admin/tokens",
    "/v1/admin/stats",
    "/v1/feed",
    "/v1/openapi.json",
    "/healthz",
];

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    route: u8,
    segments: Vec<String>,
    query: String,
    /// 0: none, 1: a user's, 2: an app's, 3: an admin's, else a made-up one.
    caller: u8,
    json_content_type: bool,
    /// Sent as `Idempotency-Key` (its guard reads the body and keeps answers).
    idempotency_key: Option<String>,
    body: Vec<u8>,
}

struct Hub {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    tokens: [String; 3],
}

fn hub() -> &'static Hub {
    static HUB: OnceLock<Hub> = OnceLock::new();
    HUB.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (app, tokens) = runtime.block_on(async {
            let store = Store::open_in_memory().unwrap();
            let (_, user) = store.add_user("bob").await.unwrap();
            store.add_user("alice").await.unwrap();
            let app_token = store.add_app_token("community", None).await.unwrap();
            let admin = store.add_admin_token().await.unwrap();
            let config = HubConfig::default();
            let (_stop, shutdown) = tokio::sync::watch::channel(false);
            std::mem::forget(_stop);
            let state = AppState::new(store, config, shutdown, herald_hub::callbacks::Callbacks::default());
            (router(state), [user, app_token, admin])
        });
        Hub { runtime, app, tokens }
    })
}

fn request(input: &Input, tokens: &[String; 3]) -> Option<Request<Body>> {
    let mut path = ROUTES[input.route as usize % ROUTES.len()].to_owned();
    for segment in &input.segments {
        if !path.contains("{}") {
            break;
        }
        path = path.replacen("{}", segment, 1);
    }
    let path = path.replace("{}", "1");
    let uri = if input.query.is_empty() { path } else { format!("{path}?{}", input.query) };
    let mut builder = Request::builder().method(METHODS[input.method as usize % METHODS.len()]).uri(uri);
    builder = match input.caller % 5 {
        0 => builder,
        n @ 1..=3 => builder.header("authorization", format!("Bearer {}", tokens[n as usize - 1])),
        _ => builder.header("authorization", "Bearer hrld_made_up"),
    };
    if input.json_content_type {
        builder = builder.header("content-type", "application/json");
    }
    if let Some(key) = &input.idempotency_key {
        builder = builder.header("idempotency-key", key.as_str());
    }
    // A path, query or header that is not valid HTTP never reaches the hub: hyper refuses it first.
    builder.body(Body::from(input.body.clone())).ok()
}

fuzz_target!(|input: Input| {
    let hub = hub();
    let Some(request) = request(&input, &hub.tokens) else { return };
    // An answer to HEAD has no body, by HTTP's rules.
    let head = request.method() == axum::http::Method::HEAD;
    hub.runtime.block_on(async {
        let response = hub.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert!(status.as_u16() < 500, "{status} for {input:?}");
        if status.is_client_error() && !head {
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let error: serde_json::Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("{status} is not JSON: {:?}", String::from_utf8_lossy(&body)));
            let fields: Vec<&str> = error.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(fields, ["code", "message"], "{status}: {error}");
        }
    });
});
