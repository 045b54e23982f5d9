//! `/v1/admin/*`: admin tokens manage users, roles, organisations, follows and tokens over HTTP.

mod common;

use common::*;

#[tokio::test]
async fn only_admin_tokens_reach_the_admin_api() {
    let hub = start().await;
    let app = hub.store.add_app_token("erp", None).await.unwrap();
    assert_eq!(hub.get("", "/v1/admin/users").await.0, 401);
    for token in [&hub.alice, &app] {
        let (status, body) = hub.get(token, "/v1/admin/users").await;
        assert_eq!((status, code(&body)), (403, ErrorCode::Forbidden));
    }
    let (status, body) = hub.call("POST", &hub.alice, "/v1/admin/users", Some(json!({"name": "mallory"}))).await;
    assert_eq!((status, code(&body)), (403, ErrorCode::Forbidden));
    assert!(hub.store.user_by_name("mallory").await.unwrap().is_none(), "nothing was created");
}

#[tokio::test]
async fn an_admin_manages_users_and_their_audiences_over_http() {
    let hub = start().await;
    let admin = hub.store.add_admin_token().await.unwrap();

    let (status, body) = hub.call("POST", &admin, "/v1/admin/users", Some(json!({"name": "dana"}))).await;
    assert_eq!(status, 201, "{body}");
    let dana = body["token"].as_str().unwrap().to_owned();
    assert_eq!(hub.get(&dana, "/v1/notifications").await.0, 200, "the new token works at once");

    let (status, body) = hub.call("POST", &admin, "/v1/admin/users", Some(json!({"name": "dana"}))).await;
    assert_eq!((status, code(&body)), (409, ErrorCode::Conflict));
    let (status, body) = hub.call("POST", &admin, "/v1/admin/users", Some(json!({"name": "Dana Smith"}))).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest));

    for (method, path) in [
        ("PUT", "/v1/admin/users/dana/roles/finance"),
        ("PUT", "/v1/admin/users/bob/roles/finance"),
        ("PUT", "/v1/admin/organizations/acme/members/dana"),
    ] {
        assert_eq!(hub.call(method, &admin, path, None).await.0, 204, "{method} {path}");
    }
    let (status, _) =
        hub.call("POST", &admin, "/v1/admin/users/dana/follows", Some(json!({"type": "blog.post", "id": "42"}))).await;
    assert_eq!(status, 204);
    let (status, body) = hub.call("PUT", &admin, "/v1/admin/users/zed/roles/finance", None).await;
    assert_eq!((status, code(&body)), (404, ErrorCode::UnknownRecipient));

    let (_, listed) = hub.get(&admin, "/v1/admin/users").await;
    assert_eq!(
        listed,
        json!([
            {"name": "alice", "roles": [], "organizations": []},
            {"name": "bob", "roles": ["finance"], "organizations": []},
            {"name": "dana", "roles": ["finance"], "organizations": ["acme"]},
        ])
    );

    let send = |to: Value| {
        let body = json!({"to": to, "subject": "s"}).to_string();
        let hub = &hub;
        async move { hub.post(&hub.app, "/v1/notifications", body).await.1["ids"].as_array().unwrap().len() }
    };
    assert_eq!(send(json!({"role": "finance"})).await, 2);
    assert_eq!(send(json!({"organization": "acme"})).await, 1);
    assert_eq!(send(json!({"followers_of": {"type": "blog.post", "id": "42"}})).await, 1);

    for (method, path) in [
        ("DELETE", "/v1/admin/users/bob/roles/finance"),
        ("DELETE", "/v1/admin/organizations/acme/members/dana"),
        ("DELETE", "/v1/admin/users/dana/follows/blog.post/42"),
    ] {
        assert_eq!(hub.call(method, &admin, path, None).await.0, 204, "{method} {path}");
    }
    assert_eq!(send(json!({"role": "finance"})).await, 1);
    assert_eq!(send(json!({"organization": "acme"})).await, 0);
    assert_eq!(send(json!({"followers_of": {"type": "blog.post", "id": "42"}})).await, 0);

    assert_eq!(hub.call("DELETE", &admin, "/v1/admin/users/dana", None).await.0, 204);
    assert_eq!(hub.get(&dana, "/v1/notifications").await.0, 401, "a removed user's token is dead");
    assert_eq!(hub.call("DELETE", &admin, "/v1/admin/users/dana", None).await.0, 404);
}

#[tokio::test]
async fn an_admin_makes_app_and_admin_tokens() {
    let hub = start().await;
    let admin = hub.store.add_admin_token().await.unwrap();
    let (status, body) = hub
        .call("POST", &admin, "/v1/admin/tokens", Some(json!({"app": "erp", "callback_url": "http://127.0.0.1:9/cb"})))
        .await;
    assert_eq!(status, 201, "{body}");
    let app = body["token"].as_str().unwrap().to_owned();
    let (status, _) =
        hub.post(&app, "/v1/notifications", json!({"to": {"user": "bob"}, "subject": "PO approved"}).to_string()).await;
    assert_eq!(status, 200, "the app token sends");
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(inbox["items"][0]["sender"], Value::Null, "an app's send is a system notification");

    let (status, body) = hub.call("POST", &admin, "/v1/admin/tokens", Some(json!({"admin": true}))).await;
    assert_eq!(status, 201);
    assert_eq!(hub.get(body["token"].as_str().unwrap(), "/v1/admin/users").await.0, 200);

    for bad in [
        json!({"app": "erp", "callback_url": "ftp://erp.example/cb"}),
        json!({"app": "erp", "callback_url": "not a url"}),
        json!({"app": "erp", "admin": true}),
        json!({}),
        json!({"admin": true, "callback_url": "http://x.example"}),
    ] {
        let (status, body) = hub.call("POST", &admin, "/v1/admin/tokens", Some(bad.clone())).await;
        assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{bad}");
    }
}

#[tokio::test]
async fn an_admin_sees_how_many_users_are_connected_and_how_writes_are_grouped() {
    let hub = start().await;
    let admin = hub.store.add_admin_token().await.unwrap();
    let mut feed = hub.feed(&hub.bob, 0).await;
    assert!(matches!(next_frame(&mut feed).await, FeedFrame::CaughtUp { .. }));
    hub.send_to("bob", "one").await;
    let (status, stats) = hub.get(&admin, "/v1/admin/stats").await;
    assert_eq!(status, 200);
    assert_eq!(stats["users_connected"], 1);
    assert!(stats["writes"].as_u64().unwrap() >= 1 && stats["commits"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(hub.get(&hub.bob, "/v1/admin/stats").await.0, 403);
}
