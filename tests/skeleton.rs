//! The walking skeleton, end to end with real processes: a notification posted to herald-hub
//! over HTTP becomes a native toast (a Notify call on the session bus) and a row in the agent's
//! offline mirror; the tray tells the unread count and the link state; the inbox survives the
//! hub going away and the agent being killed.

use herald_client::ipc::{Event, Request};
use herald_client::sync::ConnectionState;
use herald_e2e::agent::{inbox_subjects, online, unread, Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::daemon::NotificationDaemon;
use herald_e2e::desktop::Desktop;
use herald_e2e::hub::Hub;
use herald_e2e::tray::Tray;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_notification_reaches_the_toast_the_tray_and_the_offline_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let mut daemon = NotificationDaemon::start(&bus.address).await;
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");

    // A stand-in for herald-ui that exits at once (the real webview has its own test, webview.rs).
    let ui_bin = dir.path().join("fake-herald-ui");
    std::fs::write(&ui_bin, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&ui_bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let env = AgentEnv { ui_bin: Some(ui_bin), ..AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address) };
    let mut agent = Agent::start(&env).await;
    let mut window = agent.window().await;
    window.wait_for("the agent to come online", online).await;

    // 1. Posted over HTTP → a native toast with that subject.
    hub.send(&erp, "bob", "PO-2026-0042 needs your approval", "Requested by Finance <finance@acme>").await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.app_name, "Herald");
    assert_eq!(toast.summary, "PO-2026-0042 needs your approval");
    assert_eq!(toast.body, "Requested by Finance &lt;finance@acme&gt;", "untrusted text is escaped for body markup");
    assert!(toast.actions.contains(&"default".to_owned()), "clicking the toast opens the inbox: {:?}", toast.actions);

    // 2. The mirror holds it, and the windows and the tray are told.
    assert_eq!(window.wait_for("the unread count to reach 1", |e| unread(e).filter(|n| *n == 1)).await, 1);
    assert_eq!(inbox_subjects(&agent.config), ["PO-2026-0042 needs your approval"]);
    let tray = Tray::find(bus.connect().await, &bus.address, agent.pid()).await;
    let tip = tray.wait_for_tooltip("the tooltip to count 1 unread", |t| t == "1 unread notification").await;
    assert_eq!(tip, "1 unread notification");
    let labels: Vec<String> = tray.menu().await.into_iter().map(|(_, l)| l).collect();
    assert_eq!(labels, [&["PO-2026-0042 needs your approval"][..], &herald_e2e::tray::FIXED_ITEMS].concat());

    // 3. "Open inbox" in the tray starts the window process; so does clicking the toast.
    tray.click("Open inbox").await;
    let opened = agent.wait_for_log("opening a window").await;
    assert!(opened.contains("started the UI") && opened.contains("fake-herald-ui"), "{opened}");
    assert!(opened.contains("Inbox { show: None }"), "{opened}");
    daemon.invoke_action(toast.id, "default").await;
    let opened = agent.wait_for_log("opening a window").await;
    assert!(opened.contains("Inbox { show: Some("), "at the toast's notification: {opened}");

    // 4. Reading it in the window: the count drops at once and the hub learns it.
    let id = hub.list(&bob).await[0]["id"].as_i64().unwrap();
    window.send(Request::MarkRead { ids: vec![id], read: true }).await;
    assert_eq!(window.wait_for("the unread count to drop", |e| unread(e).filter(|n| *n == 0)).await, 0);
    tray.wait_for_tooltip("the tray to show nothing unread", |t| t == "No unread notifications").await;
    agent.wait_for_log("outbox flushed").await;
    assert_eq!(hub.list(&bob).await[0]["read"], true);

    // 5. One more arrives and stays unread; then the hub disappears: the tray says so.
    hub.send(&erp, "bob", "Task due in 15 minutes", "Send the contract to Acme").await;
    assert_eq!(daemon.next_toast().await.summary, "Task due in 15 minutes");
    window.wait_for("one unread again", |e| unread(e).filter(|n| *n == 1)).await;
    let (hub_addr, hub_data) = hub.kill();
    window
        .wait_for("the agent to notice the hub is gone", |e| {
            matches!(e, Event::Connection { connection: ConnectionState::Offline { .. } }).then_some(())
        })
        .await;
    let tip = tray.wait_for_tooltip("a disconnected tooltip", |t| t.contains("disconnected")).await;
    assert!(tip.contains("retrying in"), "{tip}");

    // 6. The agent is killed and started again with the hub still down: the inbox still lists it.
    drop(window);
    agent.kill();
    let mut agent = Agent::start(&env).await;
    let mut window = agent.window().await;
    assert_eq!(window.wait_for("the cached unread count", unread).await, 1, "counted from the mirror, before any sync");
    assert_eq!(inbox_subjects(&agent.config), ["Task due in 15 minutes", "PO-2026-0042 needs your approval"]);
    agent.wait_for_log("sync disconnected").await;

    // 7. A second `herald` hands over to the first and exits.
    let second = env.command().output().unwrap();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(String::from_utf8_lossy(&second.stdout).contains("already running"));
    agent.wait_for_log("opening a window").await;

    // 8. The hub comes back on the same address: the agent reconnects by itself, with no
    //    duplicate of what it had and nothing missed.
    let hub = Hub::start(&hub_data, &hub_addr.to_string());
    window.wait_for("the agent to reconnect", online).await;
    hub.send(&erp, "bob", "Call from Ann Lee", "Incoming call").await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.summary, "Call from Ann Lee");
    assert_eq!(window.wait_for("the new unread count", |e| unread(e).filter(|n| *n == 2)).await, 2);
    assert_eq!(
        inbox_subjects(&agent.config),
        ["Call from Ann Lee", "Task due in 15 minutes", "PO-2026-0042 needs your approval"]
    );
    assert!(daemon.pending_toast().is_none(), "the old notification was not toasted again");

    // 9. A live event (a call) becomes a toast too, but never enters the inbox.
    let pbx = hub.add_app("pbx");
    assert_eq!(hub.push_event(&pbx, "bob", "call", "Incoming call: +1 555 0134").await, 1);
    assert_eq!(daemon.next_toast().await.summary, "Incoming call: +1 555 0134");
    assert_eq!(inbox_subjects(&agent.config).len(), 3);
    // Windows can list it while it lasts: the open one is told, one opened later gets it too.
    let listed = |e: &Event| match e {
        Event::LiveEvents { events } => events.first().map(|e| e.title.clone()),
        _ => None,
    };
    assert_eq!(window.wait_for("the live event listed", listed).await, "Incoming call: +1 555 0134");
    let mut later = agent.window().await;
    assert_eq!(later.wait_for("the live event listed on connect", listed).await, "Incoming call: +1 555 0134");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_disturb_holds_toasts_back_and_a_toast_closes_once_read_here_or_elsewhere() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, bob, erp, mut agent, mut window, .. } =
        Desktop::online().await;

    // Do not disturb for an hour, set on the hub (as from another device): the feed tells the agent.
    let until = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let until = until.format(&time::format_description::well_known::Rfc3339).unwrap();
    hub.put_preferences(&bob, serde_json::json!({"dnd_until": until})).await;
    agent.wait_for_log("toasts now held back").await;

    hub.send(&erp, "bob", "Weekly digest", "Nothing urgent").await;
    assert_eq!(window.wait_for("the inbox to count it", |e| unread(e).filter(|n| *n == 1)).await, 1);
    let fire = hub
        .send_fields(&erp, "bob", serde_json::json!({"subject": "Server room on fire", "priority": "critical"}))
        .await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.summary, "Server room on fire", "critical breaks through; the digest never toasted");
    assert!(daemon.pending_toast().is_none());

    // Read in the window: its toast closes.
    window.send(Request::MarkRead { ids: vec![fire], read: true }).await;
    assert_eq!(daemon.next_close().await, toast.id);

    // Turned off again: toasts come back.
    hub.put_preferences(&bob, serde_json::json!({"dnd_until": null})).await;
    agent.wait_for_log("toasts now shown").await;
    let task = hub.send(&erp, "bob", "Task due in 15 minutes", "Send the contract").await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.summary, "Task due in 15 minutes");

    // Read on another device: the feed says so and the toast here closes too.
    hub.mark_read(&bob, task).await;
    assert_eq!(daemon.next_close().await, toast.id);
}

/// A notification sent with the tag of an earlier one replaces it on the hub; its toast is
/// updated in place (the same toast id, `replaces_id`), not closed and shown again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tagged_notification_updates_its_toast_in_place() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, erp, agent, mut window, .. } = Desktop::online().await;

    hub.send_fields(&erp, "bob", serde_json::json!({"subject": "PO-42 waits for your approval", "tag": "po-42"})).await;
    let first = daemon.next_toast().await;
    let approved =
        hub.send_fields(&erp, "bob", serde_json::json!({"subject": "PO-42 was approved by Ann", "tag": "po-42"})).await;
    let second = daemon.next_toast().await;
    assert_eq!(second.summary, "PO-42 was approved by Ann");
    assert_eq!(second.id, first.id, "the same toast, updated");
    assert_eq!(daemon.pending_close(), None, "never closed and reopened");
    assert_eq!(inbox_subjects(&agent.config), ["PO-42 was approved by Ann"], "the list holds the newer one only");
    // Read: the (one) toast closes once, and nothing closed it before.
    window.send(Request::MarkRead { ids: vec![approved], read: true }).await;
    assert_eq!(daemon.next_close().await, first.id);
    assert_eq!(daemon.pending_close(), None, "closed once");
}

/// The toast's own buttons, pressed in the notification daemon with every window closed: the
/// agent records what was chosen and the hub gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_made_on_a_toast_and_a_call_answered_on_its_toast_reach_the_hub() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, bob, erp, mut agent, window: _window, .. } =
        Desktop::online().await;

    // A confirm request: its choices and "Mark read" are the toast's buttons.
    let fields = serde_json::json!({
        "subject": "Lunch with the Acme team at 12?",
        "buttons": [{"value": "Y", "label": "Accept"}, {"value": "N", "label": "Decline"}],
    });
    let id = hub.send_fields(&erp, "bob", fields).await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.summary, "Lunch with the Acme team at 12?");
    let pairs: Vec<&[String]> = toast.actions.chunks(2).collect();
    assert_eq!(
        pairs,
        [["default", "Open inbox"], ["confirm:Y", "Accept"], ["confirm:N", "Decline"], ["read", "Mark read"]]
            .map(|p| p.map(String::from))
            .iter()
            .map(|p| &p[..])
            .collect::<Vec<_>>()
    );
    daemon.invoke_action(toast.id, "confirm:N").await;
    agent.wait_for_log("outbox flushed").await;
    let on_hub = hub.list(&bob).await.into_iter().find(|n| n["id"] == id).unwrap();
    assert_eq!(on_hub["answer"]["value"], "N", "{on_hub}");

    // A call: answered from its toast; the hub then refuses a second answer.
    let pbx = hub.add_app("pbx");
    let call = serde_json::json!({
        "kind": "call", "ttl_seconds": 60, "title": "Call from Ann Lee", "body": "+1 555 0134",
        "actions": [{"value": "answer", "label": "Answer"}, {"value": "decline", "label": "Decline"}],
    });
    let event = hub.push_event_fields(&pbx, "bob", call).await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.summary, "Call from Ann Lee");
    assert!(toast.actions.contains(&"respond:answer".to_owned()), "{:?}", toast.actions);
    daemon.invoke_action(toast.id, "respond:answer").await;
    agent.wait_for_log("outbox flushed").await;
    let event_id = event["id"].as_str().unwrap();
    assert_eq!(hub.respond_to_event(&bob, event_id, "decline").await, 409, "already answered from the toast");
}

/// A shutdown warning counts down in one toast updated in place (never a stack), and a call's
/// toast closes when the call stops ringing (its time to live ends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_countdown_updates_in_place_and_a_call_toast_closes_when_it_stops_ringing() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, agent: _agent, window: _window, .. } = Desktop::online().await;
    let system = hub.add_app("erp-system");
    // Due in 65 s: "in 2 min" now, "in under a minute" five seconds later.
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(65);
    let at = at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let warning = serde_json::json!({
        "kind": "shutdown", "ttl_seconds": 120, "title": "ERP shuts down for maintenance", "body": "Save your work", "at": at,
    });
    hub.push_event_fields(&system, "bob", warning).await;
    let first = daemon.next_toast().await;
    assert_eq!(first.summary, "ERP shuts down for maintenance — in 2 min");
    let second = daemon.next_toast().await;
    assert_eq!(second.summary, "ERP shuts down for maintenance — in under a minute");
    assert_eq!(second.id, first.id, "the same toast, updated in place");

    let pbx = hub.add_app("pbx");
    let call =
        serde_json::json!({"kind": "call", "ttl_seconds": 2, "title": "Call from Ann Lee", "body": "+1 555 0134"});
    hub.push_event_fields(&pbx, "bob", call).await;
    let ringing = daemon.next_toast().await;
    assert_eq!(ringing.summary, "Call from Ann Lee");
    assert_eq!(daemon.next_close().await, ringing.id, "closed when the call stopped ringing");
}

/// A reminder stays until dismissed: Snooze takes it away (to come back later), Done answers it
/// on the hub; the agent closes it either way, as the daemon leaves a resident toast up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_is_snoozed_or_done_from_its_toast() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, bob, mut agent, window: _window, .. } =
        Desktop::online().await;
    let tasks = hub.add_app("tasks");
    let reminder = |title: &str| {
        serde_json::json!({
            "kind": "reminder", "ttl_seconds": 600, "title": title, "body": "Room 4",
            "actions": [{"value": "done", "label": "Done"}],
        })
    };
    hub.push_event_fields(&tasks, "bob", reminder("Stand-up in 5 minutes")).await;
    let toast = daemon.next_toast().await;
    let keys: Vec<&str> = toast.actions.iter().step_by(2).map(String::as_str).collect();
    assert_eq!(keys, ["default", "respond:done", "snooze:5", "snooze:60"]);
    daemon.invoke_action(toast.id, "snooze:5").await;
    assert_eq!(daemon.next_close().await, toast.id, "snoozed: away for now");
    agent.wait_for_log("toast snoozed").await;

    let event = hub.push_event_fields(&tasks, "bob", reminder("Send the contract to Acme")).await;
    let toast = daemon.next_toast().await;
    daemon.invoke_action(toast.id, "respond:done").await;
    assert_eq!(daemon.next_close().await, toast.id, "done: closed");
    agent.wait_for_log("outbox flushed").await;
    assert_eq!(hub.respond_to_event(&bob, event["id"].as_str().unwrap(), "done").await, 409, "answered from the toast");
}

/// A call answered in a window (the agent records it like any action): its toast closes, and
/// windows stop listing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_answered_in_a_window_closes_its_toast() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, agent: _agent, mut window, .. } = Desktop::online().await;
    let pbx = hub.add_app("pbx");
    let call = serde_json::json!({
        "kind": "call", "ttl_seconds": 60, "title": "Call from Ann Lee", "body": "+1 555 0134",
        "actions": [{"value": "answer", "label": "Answer"}, {"value": "decline", "label": "Decline"}],
    });
    hub.push_event_fields(&pbx, "bob", call).await;
    let toast = daemon.next_toast().await;
    let listed = |e: &Event| match e {
        Event::LiveEvents { events } => Some(events.iter().map(|e| e.id.clone()).collect::<Vec<_>>()),
        _ => None,
    };
    let ids = window.wait_for("the call listed", |e| listed(e).filter(|ids| !ids.is_empty())).await;
    let action = herald_client::outbox::Action::RespondToEvent { event_id: ids[0].clone(), action: "decline".into() };
    window.send(Request::Act { action }).await;
    assert_eq!(daemon.next_close().await, toast.id, "answered here: its toast closes");
    window.wait_for("the call no longer listed", |e| listed(e).filter(|ids| ids.is_empty())).await;
}

/// A call answered on another of the user's devices (here: straight at the hub, with bob's
/// token) stops ringing here: the hub tells every feed of bob's, and the toast closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_answered_on_another_device_closes_its_toast_here() {
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, bob, agent: _agent, mut window, .. } = Desktop::online().await;
    let pbx = hub.add_app("pbx");
    let call = serde_json::json!({
        "kind": "call", "ttl_seconds": 60, "title": "Call from Ann Lee",
        "actions": [{"value": "answer", "label": "Answer"}, {"value": "decline", "label": "Decline"}],
    });
    let sent = hub.push_event_fields(&pbx, "bob", call).await;
    let toast = daemon.next_toast().await;
    assert_eq!(toast.summary, "Call from Ann Lee");
    assert_eq!(hub.respond_to_event(&bob, sent["id"].as_str().unwrap(), "answer").await, 200, "answered on the phone");
    assert_eq!(daemon.next_close().await, toast.id, "answered elsewhere: its toast closes here");
    let listed = |e: &Event| match e {
        Event::LiveEvents { events } => Some(events.len()),
        _ => None,
    };
    window.wait_for("the quick panel to drop the call", |e| listed(e).filter(|n| *n == 0)).await;
}

/// A reminder snoozed before do-not-disturb began comes back under the same rules as a new one:
/// held while do-not-disturb lasts, shown again once it is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snoozed_reminder_coming_back_during_do_not_disturb_is_held() {
    // A snooze's minute lasts 100 ms here, so "5 minutes" is half a second.
    let Desktop { dir: _dir, bus: _bus, mut daemon, hub, bob, mut agent, mut window, .. } =
        Desktop::online_with(&[("HERALD_SNOOZE_MINUTE_MS", "100")]).await;
    let tasks = hub.add_app("tasks");
    let reminder = serde_json::json!({"kind": "reminder", "ttl_seconds": 600, "title": "Stand-up", "actions": []});
    hub.push_event_fields(&tasks, "bob", reminder).await;
    let toast = daemon.next_toast().await;

    let until = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let until = until.format(&time::format_description::well_known::Rfc3339).unwrap();
    hub.put_preferences(&bob, serde_json::json!({"dnd_until": until})).await;
    agent.wait_for_log("toasts now held back").await;
    daemon.invoke_action(toast.id, "snooze:5").await;
    assert_eq!(daemon.next_close().await, toast.id, "snoozed: away for now");
    agent.wait_for_log("snooze over").await;
    agent.wait_for_log("live event held back").await;
    assert!(daemon.pending_toast().is_none(), "do not disturb: not shown again");

    // Do-not-disturb over: snoozed again from the quick panel, it comes back as a toast.
    hub.put_preferences(&bob, serde_json::json!({"dnd_until": null})).await;
    agent.wait_for_log("toasts now shown").await;
    let ids = window
        .wait_for("the reminder in the quick panel", |e| match e {
            Event::LiveEvents { events } if !events.is_empty() => {
                Some(events.iter().map(|e| e.id.clone()).collect::<Vec<_>>())
            }
            _ => None,
        })
        .await;
    window.send(Request::SnoozeLive { event_id: ids[0].clone(), minutes: 1 }).await;
    agent.wait_for_log("snooze over").await;
    assert_eq!(daemon.next_toast().await.summary, "Stand-up", "shown again once allowed");
}

/// The agent says nothing to a peer before its hello: on Windows another user may open the pipe
/// for reading, and must learn nothing from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_says_nothing_to_a_peer_before_its_hello() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let desktop = Desktop::online().await;
    let mut raw = tokio::net::UnixStream::connect(desktop.agent.config.socket_path()).await.unwrap();
    let mut first = [0u8; 1];
    let heard = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        tokio::io::AsyncReadExt::read(&mut raw, &mut first),
    )
    .await;
    assert!(heard.is_err(), "the agent spoke first: {heard:?}");
    // The same peer, once it says hello, hears the state at once.
    raw.write_all(b"{\"hello\":\"herald-ipc/1\"}\n").await.unwrap();
    let mut line = String::new();
    herald_e2e::within("the agent's first words", BufReader::new(&mut raw).read_line(&mut line)).await.unwrap();
    assert!(line.contains("\"connection\""), "{line}");
}

/// herald-ui ending after its grace period says so first: what the agent asked of it before is
/// still delivered to it, and the next window starts a new herald-ui instead of going to the one
/// that is ending (a tray click in that moment was lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_asked_for_while_herald_ui_ends_starts_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    // A stand-in herald-ui that notes what it was started for.
    let started = dir.path().join("started");
    let fake_ui = dir.path().join("fake-herald-ui");
    std::fs::write(&fake_ui, format!("#!/bin/sh\necho \"$HERALD_UI_OPEN\" >> '{}'\nsleep 5\n", started.display()))
        .unwrap();
    std::fs::set_permissions(&fake_ui, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = AgentEnv { ui_bin: Some(fake_ui), ..AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address) };
    let mut agent = Agent::start(&env).await;

    let mut ui = agent.window().await;
    ui.send(Request::UiAttached).await;
    let mut second = agent.window().await;
    second.send(Request::OpenInbox).await;
    agent.wait_for_log("opening a window in the running UI").await;
    ui.send(Request::UiLeaving).await;
    let mut asked = Vec::new();
    ui.wait_for("the agent letting herald-ui go", |event| match event {
        Event::UiLeft => Some(()),
        Event::Open(window) => {
            asked.push(window.clone());
            None
        }
        _ => None,
    })
    .await;
    assert_eq!(asked.len(), 1, "the window asked for before is delivered before UiLeft: {asked:?}");

    // The ending herald-ui is still connected, but the next window starts a new one.
    second.send(Request::OpenInbox).await;
    agent.wait_for_log("opening a window: started the UI").await;
    let opened = herald_e2e::within("the new herald-ui", async {
        loop {
            if let Ok(text) = std::fs::read_to_string(&started) {
                if !text.is_empty() {
                    return text;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(opened.contains("\"window\":\"inbox\""), "{opened}");
}
