//! A hostile user, app or stranger against a real hub (issue 17): each finding's reproduction,
//! bounded in time and count. docs/reliability.md ("Abuse") has the figures.

mod common;

use common::*;

#[tokio::test]
async fn a_search_of_thousands_of_words_or_a_control_character_is_refused_clearly() {
    let hub = start().await;
    hub.send_to("bob", "zebra crossing").await;
    let search = |q: String| {
        let request = hub.client.get(format!("{}/v1/notifications", hub.base)).query(&[("q", q)]).bearer_auth(&hub.bob);
        async move {
            let res = request.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    // The 30 KB URL that took 60 s on a 200,000-row hub.
    let (status, body) = search("zebra ".repeat(5_000)).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{body}");
    assert!(body["message"].as_str().unwrap().contains("256 characters"), "{body}");
    let (status, body) = search("a b c d e f g h i j k l m n o p q".into()).await;
    assert_eq!(status, 400, "17 words: {body}");
    assert!(body["message"].as_str().unwrap().contains("16 words"), "{body}");
    // q=%00 answered 500 (`unterminated string`).
    let (status, body) = search("\0".into()).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{body}");
    let (status, body) = search("zebra zebra zebra".into()).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["subject"], "zebra crossing", "a repeated word still finds");
    let (_, body) = search("\" OR *".into()).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 0, "FTS syntax is only text");
}

#[tokio::test]
async fn an_app_reusing_another_apps_tag_replaces_only_its_own() {
    let hub = start().await;
    hub.store.grant_role("bob", "staff").await.unwrap();
    let erp = hub.store.add_app_token("erp", None).await.unwrap();
    let evil = hub.store.add_app_token("evil", None).await.unwrap();
    let approval = json!({
        "to": {"role": "staff"}, "subject": "Approve PO 2", "tag": "po-2",
        "buttons": [{"value": "Y", "label": "Approve"}]
    });
    let (status, _) = hub.post(&erp, "/v1/notifications", approval.to_string()).await;
    assert_eq!(status, 200);
    let expires = herald_hub::store::rfc3339_in(2);
    let takeover = json!({"to": {"everyone": true}, "subject": "nothing", "tag": "po-2", "expires_at": expires});
    let (status, _) = hub.post(&evil, "/v1/notifications", takeover.to_string()).await;
    assert_eq!(status, 200);
    let (_, page) = hub.get(&hub.bob, "/v1/notifications?tag=po-2").await;
    let subjects: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["nothing", "Approve PO 2"], "erp's approval is still waiting");
    // erp's own resend still replaces its own.
    let (status, _) = hub.post(&erp, "/v1/notifications", approval.to_string()).await;
    assert_eq!(status, 200);
    let (_, page) = hub.get(&hub.bob, "/v1/notifications?tag=po-2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "one of erp's, one of evil's");
}

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Tight limits, so each test sees them act within a few seconds.
fn tight() -> herald_hub::HubConfig {
    herald_hub::HubConfig {
        connections: herald_hub::serve::ConnLimits {
            header_timeout: Duration::from_millis(800),
            request_timeout: Duration::from_millis(800),
            unauthenticated_per_address: 5,
            shutdown_grace: Duration::from_millis(500),
        },
        ..herald_hub::HubConfig::default()
    }
}

fn address(hub: &Hub) -> String {
    hub.base.trim_start_matches("http://").to_owned()
}

/// Reads until the hub closes the connection (what it sent first, if anything), within 15 s.
async fn until_closed(socket: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the hub kept the connection open for 15 s");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn silent_trickling_and_slow_body_connections_are_closed() {
    let hub = start_configured(Store::open_in_memory().unwrap(), tight()).await;
    // Silent: connects and says nothing.
    let mut silent = TcpStream::connect(address(&hub)).await.unwrap();
    // Headers trickled, a byte at a time, never finishing.
    let trickling = tokio::spawn({
        let mut writer = TcpStream::connect(address(&hub)).await.unwrap();
        async move {
            let _ = writer.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
            for _ in 0..200 {
                if writer.write_all(b"X").await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    });
    // A body of 60,000 bytes sent a byte at a time.
    let mut slow_body = TcpStream::connect(address(&hub)).await.unwrap();
    let head = format!(
        "POST /v1/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n",
        hub.alice
    );
    slow_body.write_all(head.as_bytes()).await.unwrap();
    let (mut body_reader, mut body_writer) = slow_body.into_split();
    tokio::spawn(async move {
        for _ in 0..60_000 {
            if body_writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    until_closed(&mut silent).await;
    assert!(trickling.await.unwrap(), "the trickled headers' connection was closed");
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), body_reader.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "the slow body is cut with 408: {answer:?}");
    // The hub still serves everyone else.
    let (status, _) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_connections_before_signing_in() {
    let hub = start_configured(
        Store::open_in_memory().unwrap(),
        herald_hub::HubConfig {
            connections: herald_hub::serve::ConnLimits {
                header_timeout: Duration::from_secs(30),
                ..tight().connections
            },
            ..herald_hub::HubConfig::default()
        },
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(address(&hub)).await.unwrap());
    }
    // Each was accepted and counted: a request on the first proves the hub got that far.
    let probe = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    idle[0].write_all(probe.as_bytes()).await.unwrap();
    let mut buf = [0u8; 256];
    let n = idle[0].read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let mut sixth = TcpStream::connect(address(&hub)).await.unwrap();
    assert_eq!(until_closed(&mut sixth).await, "", "the sixth is closed unanswered");
    // One of them signs in: it no longer counts, and a new connection is taken.
    let signed_in = format!("GET /v1/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", hub.bob);
    idle[1].write_all(signed_in.as_bytes()).await.unwrap();
    let n = idle[1].read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let mut next = TcpStream::connect(address(&hub)).await.unwrap();
    next.write_all(probe.as_bytes()).await.unwrap();
    let n = next.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "a place was freed");
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_per_address() {
    let hub = start().await;
    let mut statuses = Vec::new();
    for i in 0..60 {
        let (status, body) = hub.get(&format!("hrld_bogus_{i}"), "/v1/notifications").await;
        if status == 429 {
            assert_eq!(code(&body), ErrorCode::RateLimited);
        }
        statuses.push(status);
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(refused >= 25, "{refused} of 60 bogus tokens were refused with 429: {statuses:?}");
    assert!(statuses[..30].iter().all(|s| *s == 401), "the first tries are plain 401s");
    let res = hub.client.get(format!("{}/v1/notifications", hub.base)).bearer_auth("hrld_bogus").send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    // A valid token from the same address (a proxy, an office's NAT) is never refused for it.
    assert_eq!(hub.get(&hub.bob, "/v1/notifications").await.0, 200);
}

#[tokio::test]
async fn api_answers_are_not_sniffed_or_cached() {
    let hub = start().await;
    let res = hub.client.get(format!("{}/v1/notifications", hub.base)).bearer_auth(&hub.bob).send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(res.headers().get("strict-transport-security").is_none(), "HSTS only under TLS");
}

#[tokio::test]
async fn a_token_that_opens_too_many_feeds_loses_its_oldest() {
    let hub = start_configured(
        Store::open_in_memory().unwrap(),
        herald_hub::HubConfig { max_feeds_per_token: 2, ..herald_hub::HubConfig::default() },
    )
    .await;
    let mut first = hub.feed(&hub.bob, 0).await;
    assert!(matches!(next_frame(&mut first).await, FeedFrame::CaughtUp { .. }));
    let mut second = hub.feed(&hub.bob, 0).await;
    assert!(matches!(next_frame(&mut second).await, FeedFrame::CaughtUp { .. }));
    let mut third = hub.feed(&hub.bob, 0).await;
    assert!(matches!(next_frame(&mut third).await, FeedFrame::CaughtUp { .. }));
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match first.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("the first feed ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the oldest feed is closed");
    assert_eq!(u16::from(closed.unwrap().code), 1008);
    // The two newest still get changes.
    let id = hub.send_to("bob", "still here").await;
    for feed in [&mut second, &mut third] {
        match next_frame(feed).await {
            FeedFrame::Change(change) => {
                assert!(matches!(change.kind, ChangeKind::Created { notification } if notification.id == id))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_feed_client_that_stops_reading_is_dropped() {
    let store = Store::open_in_memory().unwrap();
    let hub = start_configured(
        store.clone(),
        herald_hub::HubConfig { ping_every: Duration::from_millis(200), ..herald_hub::HubConfig::default() },
    )
    .await;
    // A WebSocket handshake by hand, with a tiny receive buffer, and then nothing read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut raw = socket.connect(address(&hub).parse().unwrap()).await.unwrap();
    let handshake = format!(
        "GET /v1/feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {}\r\n\r\n",
        hub.bob
    );
    raw.write_all(handshake.as_bytes()).await.unwrap();
    let mut buf = [0u8; 512];
    let n = raw.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 101"), "upgraded");
    assert_eq!(store.users_listening(), 1);
    // The client stays alive to the hub's ping check: it sends a (masked, empty) ping every
    // 100 ms, so only the send timeout can drop it.
    let (_unread, mut pinging) = raw.into_split();
    tokio::spawn(async move {
        while pinging.write_all(&[0x89, 0x80, 1, 2, 3, 4]).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Enough to fill every buffer between the hub and this client.
    let body = "x".repeat(16 * 1024);
    let dropped = tokio::time::timeout(Duration::from_secs(30), async {
        for i in 0.. {
            let payload = json!({"to": {"user": "bob"}, "subject": format!("n{i}"), "body": body}).to_string();
            let (status, _) = hub.post(&hub.alice, "/v1/notifications", payload).await;
            assert_eq!(status, 200);
            if store.users_listening() == 0 {
                return i;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        unreachable!()
    })
    .await
    .expect("the feed of a client that reads nothing is closed");
    assert!(dropped > 0, "closed after {dropped} sends");
}

#[tokio::test]
async fn shutdown_closes_open_connections_promptly() {
    let store = Store::open_in_memory().unwrap();
    store.add_user("bob").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = herald_hub::HubConfig {
        connections: herald_hub::serve::ConnLimits {
            header_timeout: Duration::from_secs(300),
            unauthenticated_per_address: 64,
            ..tight().connections
        },
        ..herald_hub::HubConfig::default()
    };
    let serving = tokio::spawn(herald_hub::run_with(listener, store, config, async move {
        let _ = stopped.await;
    }));
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost").await.unwrap();
    // The hub has taken them all (a full request on one more proves the accept loop got there).
    let mut probe = TcpStream::connect(addr).await.unwrap();
    probe.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 128];
    assert!(probe.read(&mut buf).await.unwrap() > 0);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the hub ended within 10 s with connections open")
        .unwrap()
        .unwrap();
    for socket in held.iter_mut().chain([&mut half]) {
        until_closed(socket).await;
    }
}

#[tokio::test]
async fn callback_urls_with_credentials_or_at_metadata_addresses_are_refused() {
    let hub = start().await;
    let admin = hub.store.add_admin_token().await.unwrap();
    let mint = |url: &str| {
        let body = json!({"app": "erp", "callback_url": url}).to_string();
        let hub = &hub;
        let admin = admin.clone();
        async move { hub.post(&admin, "/v1/admin/tokens", body).await }
    };
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/cb",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "https://user:secret@erp.example/cb",
    ] {
        let (status, body) = mint(url).await;
        assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{url}: {body}");
        assert!(body["message"].as_str().unwrap().contains("--allow-private-callbacks"), "{body}");
    }
    // The organisation's own network stays allowed.
    for url in ["http://127.0.0.1:9/cb", "http://10.1.2.3/cb", "https://erp.example/cb"] {
        let (status, body) = mint(url).await;
        assert_eq!(status, 201, "{url}: {body}");
    }
    // An admin who means it says so when starting the hub.
    let hub = start_configured(
        Store::open_in_memory().unwrap(),
        herald_hub::HubConfig { allow_private_callbacks: true, ..herald_hub::HubConfig::default() },
    )
    .await;
    let admin = hub.store.add_admin_token().await.unwrap();
    let body = json!({"app": "erp", "callback_url": "http://169.254.169.254/"}).to_string();
    assert_eq!(hub.post(&admin, "/v1/admin/tokens", body).await.0, 201);
}

#[tokio::test]
async fn a_token_minted_under_an_idempotency_key_is_never_kept_nor_given_to_another_admin() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_with(Store::open(dir.path()).unwrap()).await;
    let (first_admin, second_admin) =
        (hub.store.add_admin_token().await.unwrap(), hub.store.add_admin_token().await.unwrap());
    let mint = |admin: &str| {
        hub.client
            .post(format!("{}/v1/admin/tokens", hub.base))
            .bearer_auth(admin)
            .header("idempotency-key", "mint-erp")
            .json(&json!({"app": "erp"}))
            .send()
    };
    let first: Value = mint(&first_admin).await.unwrap().json().await.unwrap();
    let token = first["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("hrld_"));
    let again = mint(&first_admin).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["token"], Value::Null, "the replay does not show the token again: {again}");
    assert!(again["note"].as_str().unwrap().contains("shown only"), "{again}");
    // Another admin's same key is their own request: a new token, never the first one.
    let other: Value = mint(&second_admin).await.unwrap().json().await.unwrap();
    let other = other["token"].as_str().unwrap();
    assert!(other.starts_with("hrld_") && other != token);
    // Nothing in the database is a usable token.
    let db = rusqlite::Connection::open(dir.path().join("hub.sqlite3")).unwrap();
    let kept: Vec<Vec<u8>> = db
        .prepare("SELECT response FROM idempotency_keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|r| !String::from_utf8_lossy(r).contains("hrld_")), "a token at rest");
}

#[tokio::test]
async fn an_event_naming_one_recipient_thousands_of_times_is_rendered_once() {
    let hub = start().await;
    hub.store.add_user("sc-7").await.unwrap();
    let app = hub.store.add_app_token("community", None).await.unwrap();
    let events: Vec<Value> = serde_json::from_str(include_str!("fixtures/selfcommunity_events.json")).unwrap();
    let mut event = events.into_iter().find(|e| e["type"] == "notification.private_message").unwrap();
    event["data"]["recipients"] = Value::Array(vec![json!(7); 25_000]);
    let body = event.to_string();
    assert!(body.len() < MAX_BODY_BYTES, "{} bytes", body.len());
    // 25,000 renderings of a 50 KB envelope each took seconds before (quadratic): now one.
    let ingest = hub.post(&app, "/v1/ingest/selfcommunity", body);
    let (status, answer) = tokio::time::timeout(Duration::from_secs(20), ingest).await.expect("rendered within 20 s");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ids"].as_array().unwrap().len(), 1, "one notification for one recipient");
}

#[tokio::test]
async fn control_characters_in_a_notification_are_spaces_in_its_text_and_refused_in_its_names() {
    let hub = start().await;
    let text =
        json!({"to": {"user": "bob"}, "subject": "Approve\u{0}PO\nforged\u{1b}[31m", "body": "beep\u{7}\ntwo\tcols"});
    let (status, answer) = hub.post(&hub.alice, "/v1/notifications", text.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(page["items"][0]["subject"], "Approve PO forged [31m");
    assert_eq!(page["items"][0]["body"], "beep \ntwo\tcols", "the body keeps line breaks and tabs");
    for (field, value) in [("tag", "po\u{1b}[31m"), ("sub_tag", "a\u{85}b"), ("type", "task.\u{0}due")] {
        let mut body = json!({"to": {"user": "bob"}, "subject": "s"});
        body[field] = value.into();
        let (status, answer) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
        assert_eq!((status, code(&answer)), (400, ErrorCode::InvalidRequest), "{field} {value:?}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("control character"), "{answer}");
    }
}
