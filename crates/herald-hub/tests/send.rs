//! Sending: audiences, every field, same-tag replacement, Idempotency-Key.

mod common;

use common::*;

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
        async move { hub.post(&hub.app, "/v1/notifications", body).await }
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
async fn every_field_is_stored_and_a_same_tag_notification_replaces_the_earlier_one() {
    let hub = start().await;
    let full = json!({
        "to": {"user": "bob"}, "type": "general", "subject": "PO-42 needs approval", "body": "12 400 EUR",
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

    // Another sender reusing the tag adds a notification; it cannot wipe alice's.
    let (_, _) = hub
        .post(
            &hub.bob,
            "/v1/notifications",
            json!({"to": {"user": "bob"}, "subject": "mine", "tag": "po-42"}).to_string(),
        )
        .await;
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    let subjects: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["mine", "PO-42 approved"]);

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
async fn a_request_applied_before_the_hub_stopped_is_not_applied_again_by_its_retry() {
    // Found by the chaos test: a hub killed between a send's commit and keeping its answer
    // applied the retry a second time. The send's own transaction now records the key.
    use herald_hub::store::{Applying, APPLYING};
    use sha2::{Digest, Sha256};
    let hub = start().await;
    let app = hub.store.add_app_token("erp", None).await.unwrap();
    let body = json!({"to": {"user": "bob"}, "subject": "once"}).to_string();
    let request_hash =
        Sha256::new().chain_update("POST").chain_update("/v1/notifications").chain_update(&body).finalize().to_vec();
    // What the send did before the hub stopped: its write, under its key, and no answer kept.
    let bob = hub.store.user_by_name("bob").await.unwrap().unwrap();
    let applying = Applying { principal: "app:erp".into(), key: "k-lost".into(), request_hash };
    APPLYING.scope(applying, hub.store.deliver(vec![bob.id], NewNotification::new("once"))).await.unwrap();

    let retry = hub
        .client
        .post(format!("{}/v1/notifications", hub.base))
        .bearer_auth(&app)
        .header("idempotency-key", "k-lost")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = retry.status().as_u16();
    let got: Value = retry.json().await.unwrap();
    assert_eq!((status, code(&got)), (409, ErrorCode::AnswerLost), "{got}");
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "applied once: {page}");
}

#[tokio::test]
async fn apps_and_admins_send_system_notifications_but_have_no_inbox() {
    let hub = start().await;
    let app = hub.store.add_app_token("erp", None).await.unwrap();
    let admin = hub.store.add_admin_token().await.unwrap();
    for token in [&app, &admin] {
        let body = json!({"to": {"user": "bob"}, "subject": "System maintenance tonight"}).to_string();
        let (status, _) = hub.post(token, "/v1/notifications", body).await;
        assert_eq!(status, 200);
        let (status, got) = hub.get(token, "/v1/notifications").await;
        assert_eq!((status, code(&got)), (403, ErrorCode::Forbidden), "an app has no inbox of its own");
    }
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    let senders: Vec<Value> = page["items"].as_array().unwrap().iter().map(|n| n["sender"].clone()).collect();
    assert_eq!(senders, [Value::Null, Value::Null], "system notifications name no user");
    let (status, got) = hub.post(&app, "/v1/notifications/read-all", "").await;
    assert_eq!((status, code(&got)), (403, ErrorCode::Forbidden));
}

#[tokio::test]
async fn everyone_is_for_apps_only() {
    let hub = start().await;
    let app = hub.store.add_app_token("ops", None).await.unwrap();
    let body = json!({"to": {"everyone": true}, "subject": "Maintenance at 18:00", "priority": "critical"}).to_string();
    let (status, got) = hub.post(&hub.alice, "/v1/notifications", body.clone()).await;
    assert_eq!((status, code(&got)), (403, ErrorCode::Forbidden));
    let (status, got) = hub.post(&app, "/v1/notifications", body).await;
    assert_eq!((status, got["ids"].as_array().unwrap().len()), (200, 2), "alice and bob");
    let (status, got) =
        hub.post(&app, "/v1/notifications", json!({"to": {"everyone": false}, "subject": "x"}).to_string()).await;
    assert_eq!((status, code(&got)), (400, ErrorCode::MissingRecipient));
}

#[tokio::test]
async fn an_expired_notification_is_deleted_and_the_feed_says_so() {
    let hub = start().await;
    let mut feed = hub.feed(&hub.bob, 0).await;
    assert!(matches!(next_frame(&mut feed).await, FeedFrame::CaughtUp { .. }));
    let soon = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(300);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (status, body) = hub
        .post(
            &hub.alice,
            "/v1/notifications",
            json!({"to": {"user": "bob"}, "subject": "Stand-up starts now", "expires_at": soon}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["ids"][0].as_i64().unwrap();
    let FeedFrame::Change(created) = next_frame(&mut feed).await else { panic!("expected the creation") };
    assert!(matches!(created.kind, ChangeKind::Created { notification } if notification.expires_at.is_some()));
    // The sweeper deletes it once its time has passed; the feed carries the deletion.
    let FeedFrame::Change(deleted) = next_frame(&mut feed).await else { panic!("expected the deletion") };
    assert_eq!(deleted.kind, ChangeKind::Deleted { ids: vec![id] });
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(inbox["items"], json!([]));

    for (bad, why) in [
        ("2020-01-01T00:00:00Z", "past"),
        ("tomorrow", "not a time"),
        ("9999-12-31T23:59:59-01:00", "year 10000 in UTC"),
    ] {
        let (status, body) = hub
            .post(
                &hub.alice,
                "/v1/notifications",
                json!({"to": {"user": "bob"}, "subject": "s", "expires_at": bad}).to_string(),
            )
            .await;
        assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{why}");
    }
}
