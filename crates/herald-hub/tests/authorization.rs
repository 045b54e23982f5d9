//! The authorization matrix: every route the hub documents, called with every kind of token, and
//! with a user's token on someone else's notification, live event, tag and idempotency key.
//!
//! The rule it holds the hub to: a call without a valid token is a 401; a token of the wrong
//! kind is a 403; another user's resource is either a 404 or, for the calls that take many ids
//! or a threshold, answered exactly as if it did not exist — so nothing tells Alice that Bob has
//! it, and nothing of Bob's changes. Every refusal is `{code, message}`.

mod common;

use std::collections::BTreeSet;

use common::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    App,
    Admin,
}
use Kind::*;

/// What a user's token does to another user's resource on this route.
#[derive(Clone, Copy, Debug)]
enum Others {
    /// The route names no resource of anyone else's.
    None,
    /// Refused with a 404, like an id that never existed.
    NotFound,
    /// Answered exactly as for a resource that does not exist (the route takes many ids or a
    /// threshold, and acts only on the caller's own).
    AsIfMissing,
}

struct Route {
    method: &'static str,
    /// As the OpenAPI document spells it, so the matrix can be checked to cover every route.
    template: &'static str,
    /// The same route naming Bob's resources (or, for admin routes, a scratch user's).
    path: String,
    /// The same call naming resources that do not exist (path, body), for `Others::AsIfMissing`.
    missing: Option<(String, Option<Value>)>,
    body: Option<Value>,
    allowed: &'static [Kind],
    others: Others,
}

/// Bob's things, made before the matrix runs.
struct Bobs {
    /// A confirm-type notification (buttons Y/N) that also takes a text reply.
    notification: i64,
    /// A plain notification tagged `bobs-tag`.
    tagged: i64,
    /// A live event with actions, for Bob only.
    event: String,
    /// One of Bob's devices.
    device: i64,
}

/// Routes that take a password or the session cookie, not a token (signing in and out, adding
/// a device): sign_in.rs tests who may call them.
const TAKE_A_PASSWORD: [(&str, &str); 3] =
    [("POST", "/v1/session"), ("DELETE", "/v1/session"), ("POST", "/v1/devices")];

/// Routes a link in mail opens: the signed token in the path is their only credential (a token or
/// cookie changes nothing); email.rs tests that a forged or altered one is refused.
const TAKE_A_SIGNED_LINK: [(&str, &str); 4] = [
    ("GET", "/v1/email/unsubscribe/{token}"),
    ("POST", "/v1/email/unsubscribe/{token}"),
    ("GET", "/v1/email/answer/{token}"),
    ("POST", "/v1/email/answer/{token}"),
];

const NO_SUCH_ID: i64 = 9_000_000;

fn routes(bob: &Bobs) -> Vec<Route> {
    let n = bob.notification;
    // Bulk reads leave a confirm-type notification unread anyway, so they aim at the plain one.
    let t = bob.tagged;
    let e = &bob.event;
    let row = |method, template, path: String, body: Option<Value>, allowed, others| Route {
        method,
        template,
        path,
        missing: None,
        body,
        allowed,
        others,
    };
    let as_if_missing = |mut route: Route, missing: &str, body: Option<Value>| {
        route.missing = Some((missing.to_owned(), body));
        route.others = Others::AsIfMissing;
        route
    };
    let send = json!({"to": {"user": "bob"}, "subject": "hello"});
    let event = json!({"to": {"user": "bob"}, "kind": "reminder", "ttl_seconds": 30, "title": "Stand-up"});
    vec![
        row("GET", "/v1/session", "/v1/session".into(), None, &[User], Others::None),
        row("GET", "/v1/inbox", "/v1/inbox".into(), None, &[User], Others::None),
        row("GET", "/v1/devices", "/v1/devices".into(), None, &[User], Others::None),
        row("DELETE", "/v1/devices/{id}", format!("/v1/devices/{}", bob.device), None, &[User], Others::NotFound),
        // Acts on the calling token alone: nobody else's device can be named.
        row("DELETE", "/v1/devices/current", "/v1/devices/current".into(), None, &[User], Others::None),
        row(
            "GET",
            "/v1/notifications/{id}",
            format!("/v1/notifications/{}", bob.notification),
            None,
            &[User],
            Others::NotFound,
        ),
        row(
            "POST",
            "/v1/notifications",
            "/v1/notifications".into(),
            Some(send.clone()),
            &[User, App, Admin],
            Others::None,
        ),
        row(
            "POST",
            "/v1/notifications/preview",
            "/v1/notifications/preview".into(),
            Some(send),
            &[User, App, Admin],
            Others::None,
        ),
        row("GET", "/v1/notifications", "/v1/notifications".into(), None, &[User], Others::None),
        as_if_missing(
            row("DELETE", "/v1/notifications", "/v1/notifications?tag=bobs-tag".into(), None, &[User], Others::None),
            "/v1/notifications?tag=no-such-tag",
            None,
        ),
        as_if_missing(
            row(
                "POST",
                "/v1/notifications/read",
                "/v1/notifications/read".into(),
                Some(json!({"ids": [t], "read": true})),
                &[User],
                Others::None,
            ),
            "/v1/notifications/read",
            Some(json!({"ids": [NO_SUCH_ID], "read": true})),
        ),
        row("POST", "/v1/notifications/read-all", "/v1/notifications/read-all".into(), None, &[User], Others::None),
        as_if_missing(
            row(
                "POST",
                "/v1/notifications/{id}/read",
                format!("/v1/notifications/{t}/read?only_current=true"),
                None,
                &[User],
                Others::None,
            ),
            &format!("/v1/notifications/{NO_SUCH_ID}/read?only_current=true"),
            None,
        ),
        // "Read from here": Bob's id as Alice's threshold reads only hers, as any id would.
        as_if_missing(
            row(
                "POST",
                "/v1/notifications/{id}/read",
                format!("/v1/notifications/{t}/read"),
                None,
                &[User],
                Others::None,
            ),
            &format!("/v1/notifications/{NO_SUCH_ID}/read"),
            None,
        ),
        row("DELETE", "/v1/notifications/{id}", format!("/v1/notifications/{n}"), None, &[User], Others::NotFound),
        row(
            "POST",
            "/v1/notifications/{id}/confirm",
            format!("/v1/notifications/{n}/confirm"),
            Some(json!({"value": "Y"})),
            &[User],
            Others::NotFound,
        ),
        row(
            "POST",
            "/v1/notifications/{id}/answer",
            format!("/v1/notifications/{n}/answer"),
            Some(json!({"text": "yes"})),
            &[User],
            Others::NotFound,
        ),
        row("POST", "/v1/events", "/v1/events".into(), Some(event), &[App, Admin], Others::None),
        row(
            "POST",
            "/v1/events/{id}/respond",
            format!("/v1/events/{e}/respond"),
            Some(json!({"action": "ok"})),
            &[User],
            Others::NotFound,
        ),
        row("GET", "/v1/changes", "/v1/changes?since=0".into(), None, &[User], Others::None),
        row("GET", "/v1/feed", "/v1/feed".into(), None, &[User], Others::None),
        row("GET", "/v1/schema", "/v1/schema".into(), None, &[User, App, Admin], Others::None),
        row("GET", "/v1/preferences", "/v1/preferences".into(), None, &[User], Others::None),
        row(
            "PUT",
            "/v1/preferences",
            "/v1/preferences".into(),
            Some(json!({"dnd_until": null})),
            &[User],
            Others::None,
        ),
        row(
            "POST",
            "/v1/ingest/{source}",
            "/v1/ingest/selfcommunity".into(),
            Some(json!({"event_id": "e-1", "type": "notification.unblocked_user", "data": {"recipients": [7]}})),
            &[App],
            Others::None,
        ),
        row("GET", "/v1/admin/users", "/v1/admin/users".into(), None, &[Admin], Others::None),
        row("POST", "/v1/admin/users", "/v1/admin/users".into(), Some(json!({"name": "erin"})), &[Admin], Others::None),
        row(
            "PUT",
            "/v1/admin/users/{name}/roles/{role}",
            "/v1/admin/users/carol/roles/finance".into(),
            None,
            &[Admin],
            Others::None,
        ),
        row(
            "DELETE",
            "/v1/admin/users/{name}/roles/{role}",
            "/v1/admin/users/carol/roles/finance".into(),
            None,
            &[Admin],
            Others::None,
        ),
        row(
            "POST",
            "/v1/admin/users/{name}/follows",
            "/v1/admin/users/carol/follows".into(),
            Some(json!({"type": "blog.post", "id": "42"})),
            &[Admin],
            Others::None,
        ),
        row(
            "DELETE",
            "/v1/admin/users/{name}/follows/{type}/{id}",
            "/v1/admin/users/carol/follows/blog.post/42".into(),
            None,
            &[Admin],
            Others::None,
        ),
        row(
            "PUT",
            "/v1/admin/organizations/{org}/members/{name}",
            "/v1/admin/organizations/acme/members/carol".into(),
            None,
            &[Admin],
            Others::None,
        ),
        row(
            "DELETE",
            "/v1/admin/organizations/{org}/members/{name}",
            "/v1/admin/organizations/acme/members/carol".into(),
            None,
            &[Admin],
            Others::None,
        ),
        row("POST", "/v1/admin/tokens", "/v1/admin/tokens".into(), Some(json!({"app": "crm"})), &[Admin], Others::None),
        row("GET", "/v1/admin/stats", "/v1/admin/stats".into(), None, &[Admin], Others::None),
        row(
            "GET",
            "/v1/admin/roles/{role}/preferences",
            "/v1/admin/roles/finance/preferences".into(),
            None,
            &[Admin],
            Others::None,
        ),
        row(
            "PUT",
            "/v1/admin/roles/{role}/preferences",
            "/v1/admin/roles/finance/preferences".into(),
            Some(json!([])),
            &[Admin],
            Others::None,
        ),
        // Last: the scratch user is gone after it.
        row(
            "PATCH",
            "/v1/admin/users/{name}",
            "/v1/admin/users/carol".into(),
            Some(json!({"email": "carol@example.org"})),
            &[Admin],
            Others::None,
        ),
        row("DELETE", "/v1/admin/users/{name}", "/v1/admin/users/carol".into(), None, &[Admin], Others::None),
    ]
}

/// Bob's confirm-type notification and live event, and a tagged notification of his.
async fn bobs_things(hub: &Hub, app: &str) -> Bobs {
    let confirm = json!({"to": {"user": "bob"}, "subject": "Approve PO 7?", "body": "zanzibar",
        "buttons": [{"value": "Y", "label": "Yes"}, {"value": "N", "label": "No"}], "reply": {}});
    let (status, sent) = hub.post(app, "/v1/notifications", confirm.to_string()).await;
    assert_eq!(status, 200, "{sent}");
    let tagged = json!({"to": {"user": "bob"}, "subject": "Zanzibar trip", "tag": "bobs-tag"});
    let (status, tagged) = hub.post(app, "/v1/notifications", tagged.to_string()).await;
    assert_eq!(status, 200, "{tagged}");
    let event = json!({"to": {"user": "bob"}, "kind": "call", "ttl_seconds": 600, "title": "Call from zanzibar",
        "actions": [{"value": "ok", "label": "OK"}]});
    let (status, event) = hub.post(app, "/v1/events", event.to_string()).await;
    assert_eq!(status, 200, "{event}");
    let bob = hub.store.user_by_name("bob").await.unwrap().unwrap();
    let (device, _) = hub.store.add_device(bob.id, "Bob's phone").await.unwrap();
    Bobs {
        device: device.id,
        notification: sent["ids"][0].as_i64().unwrap(),
        tagged: tagged["ids"][0].as_i64().unwrap(),
        event: event["id"].as_str().unwrap().to_owned(),
    }
}

/// A refusal in the one error shape, with the status and code it should have.
fn assert_refused(what: &str, (status, body): &(u16, Value), expected: (u16, ErrorCode)) {
    assert_eq!((*status, code(body)), expected, "{what}: {body}");
    let fields: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, BTreeSet::from(["code", "message"]), "{what}: {body}");
    assert!(!body["message"].as_str().unwrap().is_empty(), "{what}");
}

/// Bob's notification is still there, unread and unanswered, and his event still answerable.
async fn assert_bobs_things_untouched(hub: &Hub, bob: &Bobs) {
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    let items = page["items"].as_array().unwrap();
    let mine = items.iter().find(|n| n["id"] == bob.notification).expect("Bob's notification still exists");
    assert_eq!(mine["read"], false, "{mine}");
    assert!(mine.get("answer").is_none_or(Value::is_null), "{mine}");
    let tagged = items.iter().find(|n| n["id"] == bob.tagged).expect("Bob's tagged notification still exists");
    assert_eq!(tagged["read"], false, "{tagged}");
    let (_, devices) = hub.get(&hub.bob, "/v1/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 1, "Bob's device is not revoked: {devices}");
}

async fn call(hub: &Hub, route: &Route, token: &str) -> (u16, Value) {
    hub.call(route.method, token, &route.path, route.body.clone()).await
}

#[tokio::test]
async fn every_route_refuses_the_wrong_token_and_someone_elses_resources() {
    // The matrix fails authentication from one address on purpose, many times over; the limit
    // on that has its own test (abuse.rs).
    let config = herald_hub::HubConfig { failed_auth_limit: None, ..herald_hub::HubConfig::default() };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    let app = hub.store.add_app_token("community", None).await.unwrap();
    let admin = hub.store.add_admin_token().await.unwrap();
    hub.store.add_user("carol").await.unwrap();
    let (_, removed) = hub.store.add_user("dave").await.unwrap();
    hub.store.remove_user("dave").await.unwrap();
    let bob = bobs_things(&hub, &app).await;
    let routes = routes(&bob);

    // The matrix covers every route the hub documents, and nothing it does not.
    let (_, document) = hub.get("", "/v1/openapi.json").await;
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, methods)| methods.as_object().unwrap().keys().map(|m| (m.to_uppercase(), path.clone())))
        .filter(|(method, path)| !TAKE_A_PASSWORD.contains(&(method.as_str(), path.as_str())))
        .filter(|(method, path)| !TAKE_A_SIGNED_LINK.contains(&(method.as_str(), path.as_str())))
        .collect();
    let covered: BTreeSet<(String, String)> =
        routes.iter().map(|r| (r.method.to_owned(), r.template.to_owned())).collect();
    assert_eq!(covered, documented);

    for route in &routes {
        let what = format!("{} {}", route.method, route.path);
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let mut bare = hub.client.request(method, format!("{}{}", hub.base, route.path));
        if let Some(body) = &route.body {
            bare = bare.json(body);
        }
        let response = bare.send().await.unwrap();
        let refused = (response.status().as_u16(), response.json().await.unwrap_or(Value::Null));
        assert_refused(&format!("{what} with no Authorization header"), &refused, (401, ErrorCode::Unauthorized));
        for (who, token) in
            [("an empty token", ""), ("a made-up token", "hrld_00"), ("a removed user's token", &removed)]
        {
            assert_refused(
                &format!("{what} with {who}"),
                &call(&hub, route, token).await,
                (401, ErrorCode::Unauthorized),
            );
        }
        for (kind, token) in [(User, &hub.alice), (App, &app), (Admin, &admin)] {
            if !route.allowed.contains(&kind) {
                assert_refused(
                    &format!("{what} as {kind:?}"),
                    &call(&hub, route, token).await,
                    (403, ErrorCode::Forbidden),
                );
            }
        }
        match route.others {
            Others::None => {}
            Others::NotFound => {
                assert_refused(
                    &format!("{what} as Alice"),
                    &call(&hub, route, &hub.alice).await,
                    (404, ErrorCode::NotFound),
                );
            }
            Others::AsIfMissing => {
                let on_bobs = call(&hub, route, &hub.alice).await;
                let (missing, body) = route.missing.clone().unwrap();
                let on_nothing = hub.call(route.method, &hub.alice, &missing, body).await;
                assert_eq!(on_bobs, on_nothing, "{what} as Alice answers as for {missing}");
                assert_eq!(on_bobs.0, 200, "{what}: {on_bobs:?}");
            }
        }
    }
    assert_bobs_things_untouched(&hub, &bob).await;
    // Bob's event was not answered by anyone else: Bob can still answer it.
    let (status, body) =
        hub.post(&hub.bob, &format!("/v1/events/{}/respond", bob.event), json!({"action": "ok"}).to_string()).await;
    assert_eq!(status, 200, "{body}");

    // Each token kind does reach the routes it is allowed (the admin routes in table order, on
    // the scratch user carol).
    for route in &routes {
        for (kind, token) in [(User, &hub.alice), (App, &app), (Admin, &admin)] {
            if route.allowed.contains(&kind) && route.template != "/v1/feed" {
                let (status, body) = hub.call(route.method, token, &route.path, route.body.clone()).await;
                assert!(![401, 403].contains(&status), "{} {} as {kind:?}: {status} {body}", route.method, route.path);
            }
        }
    }
}

#[tokio::test]
async fn nothing_of_bobs_reaches_alice_through_search_changes_the_feed_or_live_events() {
    let hub = start().await;
    let app = hub.store.add_app_token("community", None).await.unwrap();
    let mut alices_feed = hub.feed(&hub.alice, 0).await;
    assert_eq!(next_frame(&mut alices_feed).await, FeedFrame::CaughtUp { seq: 0 });
    let bob = bobs_things(&hub, &app).await;

    // Search, filters and paging see only Alice's own.
    for query in ["q=zanzibar", "q=Zanzibar%20trip", "tag=bobs-tag", "type=general", "unread=true", "limit=500"] {
        let (status, page) = hub.get(&hub.alice, &format!("/v1/notifications?{query}")).await;
        assert_eq!((status, page["items"].as_array().map(Vec::len)), (200, Some(0)), "{query}: {page}");
    }
    let (_, changes) = hub.get(&hub.alice, "/v1/changes?since=0").await;
    assert_eq!(changes["changes"].as_array().map(Vec::len), Some(0), "{changes}");

    // Her open feed got nothing of Bob's notifications or his call: the next frame is hers.
    let marker = hub.send_to("alice", "for alice").await;
    let FeedFrame::Change(change) = next_frame(&mut alices_feed).await else { panic!("expected a change") };
    assert!(matches!(&change.kind, ChangeKind::Created { notification } if notification.id == marker), "{change:?}");
    // A fresh feed from the start replays only hers.
    let mut replay = hub.feed(&hub.alice, 0).await;
    let FeedFrame::Change(first) = next_frame(&mut replay).await else { panic!("expected the backlog") };
    assert!(matches!(&first.kind, ChangeKind::Created { notification } if notification.id == marker));
    assert!(matches!(next_frame(&mut replay).await, FeedFrame::CaughtUp { .. }));
    assert_bobs_things_untouched(&hub, &bob).await;
}

#[tokio::test]
async fn idempotency_keys_and_ingested_event_ids_belong_to_whoever_used_them() {
    let hub = start().await;
    let app = hub.store.add_app_token("community", None).await.unwrap();
    let bob = bobs_things(&hub, &app).await;

    // Bob's request under a key; Alice's different request under the same key is hers, not a
    // replay of Bob's answer (which would tell her what Bob did).
    let read = |token: &str, ids: Vec<i64>| {
        hub.client
            .post(format!("{}/v1/notifications/read", hub.base))
            .bearer_auth(token)
            .header("idempotency-key", "shared-key")
            .json(&json!({"ids": ids, "read": true}))
            .send()
    };
    let bobs: Value = read(&hub.bob, vec![bob.tagged]).await.unwrap().json().await.unwrap();
    assert_eq!(bobs, json!({"changed": 1}));
    let alices: Value = read(&hub.alice, vec![NO_SUCH_ID]).await.unwrap().json().await.unwrap();
    assert_eq!(alices, json!({"changed": 0}));

    // An event id another app ingested is neither claimed nor confirmed as seen by a third app.
    hub.store.add_user("sc-7").await.unwrap();
    let event = json!({"event_id": 5, "type": "notification.unblocked_user", "data": {"recipients": [7]}});
    let (status, first) = hub.post(&app, "/v1/ingest/selfcommunity", event.to_string()).await;
    assert_eq!((status, first["duplicate"].as_bool()), (200, Some(false)), "{first}");
    let mallory = hub.store.add_app_token("mallory", None).await.unwrap();
    let refused = hub.post(&mallory, "/v1/ingest/selfcommunity", event.to_string()).await;
    assert_refused("another app's source", &refused, (403, ErrorCode::Forbidden));
}
