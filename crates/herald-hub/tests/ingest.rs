//! `POST /v1/ingest/selfcommunity`: every `notification.*` event of seed 004 becomes one
//! notification per recipient through editable templates; repeats, unknown types and template
//! errors are handled without a 500.

mod common;

use std::time::{Duration, SystemTime};

use common::*;

fn samples() -> Vec<Value> {
    serde_json::from_str(include_str!("fixtures/selfcommunity_events.json")).unwrap()
}

async fn hub_with_community_user() -> (Hub, String) {
    let hub = start().await;
    hub.store.add_user("sc-7").await.unwrap();
    let app = hub.store.add_app_token("community", None).await.unwrap();
    (hub, app)
}

#[tokio::test]
async fn every_seed_004_event_becomes_a_notification_for_its_recipient() {
    let (hub, app) = hub_with_community_user().await;
    let sc7 = hub.store.user_by_name("sc-7").await.unwrap().unwrap();
    for sample in samples() {
        let (status, body) = hub.post(&app, "/v1/ingest/selfcommunity", sample.to_string()).await;
        assert_eq!(status, 200, "{}: {body}", sample["type"]);
        assert_eq!(body["ids"].as_array().unwrap().len(), 1, "{}: {body}", sample["type"]);
        assert_eq!(body["duplicate"], false);
    }
    let (items, _) = hub.store.list(sc7.id, None, 100).await.unwrap();
    let comment = items.iter().find(|n| n.kind == "community.comment").unwrap();
    assert_eq!(comment.subject, "Ann Lee replied to a comment on \u{201c}Quarterly planning thread\u{201d}");
    assert_eq!(comment.body, "Thanks, great idea & well put", "HTML became text");
    assert_eq!(comment.sender, None, "a system notification");
    assert!(items.iter().all(|n| n.kind.starts_with("community.")));
    // Same-tag replacement applies: the unblock replaced the block, the reply the comment.
    assert_eq!(items.iter().filter(|n| n.tag.as_deref() == Some("account-block")).count(), 1);
    let (_, bobs) = hub.get(&hub.bob, "/v1/notifications").await;
    assert_eq!(bobs["items"], json!([]), "only the event's recipients");
}

#[tokio::test]
async fn a_repeated_event_id_is_ignored() {
    let (hub, app) = hub_with_community_user().await;
    let event = samples().into_iter().find(|s| s["type"] == "notification.private_message").unwrap();
    let (_, first) = hub.post(&app, "/v1/ingest/selfcommunity", event.to_string()).await;
    let (status, again) = hub.post(&app, "/v1/ingest/selfcommunity", event.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!((again["duplicate"].clone(), again["ids"].clone()), (json!(true), json!([])));
    assert_eq!(first["ids"].as_array().unwrap().len(), 1);
    let sc7 = hub.store.user_by_name("sc-7").await.unwrap().unwrap();
    assert_eq!(hub.store.list(sc7.id, None, 10).await.unwrap().0.len(), 1);
}

#[tokio::test]
async fn unknown_types_sources_recipients_and_template_errors_get_clear_answers() {
    let (hub, app) = hub_with_community_user().await;
    let ingest = |token: &str, path: &str, body: Value| {
        let (hub, token, path) = (&hub, token.to_owned(), path.to_owned());
        async move { hub.post(&token, &path, body.to_string()).await }
    };
    let (status, body) = ingest(
        &app,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 1, "type": "notification.teleport", "data": {"recipients": [7]}}),
    )
    .await;
    assert_eq!((status, code(&body)), (422, ErrorCode::UnknownEventType));
    assert!(body["message"].as_str().unwrap().contains("notification.teleport"), "{body}");

    // The template needs data.message, which this event lacks.
    let (status, body) = ingest(
        &app,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 2, "type": "notification.private_message", "data": {"recipients": [7]}}),
    )
    .await;
    assert_eq!((status, code(&body)), (422, ErrorCode::TemplateError));
    assert!(body["message"].as_str().unwrap().contains("private_message/subject"), "{body}");

    let (status, body) =
        ingest(&app, "/v1/ingest/selfcommunity", json!({"event_id": 3, "type": "notification.unblocked_user"})).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{body}");
    let (status, body) = ingest(
        &app,
        "/v1/ingest/selfcommunity",
        json!({"type": "notification.unblocked_user", "data": {"recipients": [7]}}),
    )
    .await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "no event_id: {body}");
    let (status, body) =
        ingest(&app, "/v1/ingest/jira", json!({"event_id": 4, "type": "x", "data": {"recipients": []}})).await;
    assert_eq!((status, code(&body)), (404, ErrorCode::NotFound));
    let (status, body) = ingest(
        &hub.bob,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 5, "type": "notification.unblocked_user", "data": {"recipients": [7]}}),
    )
    .await;
    assert_eq!((status, code(&body)), (403, ErrorCode::Forbidden), "users do not ingest");

    // Only the apps the source names may post its events.
    let other_app = hub.store.add_app_token("mallory", None).await.unwrap();
    let (status, body) = ingest(
        &other_app,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 7, "type": "notification.unblocked_user", "data": {"recipients": [7]}}),
    )
    .await;
    assert_eq!((status, code(&body)), (403, ErrorCode::Forbidden), "{body}");
    let (status, body) = ingest(
        &app,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 7.5, "type": "notification.unblocked_user", "data": {"recipients": [7]}}),
    )
    .await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "event ids are strings or integers: {body}");
    let (status, body) = ingest(
        &app,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 8, "type": "notification.unblocked_user", "data": {"recipients": [7, 7]}}),
    )
    .await;
    assert_eq!((status, body["ids"].as_array().unwrap().len()), (200, 1), "a repeated recipient gets one: {body}");

    // A recipient without a Herald account is reported; the others still get theirs.
    let (status, body) = ingest(
        &app,
        "/v1/ingest/selfcommunity",
        json!({"event_id": 6, "type": "notification.unblocked_user", "data": {"recipients": [7, 99]}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["ids"].as_array().unwrap().len(), body["unknown_recipients"].clone()), (1, json!([99])));

    // A refused event was not recorded: sent again once fixed, it is ingested.
    let fixed = json!({"event_id": 2, "type": "notification.unblocked_user", "data": {"recipients": [7]}});
    let (_, body) = ingest(&app, "/v1/ingest/selfcommunity", fixed).await;
    assert_eq!(body["duplicate"], false);
}

#[tokio::test]
async fn templates_are_edited_in_the_file_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ingest.toml");
    let write = |subject: &str, age: u64| {
        let text = format!(
            "[sources.selfcommunity]\nrecipient = \"sc-{{{{ recipient }}}}\"\n\
             [sources.selfcommunity.events.\"notification.unblocked_user\"]\ntype = \"community.moderation\"\nsubject = \"{subject}\"\n"
        );
        std::fs::write(&path, text).unwrap();
        // Distinct modification times, whatever the file system's resolution.
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(age)).unwrap();
    };
    write("Unblocked", 100);
    let ingest = herald_hub::ingest::IngestConfig::from_file(&path).unwrap();
    let config = herald_hub::HubConfig { ingest: std::sync::Arc::new(ingest), ..Default::default() };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    hub.store.add_user("sc-7").await.unwrap();
    let app = hub.store.add_app_token("community", None).await.unwrap();
    let send = |id: u32| {
        let body =
            json!({"event_id": id, "type": "notification.unblocked_user", "data": {"recipients": [7]}}).to_string();
        let (hub, app) = (&hub, app.clone());
        async move { hub.post(&app, "/v1/ingest/selfcommunity", body).await }
    };
    let subject_of_newest = || async {
        let sc7 = hub.store.user_by_name("sc-7").await.unwrap().unwrap();
        hub.store.list(sc7.id, None, 1).await.unwrap().0[0].subject.clone()
    };
    assert_eq!(send(1).await.0, 200);
    assert_eq!(subject_of_newest().await, "Unblocked");

    write("You can post again", 50);
    assert_eq!(send(2).await.0, 200);
    assert_eq!(subject_of_newest().await, "You can post again");

    write("{{ broken", 10);
    let (status, body) = send(3).await;
    assert_eq!((status, code(&body)), (422, ErrorCode::TemplateError), "a broken edit is a 422, never a 500");
    write("Fixed", 1);
    assert_eq!(send(3).await.0, 200, "and the same event goes through once the file is fixed");
}
