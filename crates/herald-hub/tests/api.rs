//! The hub's HTTP basics over real sockets: health, send and list, errors, auth, read state.

mod common;

use common::*;

#[tokio::test]
async fn health_answers_without_a_token() {
    let hub = start().await;
    let res = reqwest::get(format!("{}/healthz", hub.base)).await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_sent_notification_is_listed_for_its_recipient_only_newest_first() {
    let hub = start().await;
    let first = hub.send_to("bob", "PO-42 needs your approval").await;
    let second = hub.send_to("bob", "Task due in 10 minutes").await;

    let (status, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = page["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [second, first]);
    assert_eq!(page["items"][0]["subject"], "Task due in 10 minutes");
    assert_eq!(page["items"][0]["read"], false);
    assert_eq!(page["next"], Value::Null);

    let (_, alices) = hub.get(&hub.alice, "/v1/notifications").await;
    assert_eq!(alices["items"].as_array().unwrap().len(), 0, "alice sent them but does not receive them");
}

#[tokio::test]
async fn pages_follow_the_next_cursor_without_gaps_or_repeats() {
    let hub = start().await;
    for i in 0..5 {
        hub.send_to("bob", &format!("n{i}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/notifications?limit=2".to_string();
    loop {
        let (_, page) = hub.get(&hub.bob, &path).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/notifications?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["n4", "n3", "n2", "n1", "n0"]);
}

#[tokio::test]
async fn bad_requests_get_a_code_and_a_message() {
    let hub = start().await;
    let cases: &[(&str, u16, ErrorCode)] = &[
        ("{not json", 400, ErrorCode::InvalidJson),
        (r#"{"subject": "no recipient"}"#, 400, ErrorCode::MissingRecipient),
        (r#"{"to": null, "subject": "null recipient"}"#, 400, ErrorCode::MissingRecipient),
        (r#"{"to": {"user": "alice"}}"#, 400, ErrorCode::InvalidRequest),
        (r#"{"to": {"user": "alice"}, "subject": "   "}"#, 400, ErrorCode::InvalidRequest),
        (r#"{"to": {"galaxy": "far"}, "subject": "x"}"#, 400, ErrorCode::InvalidRequest),
        (r#"{"to": {"user": "nobody"}, "subject": "x"}"#, 404, ErrorCode::UnknownRecipient),
    ];
    for (body, status, expected) in cases {
        let (got_status, got) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
        assert_eq!((got_status, code(&got)), (*status, *expected), "for {body}: {got}");
        assert!(!got["message"].as_str().unwrap().is_empty());
    }
    let (_, bobs) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(bobs["items"].as_array().unwrap().len(), 0, "nothing was stored by a bad request");
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413() {
    let hub = start().await;
    let body = json!({"to": {"user": "bob"}, "subject": "big", "body": "x".repeat(MAX_BODY_BYTES)}).to_string();
    let (status, got) = hub.post(&hub.alice, "/v1/notifications", body).await;
    assert_eq!((status, code(&got)), (413, ErrorCode::PayloadTooLarge));
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let config = herald_hub::HubConfig { max_body_bytes: 1024, ..Default::default() };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    let send = |size: usize| {
        let body = json!({"to": {"user": "bob"}, "subject": "s", "body": "x".repeat(size)}).to_string();
        let hub = &hub;
        async move { hub.post(&hub.alice, "/v1/notifications", body).await }
    };
    assert_eq!(send(500).await.0, 200);
    let (status, got) = send(2000).await;
    assert_eq!((status, code(&got)), (413, ErrorCode::PayloadTooLarge));
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "the refused one was not stored");
}

#[tokio::test]
async fn missing_or_wrong_tokens_get_401() {
    let hub = start().await;
    let body = json!({"to": {"user": "bob"}, "subject": "x"}).to_string();
    let (status, got) = hub.post("hrld_wrong", "/v1/notifications", body.clone()).await;
    assert_eq!((status, code(&got)), (401, ErrorCode::Unauthorized));
    let res = hub.client.get(format!("{}/v1/notifications", hub.base)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = hub.client.get(format!("{}/v1/feed", hub.base)).header("upgrade", "websocket").send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let hub = start().await;
    let (status, got) = hub.get(&hub.bob, "/v1/nothing-here").await;
    assert_eq!((status, code(&got)), (404, ErrorCode::NotFound));
}

#[tokio::test]
async fn errors_axum_writes_itself_are_code_and_message_too() {
    // Found by schemathesis and fuzzing: these were plain text or empty bodies.
    let hub = start().await;
    for (method, path, expected) in [
        ("PATCH", "/v1/notifications", (405, ErrorCode::MethodNotAllowed)),
        ("GET", "/v1/notifications/read", (405, ErrorCode::MethodNotAllowed)),
        ("GET", "/v1/changes?since=9223372036854775808", (400, ErrorCode::InvalidRequest)),
        ("GET", "/v1/notifications?unread=null", (400, ErrorCode::InvalidRequest)),
        ("POST", "/v1/notifications/1/read?only_current=maybe", (400, ErrorCode::InvalidRequest)),
        ("GET", "/v1/feed", (400, ErrorCode::InvalidRequest)),
    ] {
        let (status, got) = hub.call(method, &hub.bob, path, None).await;
        assert_eq!((status, code(&got)), expected, "{method} {path}: {got}");
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()), "{got}");
    }
    // Only the body changes: a 405 still names the methods the route takes.
    let response =
        hub.client.patch(format!("{}/v1/notifications", hub.base)).bearer_auth(&hub.bob).send().await.unwrap();
    let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "Allow: {allow:?}");
}

#[tokio::test]
async fn mark_read_is_per_user_and_listed() {
    let hub = start().await;
    let id = hub.send_to("bob", "read me").await;
    let (status, got) =
        hub.post(&hub.alice, "/v1/notifications/read", json!({"ids": [id], "read": true}).to_string()).await;
    assert_eq!((status, got["changed"].as_i64()), (200, Some(0)), "alice cannot read bob's notification");
    let (_, got) = hub.post(&hub.bob, "/v1/notifications/read", json!({"ids": [id], "read": true}).to_string()).await;
    assert_eq!(got["changed"], 1);
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(page["items"][0]["read"], true);
}

#[tokio::test]
async fn each_token_has_its_own_rate_limit_with_retry_after() {
    let store = Store::open_in_memory().unwrap();
    let (_, ann) = store.add_user("ann").await.unwrap();
    let (_, bob) = store.add_user("bob").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Three at once, then one every 10 s: the fourth right away must wait.
    let limit = herald_hub::RateLimit { per_second: 0.1, burst: 3.0 };
    let config = herald_hub::HubConfig { rate_limit: Some(limit), ..Default::default() };
    tokio::spawn(herald_hub::run_with(listener, store, config, std::future::pending()));
    let client = reqwest::Client::new();
    let get = |token: &str| client.get(format!("{base}/v1/notifications")).bearer_auth(token).send();
    for _ in 0..3 {
        assert_eq!(get(&ann).await.unwrap().status(), 200);
    }
    let limited = get(&ann).await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert_eq!(code(&limited.json().await.unwrap()), ErrorCode::RateLimited);
    let respaced =
        client.get(format!("{base}/v1/notifications")).header("authorization", format!("Bearer   {ann} ")).send();
    assert_eq!(respaced.await.unwrap().status(), 429, "spacing the header differently is the same token");
    assert_eq!(get(&bob).await.unwrap().status(), 200, "another token is not affected");
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "health is never limited");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let hub = start().await;
    let res = hub.client.get(format!("{}/v1/openapi.json", hub.base)).send().await.unwrap();
    assert_eq!(res.status(), 200, "public, like the API's shape");
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'), "{}", doc["openapi"]);
    let documented = |path: &str, method: &str| doc["paths"][path][method].is_object();
    for (method, path) in [
        ("post", "/v1/notifications"),
        ("get", "/v1/notifications"),
        ("delete", "/v1/notifications"),
        ("post", "/v1/notifications/read"),
        ("post", "/v1/notifications/read-all"),
        ("post", "/v1/notifications/{id}/read"),
        ("delete", "/v1/notifications/{id}"),
        ("post", "/v1/notifications/{id}/confirm"),
        ("post", "/v1/notifications/{id}/answer"),
        ("post", "/v1/events"),
        ("post", "/v1/events/{id}/respond"),
        ("get", "/v1/changes"),
        ("get", "/v1/feed"),
        ("get", "/v1/schema"),
        ("get", "/v1/preferences"),
        ("put", "/v1/preferences"),
        ("post", "/v1/ingest/{source}"),
        ("get", "/v1/admin/users"),
        ("post", "/v1/admin/users"),
        ("delete", "/v1/admin/users/{name}"),
        ("put", "/v1/admin/users/{name}/roles/{role}"),
        ("delete", "/v1/admin/users/{name}/roles/{role}"),
        ("post", "/v1/admin/users/{name}/follows"),
        ("delete", "/v1/admin/users/{name}/follows/{type}/{id}"),
        ("put", "/v1/admin/organizations/{org}/members/{name}"),
        ("delete", "/v1/admin/organizations/{org}/members/{name}"),
        ("post", "/v1/admin/tokens"),
        ("get", "/v1/admin/roles/{role}/preferences"),
        ("put", "/v1/admin/roles/{role}/preferences"),
        ("get", "/v1/admin/stats"),
    ] {
        assert!(documented(path, method), "{method} {path} is not documented");
    }
    let send = &doc["components"]["schemas"]["SendRequest"];
    assert!(send["properties"]["to"].is_object() && send["properties"]["expires_at"].is_object(), "{send}");
    assert!(doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap().contains(&json!("template_error")));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
