//! Signing in with a password (issue 18): the session cookie and what it may do, the Origin
//! check that keeps other sites from acting with it, failed sign-ins limited, devices made by
//! signing in and revoked, and what a user (not an app) may send.

mod common;

use common::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PASSWORD: &str = "correct horse battery staple";

/// A hub whose user `carol` has a password, made through the admin API.
async fn hub_with_carol(config: herald_hub::HubConfig) -> (Hub, String) {
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    let admin = hub.store.add_admin_token().await.unwrap();
    let (status, body) =
        hub.call("POST", &admin, "/v1/admin/users", Some(json!({"name": "carol", "password": PASSWORD}))).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("password").is_none(), "{body}");
    let carols_token = body["token"].as_str().unwrap().to_owned();
    (hub, carols_token)
}

async fn sign_in(hub: &Hub, user: &str, password: &str) -> reqwest::Response {
    hub.client
        .post(format!("{}/v1/session", hub.base))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Signs carol in: the cookie header to send back (`herald_session=…`).
async fn carols_cookie(hub: &Hub) -> String {
    let res = sign_in(hub, "carol", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let set = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

/// `method path` with the cookie and, if given, an `Origin`.
async fn with_cookie(hub: &Hub, method: &str, path: &str, cookie: &str, origin: Option<&str>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = hub.client.request(method, format!("{}{path}", hub.base)).header("cookie", cookie);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let res = request.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn cookie_feed(
    hub: &Hub,
    cookie: &str,
    origin: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let mut request = format!("{}/v1/feed", hub.base.replace("http://", "ws://")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    request.headers_mut().insert("origin", origin.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.map(|(ws, _)| ws)
}

/// The close frame a feed ends with (frames before it skipped).
async fn closed_with(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> String {
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("feed still open");
        match next {
            Some(Ok(Message::Close(Some(frame)))) => return frame.reason.to_string(),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return String::new(),
            Some(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer_and_no_cookie() {
    let (hub, _) = hub_with_carol(herald_hub::HubConfig::default()).await;
    let mut answers = Vec::new();
    for (user, password) in [("carol", "wrong"), ("nobody", PASSWORD), ("alice", "")] {
        let res = sign_in(&hub, user, password).await;
        assert!(res.headers().get("set-cookie").is_none(), "{user}");
        answers.push((res.status().as_u16(), res.json::<Value>().await.unwrap()));
    }
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0].1["code"], "invalid_credentials");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_works_where_a_token_does() {
    let (hub, _) = hub_with_carol(herald_hub::HubConfig::default()).await;
    let res = sign_in(&hub, "carol", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let set = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.split("; ").any(|a| a == attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"user": "carol"}));
    let cookie = set.split(';').next().unwrap().to_owned();

    let id = hub.send_to("carol", "Lunch?").await;
    let (status, page) = with_cookie(&hub, "GET", "/v1/notifications", &cookie, None).await;
    assert_eq!((status, page["items"][0]["id"].as_i64()), (200, Some(id)));
    let (status, who) = with_cookie(&hub, "GET", "/v1/session", &cookie, None).await;
    assert_eq!((status, who), (200, json!({"user": "carol", "roles": []})));
    let own = hub.base.clone();
    let (status, body) = with_cookie(&hub, "POST", "/v1/notifications/read-all", &cookie, Some(&own)).await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = with_cookie(&hub, "GET", "/v1/notifications", &cookie, None).await;
    assert_eq!(page["items"][0]["read"], true);
}

#[tokio::test]
async fn another_sites_page_cannot_act_or_open_the_feed_with_the_cookie() {
    let (hub, _) = hub_with_carol(herald_hub::HubConfig::default()).await;
    let cookie = carols_cookie(&hub).await;
    hub.send_to("carol", "Quarterly figures").await;
    let evil = "https://evil.example";
    for (method, path) in
        [("POST", "/v1/notifications/read-all"), ("DELETE", "/v1/notifications?tag=x"), ("PUT", "/v1/preferences")]
    {
        let (status, body) = with_cookie(&hub, method, path, &cookie, Some(evil)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden_origin")), "{method} {path}: {body}");
    }
    let (_, page) = with_cookie(&hub, "GET", "/v1/notifications", &cookie, None).await;
    assert_eq!(page["items"][0]["read"], false, "nothing was done");
    // Signing in from another site's page (login CSRF) is refused too.
    let res = hub
        .client
        .post(format!("{}/v1/session", hub.base))
        .header("origin", evil)
        .json(&json!({"user": "carol", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());

    match cookie_feed(&hub, &cookie, evil).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a cross-site feed was not refused: {:?}", other.map(|_| ())),
    }
    let mut feed = cookie_feed(&hub, &cookie, &hub.base).await.expect("the hub's own page opens the feed");
    assert!(matches!(next_frame(&mut feed).await, FeedFrame::Snapshot { .. } | FeedFrame::Change(_)));
}

#[tokio::test]
async fn signing_out_ends_the_session_and_closes_its_feed_at_once() {
    let (hub, _) = hub_with_carol(herald_hub::HubConfig::default()).await;
    let cookie = carols_cookie(&hub).await;
    let mut feed = cookie_feed(&hub, &cookie, &hub.base).await.unwrap();
    while !matches!(next_frame(&mut feed).await, FeedFrame::CaughtUp { .. }) {}
    let res = hub.client.delete(format!("{}/v1/session", hub.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert!(closed_with(&mut feed).await.contains("signed out"));
    let (status, body) = with_cookie(&hub, "GET", "/v1/notifications", &cookie, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn repeated_failures_are_refused_before_the_password_is_checked() {
    let limits = herald_hub::api::SignInLimits {
        per_user_burst: 3.0,
        per_user_per_second: 0.001,
        per_address_burst: 100.0,
        per_address_per_second: 1.0,
    };
    let config = herald_hub::HubConfig { sign_in_limits: limits, ..Default::default() };
    let (hub, _) = hub_with_carol(config).await;
    for _ in 0..3 {
        assert_eq!(sign_in(&hub, "carol", "guess").await.status(), 401);
    }
    // Even the right password: a guesser past the limit learns nothing.
    let res = sign_in(&hub, "carol", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(res.headers().get("set-cookie").is_none());
    // The limit is carol's: another user signs in.
    hub.store
        .set_password_hash("alice", Some(herald_hub::passwords::hash("alice's own").await.unwrap()))
        .await
        .unwrap();
    assert_eq!(sign_in(&hub, "alice", "alice's own").await.status(), 200);
}

#[tokio::test]
async fn failures_from_one_address_are_limited_across_user_names() {
    let limits = herald_hub::api::SignInLimits {
        per_user_burst: 100.0,
        per_user_per_second: 1.0,
        per_address_burst: 4.0,
        per_address_per_second: 0.001,
    };
    let config = herald_hub::HubConfig { sign_in_limits: limits, ..Default::default() };
    let (hub, _) = hub_with_carol(config).await;
    for name in ["ann", "ben", "cat", "dan"] {
        assert_eq!(sign_in(&hub, name, "guess").await.status(), 401);
    }
    assert_eq!(sign_in(&hub, "carol", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn a_device_is_added_by_signing_in_listed_and_revoked_with_its_feed() {
    let (hub, carols_token) = hub_with_carol(herald_hub::HubConfig::default()).await;
    let add = |auth: reqwest::RequestBuilder| async move {
        let res = auth.json(&json!({"name": "Work laptop"})).send().await.unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    };
    let url = format!("{}/v1/devices", hub.base);
    let (status, body) = add(hub.client.post(&url).basic_auth("carol", Some("wrong"))).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("invalid_credentials")));
    let (status, body) = add(hub.client.post(&url).bearer_auth(&carols_token)).await;
    assert_eq!(status, 403, "a token does not mint tokens: {body}");
    let (status, laptop) = add(hub.client.post(&url).basic_auth("carol", Some(PASSWORD))).await;
    assert_eq!(status, 201, "{laptop}");
    let cookie = carols_cookie(&hub).await;
    let phone = hub
        .client
        .post(&url)
        .header("cookie", &cookie)
        .header("origin", &hub.base)
        .json(&json!({"name": "Phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(phone.status(), 201);

    let device_token = laptop["token"].as_str().unwrap();
    let id = hub.send_to("carol", "Welcome").await;
    let (status, page) = hub.get(device_token, "/v1/notifications").await;
    assert_eq!((status, page["items"][0]["id"].as_i64()), (200, Some(id)));
    let (_, devices) = hub.get(&carols_token, "/v1/devices").await;
    let names: Vec<&str> = devices.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Work laptop", "Phone"]);
    assert!(devices[0]["last_used_at"].is_string(), "used just now: {devices}");
    assert!(devices[1]["last_used_at"].is_null(), "{devices}");
    // Bob neither sees nor revokes carol's devices.
    let (_, bobs) = hub.get(&hub.bob, "/v1/devices").await;
    assert_eq!(bobs, json!([]));
    let (status, _) = hub.call("DELETE", &hub.bob, &format!("/v1/devices/{}", laptop["id"]), None).await;
    assert_eq!(status, 404);

    let mut feed = hub.feed(device_token, 0).await;
    assert!(matches!(next_frame(&mut feed).await, FeedFrame::Snapshot { .. } | FeedFrame::Change(_)));
    let (status, _) =
        with_cookie(&hub, "DELETE", &format!("/v1/devices/{}", laptop["id"]), &cookie, Some(&hub.base)).await;
    assert_eq!(status, 204);
    assert!(closed_with(&mut feed).await.contains("revoked"));
    let (status, _) = hub.get(device_token, "/v1/notifications").await;
    assert_eq!(status, 401);
    let (_, devices) = hub.get(&carols_token, "/v1/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_device_signs_itself_out_with_its_own_token_and_a_users_token_is_left_alone() {
    let (hub, carols_token) = hub_with_carol(herald_hub::HubConfig::default()).await;
    let url = format!("{}/v1/devices", hub.base);
    let made = hub.client.post(&url).basic_auth("carol", Some(PASSWORD)).json(&json!({"name": "Desk"})).send();
    let desk: Value = made.await.unwrap().json().await.unwrap();
    let desk_token = desk["token"].as_str().unwrap();
    let mut feed = hub.feed(desk_token, 0).await;
    assert!(matches!(
        next_frame(&mut feed).await,
        FeedFrame::Snapshot { .. } | FeedFrame::Change(_) | FeedFrame::CaughtUp { .. }
    ));

    let (status, body) = hub.call("DELETE", &carols_token, "/v1/devices/current", None).await;
    assert_eq!(status, 404, "a user's own token is not a device's: {body}");
    assert_eq!(hub.get(&carols_token, "/v1/devices").await.0, 200, "and it still works");
    let (status, _) = hub.call("DELETE", desk_token, "/v1/devices/current", None).await;
    assert_eq!(status, 204);
    assert!(closed_with(&mut feed).await.contains("revoked"));
    assert_eq!(hub.get(desk_token, "/v1/notifications").await.0, 401);
    let (_, devices) = hub.get(&carols_token, "/v1/devices").await;
    assert_eq!(devices, json!([]));
}

#[tokio::test]
async fn no_password_is_kept_in_the_clear_not_even_in_an_idempotency_record() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_with(Store::open(dir.path()).unwrap()).await;
    let admin = hub.store.add_admin_token().await.unwrap();
    let password = "zebra-unicorn-7731";
    let res = hub
        .client
        .post(format!("{}/v1/admin/users", hub.base))
        .bearer_auth(&admin)
        .header("idempotency-key", "new-user-1")
        .json(&json!({"name": "dora", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(sign_in(&hub, "dora", password).await.status(), 200);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "the password is on disk");
    assert!(bytes.windows(10).any(|w| w == b"$argon2id$"), "an argon2id hash is");
}

#[tokio::test]
async fn a_user_sends_personal_notifications_only_and_groups_need_the_composer_role() {
    let hub = start().await;
    hub.store.grant_role("bob", "finance").await.unwrap();
    let send = |token: &str, body: Value| {
        let (hub, token) = (&hub, token.to_owned());
        async move { hub.post(&token, "/v1/notifications", body.to_string()).await }
    };
    let refused = [
        json!({"to": {"user": "bob"}, "subject": "Now!", "priority": "critical"}),
        json!({"to": {"user": "bob"}, "subject": "PO 7", "type": "purchase.approval",
               "buttons": [{"value": "approve", "label": "Approve"}]}),
        json!({"to": {"role": "finance"}, "subject": "Figures"}),
        json!({"to": {"organization": "acme"}, "subject": "Figures"}),
        json!({"to": {"followers_of": {"type": "blog.post", "id": "1"}}, "subject": "Figures"}),
    ];
    for body in &refused {
        let (status, answer) = send(&hub.alice, body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (403, Some("forbidden")), "{body}: {answer}");
    }
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(inbox["items"], json!([]), "nothing refused was delivered");
    let (status, answer) =
        send(&hub.alice, json!({"to": {"user": "bob"}, "subject": "Lunch?", "priority": "high"})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = send(&hub.alice, json!({"to": {"role": "finance"}, "subject": "x"})).await;
    assert_eq!(status, 403);
    let preview = hub
        .post(&hub.alice, "/v1/notifications/preview", json!({"to": {"role": "finance"}, "subject": "x"}).to_string())
        .await;
    assert_eq!(preview.0, 403, "a preview is refused like the send: {:?}", preview.1);
    // A composer sends to a whole role (counted first); an app sends anything.
    hub.store.grant_role("alice", "composer").await.unwrap();
    hub.store.grant_role("carol", "finance").await.ok();
    let preview = hub
        .post(&hub.alice, "/v1/notifications/preview", json!({"to": {"role": "finance"}, "subject": "x"}).to_string())
        .await;
    assert_eq!(preview, (200, json!({"recipients": 1})));
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "a preview sends nothing");
    let (status, answer) = send(&hub.alice, json!({"to": {"role": "finance"}, "subject": "Figures"})).await;
    assert_eq!(status, 200, "{answer}");
    for body in &refused[..3] {
        let (status, answer) = send(&hub.app, body.clone()).await;
        assert_eq!(status, 200, "{body}: {answer}");
    }
}
