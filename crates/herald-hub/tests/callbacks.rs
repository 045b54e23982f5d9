//! Answers reach the sender: the sending app's callback URL (retried with backoff, never making
//! the user's request wait) or, for a personal notification, the sending user's inbox and feed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;

async fn fast_retry_hub() -> Hub {
    let config = herald_hub::HubConfig { callback_retry_base: Duration::from_millis(20), ..Default::default() };
    start_configured(Store::open_in_memory().unwrap(), config).await
}

#[tokio::test]
async fn an_apps_callback_gets_the_answer_retried_until_accepted_without_holding_up_the_user() {
    let hub = fast_retry_hub().await;
    let gate = Arc::new(tokio::sync::Notify::new());
    // The first try hangs until the user's request is done; then two failures; then success.
    let mut app_side = callback_server(vec![500, 503], Some(gate.clone())).await;
    let erp = hub.store.add_app_token("erp", Some(&app_side.url)).await.unwrap();
    let body = json!({
        "to": {"user": "bob"}, "type": "purchase.approval", "subject": "Approve PO-42?",
        "object": {"type": "purchase.order", "id": "42"}, "tag": "po-42",
        "buttons": [{"value": "Y", "label": "Approve", "style": "accept"}, {"value": "N", "label": "Reject", "style": "cancel"}]
    });
    let (_, sent) = hub.post(&erp, "/v1/notifications", body.to_string()).await;
    let id = sent["ids"][0].as_i64().unwrap();

    let (status, _) =
        hub.post(&hub.bob, &format!("/v1/notifications/{id}/confirm"), json!({"value": "Y"}).to_string()).await;
    assert_eq!(status, 200, "answered while the app is still hanging");
    gate.notify_one();

    let mut keys = Vec::new();
    for _ in 0..3 {
        let (headers, payload, raw) = app_side.next().await;
        keys.push(headers["idempotency-key"].to_str().unwrap().to_owned());
        // Signed with the SHA-256 of the app's own token, over "<t>.<body>".
        let signed = headers["herald-signature"].to_str().unwrap();
        let t: u64 = signed.strip_prefix("t=").unwrap().split(',').next().unwrap().parse().unwrap();
        let key = <sha2::Sha256 as sha2::Digest>::digest(erp.as_bytes());
        assert_eq!(signed, herald_hub::callbacks::signature(&key, &raw, t));
        assert_eq!(payload["type"], "notification.answered");
        assert_eq!(payload["user"], "bob");
        assert_eq!(payload["answer"]["value"], "Y");
        assert_eq!(payload["notification"]["id"], id);
        assert_eq!(payload["notification"]["object"], json!({"type": "purchase.order", "id": "42"}));
        assert_eq!(payload["notification"]["tag"], "po-42");
    }
    assert!(keys.iter().all(|k| *k == keys[0]), "every try carries the same key: {keys:?}");
    // Accepted on the third try: nothing is left to send.
    wait_until_queue_empty(&hub.store).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), app_side.received.recv()).await.is_err(),
        "no fourth try after the app accepted"
    );
}

#[tokio::test]
async fn a_text_answer_to_a_personal_notification_lands_in_the_senders_inbox_and_feed() {
    let hub = start().await;
    let mut alices_feed = hub.feed(&hub.alice, 0).await;
    assert!(matches!(next_frame(&mut alices_feed).await, FeedFrame::CaughtUp { .. }));
    let body = json!({
        "to": {"user": "bob"}, "subject": "Lunch at 12?",
        "reply": {"placeholder": "Your answer"}, "link": "/chat/7"
    });
    let (_, sent) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
    let id = sent["ids"][0].as_i64().unwrap();
    let (status, _) = hub
        .post(&hub.bob, &format!("/v1/notifications/{id}/answer"), json!({"text": "Yes, see you there"}).to_string())
        .await;
    assert_eq!(status, 200);

    let FeedFrame::Change(change) = next_frame(&mut alices_feed).await else { panic!("expected a change") };
    let ChangeKind::Created { notification } = change.kind else { panic!("expected a new notification") };
    assert_eq!(notification.kind, "herald.answer");
    assert_eq!(notification.subject, "bob answered \u{201c}Lunch at 12?\u{201d}");
    assert_eq!(notification.body, "Yes, see you there");
    assert_eq!(notification.sender.as_deref(), Some("bob"));
    assert_eq!(notification.link.as_deref(), Some("/chat/7"));
    let (_, bobs) = hub.get(&hub.bob, "/v1/notifications").await;
    assert!(bobs["items"].as_array().unwrap().iter().all(|n| n["type"] != "herald.answer"), "only the sender is told");
}

#[tokio::test]
async fn an_answer_never_reaches_a_new_account_that_took_the_senders_name() {
    let hub = start().await;
    let body = json!({"to": {"user": "bob"}, "subject": "Lunch?", "reply": {"placeholder": "…"}});
    let (_, sent) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
    let id = sent["ids"][0].as_i64().unwrap();
    hub.store.remove_user("alice").await.unwrap();
    // Stored times have millisecond resolution: make sure the new account is visibly younger.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (_, new_alice) = hub.store.add_user("alice").await.unwrap();
    let (status, _) =
        hub.post(&hub.bob, &format!("/v1/notifications/{id}/answer"), json!({"text": "Yes"}).to_string()).await;
    assert_eq!(status, 200);
    let (_, inbox) = hub.get(&new_alice, "/v1/notifications").await;
    assert_eq!(inbox["items"], json!([]), "not the new alice's answer");
}

#[tokio::test]
async fn an_app_without_a_callback_url_queues_nothing() {
    let hub = fast_retry_hub().await;
    let quiet_app = hub.store.add_app_token("reports", None).await.unwrap();
    let body = json!({"to": {"user": "bob"}, "subject": "OK?", "buttons": [{"value": "Y", "label": "OK"}]});
    let (_, sent) = hub.post(&quiet_app, "/v1/notifications", body.to_string()).await;
    let id = sent["ids"][0].as_i64().unwrap();
    let (status, _) =
        hub.post(&hub.bob, &format!("/v1/notifications/{id}/confirm"), json!({"value": "Y"}).to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(hub.store.next_callback_at(Vec::new()).await.unwrap(), None);
}

/// The queue empties once the app accepted (the worker deletes the row right after the 2xx).
async fn wait_until_queue_empty(store: &Store) {
    for _ in 0..200 {
        if store.next_callback_at(Vec::new()).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the callback queue never emptied");
}

#[tokio::test]
async fn an_app_whose_endpoint_stalls_does_not_delay_another_apps_callbacks() {
    let hub = fast_retry_hub().await;
    let stalled = Arc::new(tokio::sync::Notify::new());
    let mut slow_side = callback_server(vec![], Some(stalled.clone())).await;
    let mut fast_side = callback_server(vec![], None).await;
    let slow = hub.store.add_app_token("slow", Some(&slow_side.url)).await.unwrap();
    let fast = hub.store.add_app_token("fast", Some(&fast_side.url)).await.unwrap();
    let mut ids = Vec::new();
    for app in [&slow, &fast] {
        let body = json!({"to": {"user": "bob"}, "subject": "Approve?", "buttons": [{"value": "Y", "label": "Yes"}]});
        let (_, sent) = hub.post(app, "/v1/notifications", body.to_string()).await;
        ids.push(sent["ids"][0].as_i64().unwrap());
    }
    for id in &ids {
        let (status, _) =
            hub.post(&hub.bob, &format!("/v1/notifications/{id}/confirm"), json!({"value": "Y"}).to_string()).await;
        assert_eq!(status, 200);
    }
    let (_, payload, _) = fast_side.next().await;
    assert_eq!(payload["notification"]["id"], ids[1]);
    assert!(slow_side.received.try_recv().is_err(), "the slow app's endpoint is still stalled meanwhile");
    stalled.notify_one();
    let (_, payload, _) = slow_side.next().await;
    assert_eq!(payload["notification"]["id"], ids[0], "and it gets its own in the end");
}

/// Callback host names resolved from a fixed table: no test may change the machine's DNS.
#[derive(Debug)]
struct Names(Vec<(&'static str, std::net::IpAddr)>);

impl herald_hub::callback_dns::Lookup for Names {
    fn lookup(
        &self,
        host: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<std::net::SocketAddr>>> + Send>> {
        let found: Vec<_> =
            self.0.iter().filter(|(name, _)| *name == host).map(|(_, ip)| std::net::SocketAddr::new(*ip, 0)).collect();
        Box::pin(async move { Ok(found) })
    }
}

#[tokio::test]
async fn a_callback_name_that_resolves_to_a_metadata_address_is_not_posted_to() {
    let names = Names(vec![
        ("erp.corp.test", "127.0.0.1".parse().unwrap()),
        // What a name under an attacker's control can answer at delivery time.
        ("rebound.corp.test", "169.254.169.254".parse().unwrap()),
        ("rebound.corp.test", "fd00:ec2::254".parse().unwrap()),
    ]);
    let config = herald_hub::HubConfig {
        callback_retry_base: Duration::from_secs(3600),
        callback_lookup: Arc::new(names),
        ..Default::default()
    };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    let mut app_side = callback_server(vec![], None).await;
    let port_and_path = app_side.url.rsplit(':').next().unwrap().to_owned();
    let erp = hub.store.add_app_token("erp", Some(&format!("http://erp.corp.test:{port_and_path}"))).await.unwrap();
    let evil =
        hub.store.add_app_token("evil", Some(&format!("http://rebound.corp.test:{port_and_path}"))).await.unwrap();
    for app in [&erp, &evil] {
        let body = json!({"to": {"user": "bob"}, "subject": "Approve?", "buttons": [{"value": "Y", "label": "Yes"}]});
        let (_, sent) = hub.post(app, "/v1/notifications", body.to_string()).await;
        let id = sent["ids"][0].as_i64().unwrap();
        let (status, _) =
            hub.post(&hub.bob, &format!("/v1/notifications/{id}/confirm"), json!({"value": "Y"}).to_string()).await;
        assert_eq!(status, 200);
    }
    let (_, payload, _) = app_side.next().await;
    assert_eq!(payload["user"], "bob", "a name resolving to an ordinary address is posted to");
    let mut failures = Vec::new();
    for _ in 0..500 {
        failures = hub.store.callback_failures("evil").await.unwrap();
        if failures.first().is_some_and(|(tries, _)| *tries > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (tries, error) = &failures[0];
    assert_eq!(*tries, 1, "tried once, and not again for an hour");
    let error = error.as_deref().unwrap();
    assert!(error.contains("resolves only to link-local or cloud metadata addresses"), "{error}");
}
