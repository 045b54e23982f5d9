//! Answering notifications: confirm buttons and text replies, once, as seed 003 describes.

mod common;

use common::*;

#[tokio::test]
async fn a_confirm_notification_takes_one_of_its_values_once_and_stays_unread_until_then() {
    let hub = start().await;
    let body = json!({
        "to": {"user": "bob"}, "type": "calendar.invite", "subject": "Sprint review, 10:00",
        "buttons": [{"value": "Y", "label": "Accept", "style": "accept"}, {"value": "N", "label": "Decline", "style": "cancel"}]
    });
    let (_, sent) = hub.post(&hub.app, "/v1/notifications", body.to_string()).await;
    let id = sent["ids"][0].as_i64().unwrap();
    hub.send_to("bob", "plain").await;

    // Bulk reading skips it while it waits for an answer.
    let (_, read) = hub.post(&hub.bob, "/v1/notifications/read-all", "").await;
    assert_eq!(read["changed"], 1, "only the plain one");
    let (_, read) = hub.post(&hub.bob, "/v1/notifications/read", json!({"ids": [id], "read": true}).to_string()).await;
    assert_eq!(read["changed"], 0);

    let confirm = |token: &str, value: &str| {
        let (hub, token, body) = (&hub, token.to_owned(), json!({"value": value}).to_string());
        async move { hub.post(&token, &format!("/v1/notifications/{id}/confirm"), body).await }
    };
    let (status, got) = confirm(&hub.bob, "maybe").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "only a value among its buttons");
    let (status, got) = confirm(&hub.alice, "Y").await;
    assert_eq!((status, code(&got)), (404, ErrorCode::NotFound), "not alice's to answer");
    let (status, answered) = confirm(&hub.bob, "Y").await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!((answered["answer"]["value"].clone(), answered["read"].clone()), (json!("Y"), json!(true)));
    assert!(answered["answer"]["at"].as_str().is_some_and(|at| !at.is_empty()));
    let (status, got) = confirm(&hub.bob, "N").await;
    assert_eq!((status, code(&got)), (409, ErrorCode::Conflict), "once only");

    let (_, page) = hub.get(&hub.bob, "/v1/notifications").await;
    let listed = page["items"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap().clone();
    assert_eq!(listed["answer"]["value"], "Y");
    assert_eq!(listed["buttons"][1]["style"], "cancel");

    // The feed carries the answer as an update.
    let mut feed = hub.feed(&hub.bob, 0).await;
    let mut last = None;
    while let FeedFrame::Change(change) = next_frame(&mut feed).await {
        last = Some(change.kind);
    }
    assert!(matches!(last, Some(ChangeKind::Updated { notification }) if notification.id == id && notification.read));
}

#[tokio::test]
async fn a_text_answer_is_taken_only_where_a_reply_is_allowed() {
    let hub = start().await;
    let body = json!({"to": {"user": "bob"}, "subject": "Ann asks: lunch?", "reply": {"placeholder": "Your answer"}});
    let (_, sent) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
    let id = sent["ids"][0].as_i64().unwrap();
    let no_reply = hub.send_to("bob", "FYI").await;

    let answer = |id: i64, text: &str| {
        let (hub, body) = (&hub, json!({"text": text}).to_string());
        async move { hub.post(&hub.bob, &format!("/v1/notifications/{id}/answer"), body).await }
    };
    let (status, got) = answer(no_reply, "hi").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest));
    let (status, got) = answer(id, "   ").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "an empty answer");
    let (status, got) = answer(id, "Yes, 12:30").await;
    assert_eq!((status, got["answer"]["text"].clone()), (200, json!("Yes, 12:30")));
    assert_eq!(answer(id, "again").await.0, 409);
}

#[tokio::test]
async fn buttons_are_checked_when_sent() {
    let hub = start().await;
    let cases = [
        json!([{"value": "Y", "label": "Yes"}, {"value": "Y", "label": "Also yes"}]),
        json!([{"value": "", "label": "Empty"}]),
        json!([{"value": "Y", "label": "  "}]),
        json!((0..6).map(|i| json!({"value": i.to_string(), "label": "b"})).collect::<Vec<_>>()),
    ];
    for buttons in cases {
        let body = json!({"to": {"user": "bob"}, "subject": "x", "buttons": buttons});
        let (status, got) = hub.post(&hub.alice, "/v1/notifications", body.to_string()).await;
        assert_eq!((status, code(&got)), (400, ErrorCode::InvalidRequest), "{buttons}");
    }
}
