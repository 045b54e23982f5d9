//! Live events (seed 000): pushed to connected clients only, never stored.

mod common;

use common::*;
use herald_proto::LiveKind;

#[tokio::test]
async fn a_live_event_reaches_connected_feeds_only_and_is_never_replayed() {
    let hub = start().await;
    let app = hub.store.add_app_token("pbx", None).await.unwrap();
    let mut feed = hub.feed(&hub.bob, 0).await;
    assert_eq!(next_frame(&mut feed).await, FeedFrame::CaughtUp { seq: 0 });

    let call = json!({
        "to": {"users": ["alice", "bob"]}, "kind": "call", "ttl_seconds": 30, "title": "Call from Ann Lee",
        "body": "+1 555 0134", "actions": [{"value": "answer", "label": "Answer"}, {"value": "decline", "label": "Decline"}]
    });
    let (status, sent) = hub.post(&app, "/v1/events", call.to_string()).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        (sent["recipients"].as_u64(), sent["connected"].as_u64()),
        (Some(2), Some(1)),
        "alice has no client open"
    );
    let FeedFrame::Event(event) = next_frame(&mut feed).await else { panic!("expected the live event") };
    assert_eq!((event.kind, event.title.as_str(), event.actions.len()), (LiveKind::Call, "Call from Ann Lee", 2));
    assert_eq!(event.id, sent["id"]);
    assert!(event.expires_at > event.at.clone().unwrap_or_default());

    // A shutdown warning carries when it happens, normalised to UTC.
    let shutdown = json!({"to": {"user": "bob"}, "kind": "shutdown", "ttl_seconds": 600, "title": "Shutdown at 18:00",
                          "at": "2026-11-21T20:00:00+02:00"});
    hub.post(&app, "/v1/events", shutdown.to_string()).await;
    let FeedFrame::Event(event) = next_frame(&mut feed).await else { panic!("expected the shutdown warning") };
    assert_eq!(event.at.as_deref(), Some("2026-11-21T18:00:00.000Z"));

    // Not in the change log: a fresh connection replays nothing, and bob's inbox is empty.
    let mut again = hub.feed(&hub.bob, 0).await;
    assert_eq!(next_frame(&mut again).await, FeedFrame::CaughtUp { seq: 0 });
    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    assert!(page["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn live_events_come_from_apps_with_a_sane_time_to_live() {
    let hub = start().await;
    let app = hub.store.add_app_token("erp", None).await.unwrap();
    let event = |ttl: u32| {
        json!({"to": {"user": "bob"}, "kind": "reminder", "ttl_seconds": ttl, "title": "Stand-up"}).to_string()
    };
    let (status, got) = hub.post(&hub.alice, "/v1/events", event(30)).await;
    assert_eq!((status, code(&got)), (403, ErrorCode::Forbidden), "a user cannot push live events");
    for ttl in [0, 86_401] {
        let (status, got) = hub.post(&app, "/v1/events", event(ttl)).await;
        assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "ttl {ttl}");
    }
    let (status, got) = hub
        .post(
            &app,
            "/v1/events",
            json!({"to": {"user": "bob"}, "kind": "party", "ttl_seconds": 5, "title": "x"}).to_string(),
        )
        .await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "unknown kind: {got}");
    let (status, got) = hub.post(&app, "/v1/events", event(30)).await;
    assert_eq!((status, got["connected"].as_u64()), (200, Some(0)), "nobody connected: gone");
}

#[tokio::test]
async fn a_response_to_a_live_event_reaches_the_sending_app_once_per_recipient() {
    let hub = start().await;
    let mut pbx_side = callback_server(vec![], None).await;
    let pbx = hub.store.add_app_token("pbx", Some(&pbx_side.url)).await.unwrap();
    let (_, cy) = hub.store.add_user("cy").await.unwrap();
    let call = json!({
        "to": {"users": ["alice", "bob"]}, "kind": "call", "ttl_seconds": 30, "title": "Call from Ann Lee",
        "actions": [{"value": "answer", "label": "Answer"}, {"value": "decline", "label": "Decline"}]
    });
    let (_, sent) = hub.post(&pbx, "/v1/events", call.to_string()).await;
    let path = format!("/v1/events/{}/respond", sent["id"].as_str().unwrap());

    let (status, body) = hub.post(&hub.bob, &path, json!({"action": "answer"}).to_string()).await;
    assert_eq!(status, 200, "{body}");
    let (_, payload, _) = pbx_side.next().await;
    assert_eq!(payload["type"], "event.responded");
    assert_eq!((payload["user"].clone(), payload["action"].clone()), (json!("bob"), json!("answer")));
    assert_eq!(payload["event"]["id"], sent["id"]);
    assert_eq!(payload["event"]["kind"], "call");

    let (status, body) = hub.post(&hub.bob, &path, json!({"action": "decline"}).to_string()).await;
    assert_eq!((status, code(&body)), (409, ErrorCode::Conflict), "once per recipient");
    let (status, body) = hub.post(&hub.alice, &path, json!({"action": "snooze"}).to_string()).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "only one of its actions");
    let (status, body) = hub.post(&cy, &path, json!({"action": "answer"}).to_string()).await;
    assert_eq!((status, code(&body)), (404, ErrorCode::NotFound), "not cy's call");
    let (status, body) = hub.post(&hub.bob, "/v1/events/nope/respond", json!({"action": "answer"}).to_string()).await;
    assert_eq!((status, code(&body)), (404, ErrorCode::NotFound));
    let (status, _) = hub.post(&hub.alice, &path, json!({"action": "decline"}).to_string()).await;
    assert_eq!(status, 200, "alice may still decline");
    let (_, payload, _) = pbx_side.next().await;
    assert_eq!((payload["user"].clone(), payload["action"].clone()), (json!("alice"), json!("decline")));
}

/// A call answered on one device stops ringing on the user's others: each of their feeds hears
/// that it was answered, and no one else's does.
#[tokio::test]
async fn an_answer_on_one_device_is_told_to_all_the_users_feeds_only() {
    let hub = start().await;
    let pbx = hub.store.add_app_token("pbx", None).await.unwrap();
    let mut desktop = hub.feed(&hub.bob, 0).await;
    let mut laptop = hub.feed(&hub.bob, 0).await;
    let mut alices = hub.feed(&hub.alice, 0).await;
    for feed in [&mut desktop, &mut laptop, &mut alices] {
        assert!(matches!(next_frame(feed).await, FeedFrame::CaughtUp { .. }));
    }
    let call = json!({
        "to": {"users": ["alice", "bob"]}, "kind": "call", "ttl_seconds": 30, "title": "Call from Ann Lee",
        "actions": [{"value": "answer", "label": "Answer"}, {"value": "decline", "label": "Decline"}]
    });
    let (_, sent) = hub.post(&pbx, "/v1/events", call.to_string()).await;
    let id = sent["id"].as_str().unwrap().to_owned();
    for feed in [&mut desktop, &mut laptop, &mut alices] {
        assert!(matches!(next_frame(feed).await, FeedFrame::Event(e) if e.id == id));
    }
    let (status, body) =
        hub.post(&hub.bob, &format!("/v1/events/{id}/respond"), json!({"action": "answer"}).to_string()).await;
    assert_eq!(status, 200, "{body}");
    for feed in [&mut desktop, &mut laptop] {
        match next_frame(feed).await {
            FeedFrame::EventAnswered { id: answered, action, at } => {
                assert_eq!((answered.as_str(), action.as_str()), (id.as_str(), "answer"));
                assert_eq!(at, body["at"].as_str().unwrap());
            }
            other => panic!("expected the answer, got {other:?}"),
        }
    }
    // Alice's call still rings: the next thing her feed hears is the next event, not bob's answer.
    let ping = json!({"to": {"user": "alice"}, "kind": "reminder", "ttl_seconds": 30, "title": "Stand-up"});
    hub.post(&pbx, "/v1/events", ping.to_string()).await;
    assert!(matches!(next_frame(&mut alices).await, FeedFrame::Event(e) if e.title == "Stand-up"));
}

#[tokio::test]
async fn an_event_may_carry_a_notification_that_is_stored_for_the_same_recipients() {
    let hub = start().await;
    let pbx = hub.store.add_app_token("pbx", None).await.unwrap();
    let mut feed = hub.feed(&hub.bob, 0).await;
    assert!(matches!(next_frame(&mut feed).await, FeedFrame::CaughtUp { .. }));
    let call = json!({
        "to": {"user": "bob"}, "kind": "call", "ttl_seconds": 30, "title": "Call from Ann Lee",
        "notification": {"type": "phone.missed_call", "subject": "Missed call from Ann Lee", "tag": "call-77"}
    });
    let (status, sent) = hub.post(&pbx, "/v1/events", call.to_string()).await;
    assert_eq!(status, 200, "{sent}");
    let ids = sent["notification_ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 1);
    // The stored notification and the live event travel on different buses: either may come first.
    let (first, second) = (next_frame(&mut feed).await, next_frame(&mut feed).await);
    let (change, event) = match (first, second) {
        (FeedFrame::Change(change), FeedFrame::Event(event)) | (FeedFrame::Event(event), FeedFrame::Change(change)) => {
            (change, event)
        }
        other => panic!("expected the stored notification and the live event, got {other:?}"),
    };
    assert!(
        matches!(&change.kind, ChangeKind::Created { notification } if notification.subject == "Missed call from Ann Lee")
    );
    assert_eq!(event.title, "Call from Ann Lee");

    let bad = json!({"to": {"user": "bob"}, "kind": "call", "ttl_seconds": 30, "title": "Call", "notification": {"body": "no subject"}});
    let (status, body) = hub.post(&pbx, "/v1/events", bad.to_string()).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{body}");
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "a refused event stores nothing");
}
