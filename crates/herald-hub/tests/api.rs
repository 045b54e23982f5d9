//! The hub's HTTP API and feed, driven over real sockets against a real server on 127.0.0.1:0.

use futures_util::StreamExt;
use herald_hub::store::NewNotification;
use herald_hub::Store;
use herald_proto::{ChangeKind, ErrorCode, FeedFrame, MAX_BODY_BYTES};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

struct Hub {
    base: String,
    client: reqwest::Client,
    alice: String,
    bob: String,
    store: Store,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Hub {
    start_with(Store::open_in_memory().unwrap()).await
}

async fn start_with(store: Store) -> Hub {
    let (_, alice) = store.add_user("alice").await.unwrap();
    let (_, bob) = store.add_user("bob").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(herald_hub::run(listener, store.clone(), async move {
        let _ = stopped.await;
    }));
    Hub { base, client: reqwest::Client::new(), alice, bob, store, _stop: stop }
}

impl Hub {
    async fn post(&self, token: &str, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
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

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let res = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn send_to(&self, user: &str, subject: &str) -> i64 {
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

    async fn feed(
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

/// The next frame after the `hello` every feed starts with.
async fn next_frame(
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

fn code(body: &Value) -> ErrorCode {
    serde_json::from_value(body["code"].clone()).unwrap_or_else(|_| panic!("no error code in {body}"))
}

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
async fn the_feed_replays_from_the_cursor_then_streams_live_changes() {
    let hub = start().await;
    let old = hub.send_to("bob", "before").await;
    let _ = hub.send_to("alice", "not for bob").await;

    let mut feed = hub.feed(&hub.bob, 0).await;
    let Some(Ok(Message::Text(hello))) = feed.next().await else { panic!("expected a hello") };
    let FeedFrame::Hello { hub_id, .. } = serde_json::from_str(&hello).unwrap() else {
        panic!("hello comes first: {hello}")
    };
    assert_eq!(hub_id.len(), 32);
    let FeedFrame::Change(first) = next_frame(&mut feed).await else { panic!("expected the backlog first") };
    assert!(matches!(&first.kind, ChangeKind::Created { notification } if notification.id == old));
    let FeedFrame::CaughtUp { seq } = next_frame(&mut feed).await else { panic!("expected caught_up") };
    assert_eq!(seq, first.seq);

    let live = hub.send_to("bob", "live one").await;
    let FeedFrame::Change(change) = next_frame(&mut feed).await else { panic!("expected a live change") };
    assert!(change.seq > seq);
    assert!(
        matches!(&change.kind, ChangeKind::Created { notification } if notification.id == live && notification.subject == "live one")
    );

    // Reconnecting from the latest cursor replays nothing already seen.
    let mut again = hub.feed(&hub.bob, change.seq).await;
    assert_eq!(next_frame(&mut again).await, FeedFrame::CaughtUp { seq: change.seq });
}

#[tokio::test]
async fn a_cursor_from_another_hub_is_refused_so_the_client_can_resync() {
    let hub = start().await;
    hub.send_to("bob", "only one").await;
    let mut feed = hub.feed(&hub.bob, 999).await;
    let FeedFrame::Error(error) = next_frame(&mut feed).await else { panic!("expected an error frame") };
    assert_eq!(error.code, ErrorCode::CursorAhead);
}

#[tokio::test]
async fn a_feed_that_falls_behind_the_bus_still_gets_every_change_once_in_order() {
    // A bus of one: a burst of 200 changes overruns it, so the feed must re-read the log.
    let hub = start_with(Store::open_in_memory().unwrap().with_bus_capacity(1)).await;
    let mut feed = hub.feed(&hub.bob, 0).await;
    assert_eq!(next_frame(&mut feed).await, FeedFrame::CaughtUp { seq: 0 });
    // One delivery to bob 200 times over announces 200 changes back to back.
    let bob = hub.store.user_by_name("bob").await.unwrap().unwrap();
    let burst = NewNotification::new("burst");
    let sent: Vec<i64> = hub.store.deliver(vec![bob.id; 200], burst).await.unwrap().iter().map(|n| n.id).collect();
    let mut received = Vec::new();
    let mut last_seq = 0;
    while received.len() < sent.len() {
        let FeedFrame::Change(change) = next_frame(&mut feed).await else { panic!("expected changes only") };
        assert!(change.seq > last_seq, "in order, no repeats");
        last_seq = change.seq;
        if let ChangeKind::Created { notification } = change.kind {
            received.push(notification.id);
        }
    }
    assert_eq!(received, sent);
}

#[tokio::test]
async fn a_send_reaches_a_role_an_organisation_followers_or_a_list_once_each() {
    let hub = start().await;
    for name in ["ann", "cy"] {
        hub.store.add_user(name).await.unwrap();
    }
    // The API shows each caller only their own inbox, so other users' inboxes are read from the store.
    let id_of = |name: &'static str| {
        let store = hub.store.clone();
        async move { store.user_by_name(name).await.unwrap().unwrap().id }
    };
    hub.store.grant_role("ann", "finance").await.unwrap();
    hub.store.grant_role("cy", "finance").await.unwrap();
    hub.store.add_org_member("acme", "bob").await.unwrap();
    hub.store.add_org_member("acme", "cy").await.unwrap();
    let post = herald_hub::store::ObjectRef { kind: "blog.post".into(), id: "42".into() };
    hub.store.set_follow("bob", post, true).await.unwrap();

    let send = |to: Value| {
        let body = json!({"to": to, "subject": "s"}).to_string();
        let hub = &hub;
        async move { hub.post(&hub.alice, "/v1/notifications", body).await }
    };
    let inbox_size = |id: i64| {
        let store = hub.store.clone();
        async move { store.list(id, None, 100).await.unwrap().0.len() }
    };
    let (ann, bob, cy) = (id_of("ann").await, id_of("bob").await, id_of("cy").await);

    let (status, body) = send(json!({"role": "finance"})).await;
    assert_eq!((status, body["ids"].as_array().unwrap().len()), (200, 2), "{body}");
    let (_, body) = send(json!({"organization": "acme"})).await;
    assert_eq!(body["ids"].as_array().unwrap().len(), 2);
    let (_, body) = send(json!({"followers_of": {"type": "blog.post", "id": "42"}})).await;
    assert_eq!(body["ids"].as_array().unwrap().len(), 1);
    let (_, body) = send(json!({"users": ["cy", "ann", "cy"]})).await;
    assert_eq!(body["ids"].as_array().unwrap().len(), 2, "a repeated name gets one notification");
    assert_eq!((inbox_size(ann).await, inbox_size(bob).await, inbox_size(cy).await), (2, 2, 3));

    // Nobody in the role: sent to nobody, not an error.
    let (status, body) = send(json!({"role": "astronauts"})).await;
    assert_eq!((status, body["ids"].clone()), (200, json!([])));

    // A list naming a stranger stores nothing for anyone.
    let (status, body) = send(json!({"users": ["ann", "zed"]})).await;
    assert_eq!((status, code(&body)), (404, ErrorCode::UnknownRecipient));
    assert!(body["message"].as_str().unwrap().contains("zed"));
    assert_eq!(inbox_size(ann).await, 2);
    let (status, body) = send(json!({"users": []})).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::MissingRecipient));
}

#[tokio::test]
async fn read_one_read_newer_read_all_and_delete_follow_seed_003() {
    let hub = start().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(hub.send_to("bob", &format!("n{i}")).await);
    }
    let read_states = || async {
        let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
        page["items"].as_array().unwrap().iter().map(|n| n["read"].as_bool().unwrap()).collect::<Vec<_>>()
    };
    let (status, body) = hub.post(&hub.bob, &format!("/v1/notifications/{}/read?only_current=true", ids[0]), "").await;
    assert_eq!((status, body["changed"].as_i64()), (200, Some(1)));
    let (_, body) = hub.post(&hub.bob, &format!("/v1/notifications/{}/read", ids[2]), "").await;
    assert_eq!(body["changed"], 2, "without only_current, every newer one too");
    assert_eq!(read_states().await, [true, true, false, true]);
    let (_, body) = hub.post(&hub.alice, "/v1/notifications/read-all", "").await;
    assert_eq!(body["changed"], 0, "alice has none of bob's");
    let (_, body) = hub.post(&hub.bob, "/v1/notifications/read-all", "").await;
    assert_eq!(body["changed"], 1);

    let delete = |token: &str, path: String| {
        let request = hub.client.delete(format!("{}{path}", hub.base)).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(delete(&hub.alice, format!("/v1/notifications/{}", ids[3])).await, 404, "not alice's");
    assert_eq!(delete(&hub.bob, format!("/v1/notifications/{}", ids[3])).await, 204);
    assert_eq!(delete(&hub.bob, format!("/v1/notifications/{}", ids[3])).await, 404, "already gone");
    assert_eq!(delete(&hub.bob, "/v1/notifications/abc".into()).await, 400);
    assert_eq!(read_states().await.len(), 3);

    // The feed tells clients to drop it.
    let mut feed = hub.feed(&hub.bob, 0).await;
    let mut last = None;
    loop {
        match next_frame(&mut feed).await {
            FeedFrame::Change(change) => last = Some(change.kind),
            FeedFrame::CaughtUp { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(last, Some(ChangeKind::Deleted { ids: vec![ids[3]] }));
}

#[tokio::test]
async fn every_field_is_stored_and_a_same_tag_notification_replaces_the_earlier_one() {
    let hub = start().await;
    let full = json!({
        "to": {"user": "bob"}, "type": "purchase.approval", "subject": "PO-42 needs approval", "body": "12 400 EUR",
        "link": "/po/42", "tag": "po-42", "sub_tag": "approval", "priority": "high",
        "object": {"type": "purchase.order", "id": "42"}
    });
    let (status, first) = hub.post(&hub.alice, "/v1/notifications", full.to_string()).await;
    assert_eq!(status, 200, "{first}");
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    let stored = &page["items"][0];
    for field in ["type", "subject", "body", "link", "tag", "sub_tag", "priority", "object"] {
        assert_eq!(stored[field], full[field], "{field}");
    }
    assert_eq!(stored["sender"], "alice", "a user's send is personal: it names the sender");

    // Same tag, same recipient: the new one replaces the old one, and the feed says so.
    let mut update = full.clone();
    update["subject"] = json!("PO-42 approved");
    let (_, second) = hub.post(&hub.alice, "/v1/notifications", update.to_string()).await;
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    let subjects: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["PO-42 approved"]);
    let mut feed = hub.feed(&hub.bob, 0).await;
    let mut kinds = Vec::new();
    while let FeedFrame::Change(change) = next_frame(&mut feed).await {
        kinds.push(change.kind);
    }
    assert!(
        matches!(&kinds[1], ChangeKind::Deleted { ids } if *ids == [first["ids"][0].as_i64().unwrap()]),
        "{kinds:?}"
    );
    assert!(
        matches!(&kinds[2], ChangeKind::Created { notification } if notification.id == second["ids"][0].as_i64().unwrap())
    );

    // Defaults, and a type that is not `module.name`.
    hub.send_to("bob", "plain").await;
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(
        (page["items"][0]["type"].clone(), page["items"][0]["priority"].clone()),
        (json!("general"), json!("normal"))
    );
    for bad in [json!({"type": "Not A Type"}), json!({"type": "social..reply"}), json!({"priority": "urgent"})] {
        let mut body = json!({"to": {"user": "bob"}, "subject": "x"});
        body.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        let (status, got) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
        assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "{bad}");
    }
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_answer_and_applies_nothing_twice() {
    let hub = start().await;
    let post = |token: &str, key: &str, body: Value| {
        let request = hub
            .client
            .post(format!("{}/v1/notifications", hub.base))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (response.status().as_u16(), replayed, response.json::<Value>().await.unwrap())
        }
    };
    let body = json!({"to": {"user": "bob"}, "subject": "once"});
    let (status, replayed, first) = post(&hub.alice, "k-1", body.clone()).await;
    assert_eq!((status, replayed), (200, false));
    let (status, replayed, again) = post(&hub.alice, "k-1", body.clone()).await;
    assert_eq!((status, replayed, &again), (200, true, &first), "the first answer, again");
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "applied once");

    // The same key for another request is refused; another user's same key is theirs alone.
    let (status, _, got) = post(&hub.alice, "k-1", json!({"to": {"user": "bob"}, "subject": "other"})).await;
    assert_eq!((status, code(&got)), (422, ErrorCode::IdempotencyKeyReused));
    let (status, replayed, _) = post(&hub.bob, "k-1", body.clone()).await;
    assert_eq!((status, replayed), (200, false));

    // A failure is not kept: retrying it runs it again.
    let to_nobody = json!({"to": {"user": "nobody"}, "subject": "x"});
    assert_eq!(post(&hub.alice, "k-2", to_nobody.clone()).await.0, 404);
    let (status, replayed, _) = post(&hub.alice, "k-2", to_nobody).await;
    assert_eq!((status, replayed), (404, false));
}

#[tokio::test]
async fn the_list_filters_by_state_type_module_tag_time_and_words() {
    let hub = start().await;
    let send = |body: Value| {
        let hub = &hub;
        async move {
            let mut full = json!({"to": {"user": "bob"}});
            full.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
            hub.post(&hub.alice, "/v1/notifications", full.to_string()).await.1["ids"][0].as_i64().unwrap()
        }
    };
    send(json!({"subject": "Ann replied to your comment", "type": "social.reply"})).await;
    let po = send(
        json!({"subject": "PO-42", "body": "Approve the purchase order", "type": "purchase.approval", "tag": "po"}),
    )
    .await;
    send(json!({"subject": "Café opens", "type": "social"})).await;
    hub.post(&hub.bob, &format!("/v1/notifications/{po}/read?only_current=true"), "").await;

    let subjects = |query: &'static str| {
        let hub = &hub;
        async move {
            let (status, page) = hub.get(&hub.bob, &format!("/v1/notifications?{query}")).await;
            assert_eq!(status, 200, "{query}: {page}");
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["subject"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(subjects("unread=true").await, ["Café opens", "Ann replied to your comment"]);
    assert_eq!(subjects("unread=false").await, ["PO-42"]);
    assert_eq!(subjects("module=social").await, ["Café opens", "Ann replied to your comment"]);
    assert_eq!(subjects("type=purchase.approval").await, ["PO-42"]);
    assert_eq!(subjects("tag=po").await, ["PO-42"]);
    assert_eq!(subjects("q=purch%20ord").await, ["PO-42"]);
    assert_eq!(subjects("q=cafe").await, ["Café opens"], "diacritics do not matter");
    assert_eq!(subjects("q=replied&module=purchase").await, Vec::<String>::new());
    assert_eq!(subjects("from=2000-01-01T00:00:00%2B02:00&to=2999-01-01T00:00:00Z").await.len(), 3);
    assert!(subjects("from=2999-01-01T00:00:00Z").await.is_empty());
    let (_, alices) = hub.get(&hub.alice, "/v1/notifications?q=purchase").await;
    assert!(alices["items"].as_array().unwrap().is_empty(), "search covers only the caller's own");
    let (status, got) = hub.get(&hub.bob, "/v1/notifications?from=yesterday").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest));
}
