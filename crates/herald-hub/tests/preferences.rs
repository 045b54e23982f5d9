//! Channels and preferences (seed 001): the type schema, role defaults, the user's switches,
//! locked and critical types, quiet hours and do-not-disturb pushed to the feed.

mod common;

use common::*;

async fn send(hub: &Hub, kind: &str) -> Value {
    let (status, body) = hub
        .post(&hub.app, "/v1/notifications", json!({"to": {"user": "bob"}, "type": kind, "subject": "s"}).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, inbox) = hub.get(&hub.bob, "/v1/notifications?limit=1").await;
    inbox["items"][0].clone()
}

fn switch(kind: &str, channel: &str, enabled: bool) -> Value {
    json!({"type": kind, "channel": channel, "enabled": enabled})
}

#[tokio::test]
async fn the_schema_lists_types_by_module_with_default_and_locked_channels() {
    let hub = start().await;
    let (status, schema) = hub.get(&hub.bob, "/v1/schema").await;
    assert_eq!(status, 200);
    assert_eq!(schema["channels"], json!(["inbox", "desktop", "web_push", "email"]));
    assert_eq!(schema["defaults"], json!({"channels": ["inbox", "desktop", "web_push"], "locked": ["inbox"]}));
    let community = schema["modules"].as_array().unwrap().iter().find(|m| m["module"] == "community").unwrap();
    let comment = community["types"].as_array().unwrap().iter().find(|t| t["type"] == "community.comment").unwrap();
    assert_eq!(comment["channels"], json!(["inbox", "desktop", "web_push", "email"]));
    assert_eq!(comment["locked"], json!(["inbox"]));
    assert_eq!(comment["critical"], false);
    assert_eq!(hub.get("", "/v1/schema").await.0, 401);
}

#[tokio::test]
async fn channels_are_resolved_per_recipient_at_send_time_and_stored_on_the_notification() {
    let hub = start().await;
    let admin = hub.store.add_admin_token().await.unwrap();
    assert_eq!(send(&hub, "community.comment").await["channels"], json!(["inbox", "desktop", "web_push", "email"]));
    assert_eq!(
        send(&hub, "unknown.kind").await["channels"],
        json!(["inbox", "desktop", "web_push"]),
        "unknown: defaults"
    );

    // A role default: finance gets no e-mail for anything in the community module.
    hub.store.grant_role("bob", "finance").await.unwrap();
    let (status, body) = hub
        .call("PUT", &admin, "/v1/admin/roles/finance/preferences", Some(json!([switch("community", "email", false)])))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(send(&hub, "community.comment").await["channels"], json!(["inbox", "desktop", "web_push"]));

    // The user's own switch beats the role's; a type switch beats a module switch.
    let update =
        json!({"overrides": [switch("community.comment", "email", true), switch("community", "desktop", false)]});
    let (status, prefs) = hub.call("PUT", &hub.bob, "/v1/preferences", Some(update)).await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(send(&hub, "community.comment").await["channels"], json!(["inbox", "web_push", "email"]));
    assert_eq!(send(&hub, "community.mention").await["channels"], json!(["inbox", "web_push"]));

    // What the settings page shows: each channel's state and who decided it.
    let (_, prefs) = hub.get(&hub.bob, "/v1/preferences").await;
    let mention = prefs["types"].as_array().unwrap().iter().find(|t| t["type"] == "community.mention").unwrap();
    assert_eq!(
        mention["channels"],
        json!([
            {"channel": "inbox", "on": true, "locked": true, "source": "default"},
            {"channel": "desktop", "on": false, "locked": false, "source": "user"},
            {"channel": "web_push", "on": true, "locked": false, "source": "default"},
            {"channel": "email", "on": false, "locked": false, "source": "role"},
        ])
    );
    assert_eq!(prefs["overrides"].as_array().unwrap().len(), 2);

    // Browser pop-ups are switched apart from desktop toasts: off for mentions, toasts back on.
    let update = json!({"overrides": [switch("community.mention", "web_push", false), switch("community.mention", "desktop", true)]});
    let (status, prefs) = hub.call("PUT", &hub.bob, "/v1/preferences", Some(update)).await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(send(&hub, "community.mention").await["channels"], json!(["inbox", "desktop"]));

    // Preferences are per user: alice still gets everything.
    let (status, body) = hub
        .post(
            &hub.app,
            "/v1/notifications",
            json!({"to": {"user": "alice"}, "type": "community.mention", "subject": "s"}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, alices) = hub.get(&hub.alice, "/v1/notifications").await;
    assert_eq!(alices["items"][0]["channels"], json!(["inbox", "desktop", "web_push", "email"]));
}

#[tokio::test]
async fn nobody_turns_off_the_inbox_a_locked_channel_or_a_critical_type() {
    let hub = start().await;
    for (bad, why) in [
        (switch("community.comment", "inbox", false), "inbox"),
        (switch("system.maintenance", "email", false), "critical"),
        (switch("purchase.approval", "desktop", false), "locked"),
        (switch("Not A Type", "email", false), "bad name"),
        (json!({"type": "x.y", "channel": "pager", "enabled": false}), "unknown channel"),
    ] {
        let (status, body) = hub.call("PUT", &hub.bob, "/v1/preferences", Some(json!({"overrides": [bad]}))).await;
        assert_eq!(status, 400, "{why}: {body}");
    }
    let (_, prefs) = hub.get(&hub.bob, "/v1/preferences").await;
    assert_eq!(prefs["overrides"], json!([]), "a refused update changes nothing");

    // A module-wide "off" leaves a critical type in that module untouched.
    let off = json!({"overrides": [switch("system", "desktop", false), switch("system", "email", false)]});
    assert_eq!(hub.call("PUT", &hub.bob, "/v1/preferences", Some(off)).await.0, 200);
    assert_eq!(send(&hub, "system.maintenance").await["channels"], json!(["inbox", "desktop", "web_push", "email"]));
    assert_eq!(send(&hub, "system.other").await["channels"], json!(["inbox", "web_push"]));
}

#[tokio::test]
async fn quiet_hours_and_do_not_disturb_are_kept_and_reach_every_open_feed() {
    let hub = start().await;
    let mut feed = hub.feed(&hub.bob, 0).await;
    let first = frames_until_caught_up(&mut feed).await;
    assert!(first.contains(&FeedFrame::DoNotDisturb(Default::default())), "announced on connect: {first:?}");

    let quiet = json!({"timezone": "Europe/Berlin", "periods": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "22:00", "to": "07:00"}]});
    let (status, body) = hub
        .call(
            "PUT",
            &hub.bob,
            "/v1/preferences",
            Some(json!({"quiet_hours": quiet, "dnd_until": "2026-11-21T12:00:00+01:00"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dnd_until"], "2026-11-21T11:00:00.000Z", "kept in UTC");
    let FeedFrame::DoNotDisturb(pushed) = next_frame_any(&mut feed).await else { panic!("expected do_not_disturb") };
    assert_eq!(pushed.quiet_hours.as_ref().unwrap().timezone, "Europe/Berlin");
    assert_eq!(pushed.dnd_until.as_deref(), Some("2026-11-21T11:00:00.000Z"));

    // Leaving a field out keeps it; null clears it.
    let (_, body) = hub.call("PUT", &hub.bob, "/v1/preferences", Some(json!({"dnd_until": null}))).await;
    assert_eq!(
        (body["dnd_until"].clone(), body["quiet_hours"]["timezone"].clone()),
        (Value::Null, json!("Europe/Berlin"))
    );
    let FeedFrame::DoNotDisturb(pushed) = next_frame_any(&mut feed).await else { panic!("expected do_not_disturb") };
    assert_eq!(pushed.dnd_until, None);

    // Another device connecting later learns the current state first thing.
    let mut later = hub.feed(&hub.bob, 0).await;
    let frames = frames_until_caught_up(&mut later).await;
    assert!(frames
        .iter()
        .any(|f| matches!(f, FeedFrame::DoNotDisturb(d) if d.quiet_hours.is_some() && d.dnd_until.is_none())));

    for bad in [
        json!({"quiet_hours": {"timezone": "Mars/Olympus", "periods": []}}),
        json!({"quiet_hours": {"timezone": "UTC", "periods": [{"days": [], "from": "22:00", "to": "07:00"}]}}),
        json!({"quiet_hours": {"timezone": "UTC", "periods": [{"days": ["mon"], "from": "25:00", "to": "07:00"}]}}),
        json!({"quiet_hours": {"timezone": "UTC", "periods": [{"days": ["someday"], "from": "22:00", "to": "07:00"}]}}),
        json!({"dnd_until": "in an hour"}),
        json!({"dnd": null}),
    ] {
        let (status, body) = hub.call("PUT", &hub.bob, "/v1/preferences", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

/// Frames up to and including `caught_up`, the hello excluded.
async fn frames_until_caught_up(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Vec<FeedFrame> {
    let mut frames = Vec::new();
    loop {
        let frame = next_frame_any(ws).await;
        let done = matches!(frame, FeedFrame::CaughtUp { .. });
        frames.push(frame);
        if done {
            return frames;
        }
    }
}
