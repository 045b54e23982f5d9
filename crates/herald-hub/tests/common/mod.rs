//! Shared by the hub's HTTP test files: a real hub on 127.0.0.1:0 with users alice and bob,
//! and small helpers to call it. Not every file uses every helper.
#![allow(dead_code, unused_imports)]

pub use futures_util::StreamExt;
pub use herald_hub::store::NewNotification;
pub use herald_hub::Store;
pub use herald_proto::{ChangeKind, ErrorCode, FeedFrame, MAX_BODY_BYTES};
pub use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
pub use tokio_tungstenite::tungstenite::Message;

pub mod smtp;

pub struct Hub {
    pub base: String,
    pub client: reqwest::Client,
    pub alice: String,
    pub bob: String,
    /// An app's token ("tests"): for sends a user may not make (system types, critical
    /// priority, a whole role or organisation).
    pub app: String,
    pub store: Store,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn start() -> Hub {
    start_with(Store::open_in_memory().unwrap()).await
}

pub async fn start_with(store: Store) -> Hub {
    start_configured(store, herald_hub::HubConfig::default()).await
}

pub async fn start_configured(store: Store, config: herald_hub::HubConfig) -> Hub {
    let (_, alice) = store.add_user("alice").await.unwrap();
    let (_, bob) = store.add_user("bob").await.unwrap();
    let app = store.add_app_token("tests", None).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(herald_hub::run_with(listener, store.clone(), config, async move {
        let _ = stopped.await;
    }));
    Hub { base, client: reqwest::Client::new(), alice, bob, app, store, _stop: stop }
}

impl Hub {
    pub async fn post(&self, token: &str, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Any method, with an optional JSON body.
    pub async fn call(&self, method: &str, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let res = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_to(&self, user: &str, subject: &str) -> i64 {
        let (status, body) = self
            .post(
                &self.alice,
                "/v1/notifications",
                json!({"to": {"user": user}, "subject": subject, "body": "b"}).to_string(),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["ids"][0].as_i64().unwrap()
    }

    pub async fn feed(
        &self,
        token: &str,
        since: i64,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
        let url = format!("{}/v1/feed?since={since}", self.base.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }
}

/// The next frame, skipping the `hello`, `do_not_disturb` and `backlog` a feed starts with.
pub async fn next_frame(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> FeedFrame {
    loop {
        match next_frame_any(ws).await {
            FeedFrame::DoNotDisturb(_) | FeedFrame::Backlog { .. } => continue,
            frame => return frame,
        }
    }
}

/// The next frame but `hello`.
pub async fn next_frame_any(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> FeedFrame {
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await;
        match next.expect("no feed frame within 10 s").expect("feed closed").unwrap() {
            Message::Text(text) => match serde_json::from_str(&text).unwrap() {
                FeedFrame::Hello { .. } => continue,
                frame => return frame,
            },
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

pub fn code(body: &Value) -> ErrorCode {
    serde_json::from_value(body["code"].clone()).unwrap_or_else(|_| panic!("no error code in {body}"))
}

/// A stand-in for an app's callback endpoint: records every POST (headers and JSON body) and
/// answers each with the next status of `statuses` (then 200).
pub struct CallbackServer {
    pub url: String,
    pub received: tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, Value, String)>,
}

pub async fn callback_server(
    statuses: Vec<u16>,
    hold_first: Option<std::sync::Arc<tokio::sync::Notify>>,
) -> CallbackServer {
    use std::sync::{Arc, Mutex};
    let (tx, received) = tokio::sync::mpsc::unbounded_channel();
    let statuses = Arc::new(Mutex::new(std::collections::VecDeque::from(statuses)));
    let hold = Arc::new(Mutex::new(hold_first));
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (tx, statuses, hold) = (tx.clone(), statuses.clone(), hold.clone());
            async move {
                let gate = hold.lock().unwrap().take();
                if let Some(gate) = gate {
                    gate.notified().await;
                }
                let _ = tx.send((headers, serde_json::from_str(&body).unwrap(), body));
                let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    CallbackServer { url, received }
}

impl CallbackServer {
    /// The next POST: its headers, its JSON, and its body as sent (for checking the signature).
    pub async fn next(&mut self) -> (axum::http::HeaderMap, Value, String) {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.received.recv())
            .await
            .expect("no callback within 10 s")
            .unwrap()
    }
}
