//! Reading: seed 003's read semantics, delete, list filters and history search.

mod common;

use common::*;

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
async fn the_list_filters_by_state_type_module_tag_time_and_words() {
    let hub = start().await;
    let send = |body: Value| {
        let hub = &hub;
        async move {
            let mut full = json!({"to": {"user": "bob"}});
            full.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
            hub.post(&hub.app, "/v1/notifications", full.to_string()).await.1["ids"][0].as_i64().unwrap()
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
    assert_eq!(subjects("q=purchase%20ord").await, ["PO-42"], "the word being typed is a prefix");
    assert_eq!(subjects("q=purchase%20ord%20").await, Vec::<String>::new(), "a word a space follows is whole");
    assert_eq!(subjects("q=cafe").await, ["Café opens"], "diacritics do not matter");
    assert_eq!(subjects("q=replied&module=purchase").await, Vec::<String>::new());
    assert_eq!(subjects("from=2000-01-01T00:00:00%2B02:00&to=2999-01-01T00:00:00Z").await.len(), 3);
    assert!(subjects("from=2999-01-01T00:00:00Z").await.is_empty());
    let (_, alices) = hub.get(&hub.alice, "/v1/notifications?q=purchase").await;
    assert!(alices["items"].as_array().unwrap().is_empty(), "search covers only the caller's own");
    let (status, got) = hub.get(&hub.bob, "/v1/notifications?from=yesterday").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest));
}

#[tokio::test]
async fn deleting_by_tag_or_sub_tag_removes_only_the_callers_matches() {
    let hub = start().await;
    let send = |to: &str, tag: &str, sub_tag: &str| {
        let body = json!({"to": {"user": to}, "subject": format!("{tag}/{sub_tag}"), "tag": tag, "sub_tag": sub_tag})
            .to_string();
        let hub = &hub;
        async move { hub.post(&hub.alice, "/v1/notifications", body).await }
    };
    send("bob", "order-1", "shipping").await;
    send("bob", "order-2", "shipping").await;
    send("bob", "order-3", "billing").await;
    send("alice", "order-9", "shipping").await;
    let delete = |query: &str| {
        let request = hub.client.delete(format!("{}/v1/notifications?{query}", hub.base)).bearer_auth(&hub.bob);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(delete("sub_tag=shipping").await, (200, json!({"deleted": 2})));
    assert_eq!(delete("tag=order-3").await, (200, json!({"deleted": 1})));
    let (status, got) = delete("").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "a bare DELETE never empties the inbox");
    let (_, alices) = hub.get(&hub.alice, "/v1/notifications").await;
    assert_eq!(alices["items"].as_array().unwrap().len(), 1, "alice's shipping one stays");
}

#[tokio::test]
async fn confirm_first_lists_unanswered_confirm_requests_before_the_rest_across_pages() {
    let hub = start().await;
    let mut sent = Vec::new();
    for i in 0..7 {
        // Every third one asks for a decision.
        let mut body = json!({"to": {"user": "bob"}, "subject": format!("n{i}")});
        if i % 3 == 0 {
            body["buttons"] = json!([{"value": "Y", "label": "Approve", "style": "accept"}]);
        }
        let (status, got) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
        assert_eq!(status, 200, "{got}");
        sent.push(got["ids"][0].as_i64().unwrap());
    }
    // n3 is answered: it is no longer waiting, so it sorts with the rest.
    let (status, _) =
        hub.post(&hub.bob, &format!("/v1/notifications/{}/confirm", sent[3]), json!({"value": "Y"}).to_string()).await;
    assert_eq!(status, 200);

    let mut subjects = Vec::new();
    let mut path = "/v1/notifications?confirm_first=true&limit=1".to_owned();
    loop {
        let (status, page) = hub.get(&hub.bob, &path).await;
        assert_eq!(status, 200, "{page}");
        subjects.extend(page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/notifications?confirm_first=true&limit=1&before={next}"),
            None => break,
        }
        assert!(subjects.len() <= 7, "paging must end: {subjects:?}");
    }
    assert_eq!(subjects, ["n6", "n0", "n5", "n4", "n3", "n2", "n1"]);

    let (_, page) = hub.get(&hub.bob, "/v1/notifications?confirm_first=true&limit=3").await;
    let firsts: Vec<&str> = page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(firsts, ["n6", "n0", "n5"], "a page may span both sections");
    let (_, plain) = hub.get(&hub.bob, "/v1/notifications?limit=2").await;
    assert_eq!(plain["items"][0]["subject"], "n6");
    assert_eq!(plain["items"][1]["subject"], "n5", "without confirm_first: newest first");
}
