//! The tray's menu, clicked over D-Bus as a panel would (`com.canonical.dbusmenu`), against a
//! real hub and the real agent: the newest unread listed and opened, "Mark all read" reaching the
//! hub, do-not-disturb set from the tray holding toasts back here and recorded on the hub.

use herald_e2e::agent::{Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::daemon::NotificationDaemon;
use herald_e2e::hub::Hub;
use herald_e2e::tray::Tray;
use herald_e2e::within;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_menu_lists_the_newest_unread_marks_all_read_and_sets_do_not_disturb() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let mut daemon = NotificationDaemon::start(&bus.address).await;
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let (bob, erp) = (hub.add_user("bob"), hub.add_app("erp"));
    // A stand-in for herald-ui that writes down which window it was asked to open.
    let shown = dir.path().join("shown");
    let ui_bin = dir.path().join("fake-herald-ui");
    std::fs::write(&ui_bin, format!("#!/bin/sh\necho \"$HERALD_UI_OPEN\" > '{}'\n", shown.display())).unwrap();
    std::fs::set_permissions(&ui_bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = AgentEnv { ui_bin: Some(ui_bin), ..AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address) };
    let mut agent = Agent::start(&env).await;
    let tray = Tray::find(bus.connect().await, &bus.address, agent.pid()).await;
    // What arrives before the first catch-up is history and raises no toast; the tray is up first.
    agent.wait_for_log("feed connected").await;

    // Seven arrive: the menu lists the newest five, newest first, each its subject on one line.
    let mut ids = Vec::new();
    for n in 1..=7 {
        ids.push(hub.send(&erp, "bob", &format!("Task_{n} due\ttoday"), "").await);
        daemon.next_toast().await;
    }
    tray.wait_for_tooltip("the tray to count 7", |t| t == "7 unread notifications").await;
    let labels: Vec<String> = tray.menu().await.into_iter().map(|(_, label)| label).collect();
    let newest =
        ["Task__7 due today", "Task__6 due today", "Task__5 due today", "Task__4 due today", "Task__3 due today"];
    assert_eq!(
        labels,
        [&newest[..], &herald_e2e::tray::FIXED_ITEMS].concat(),
        "underscores doubled: a single one would be an access key"
    );

    // One of them, clicked: the inbox opens at it.
    tray.click("Task__6 due today").await;
    let opened = agent.wait_for_log("opening a window").await;
    assert!(opened.contains(&format!("Inbox {{ show: Some({}) }}", ids[5])), "{opened}");
    let asked = within("the window to be asked for it", async {
        loop {
            if let Ok(text) = std::fs::read_to_string(&shown) {
                if text.ends_with('\n') {
                    return text;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    let asked: serde_json::Value = serde_json::from_str(&asked).unwrap();
    assert_eq!(asked, serde_json::json!({"window": "inbox", "show": ids[5]}));

    // "Mark all read": the tray clears at once and the hub learns it.
    tray.click("Mark all read").await;
    tray.wait_for_tooltip("nothing unread", |t| t == "No unread notifications").await;
    agent.wait_for_log("outbox flushed").await;
    assert!(hub.list(&bob).await.iter().all(|n| n["read"] == true), "every notification read on the hub");
    let labels: Vec<String> = tray.menu().await.into_iter().map(|(_, label)| label).collect();
    assert_eq!(labels[0], "Mark all read", "no unread listed any more");

    // Do not disturb for an hour, from the tray: toasts hold back here at once, the hub records it.
    tray.click("For 1 hour").await;
    agent.wait_for_log("toasts now held back").await;
    agent.wait_for_log("outbox flushed").await;
    let until = hub.preferences(&bob).await["dnd_until"].as_str().map(str::to_owned).expect("dnd_until set on the hub");
    let until = time::OffsetDateTime::parse(&until, &time::format_description::well_known::Rfc3339).unwrap();
    let left = until - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(55) && left <= time::Duration::minutes(60), "{left}");
    let labels: Vec<String> = tray.menu().await.into_iter().map(|(_, label)| label).collect();
    assert!(labels.iter().any(|l| l.starts_with("Do not disturb: on until ")), "{labels:?}");

    // And off again.
    tray.click("Off").await;
    agent.wait_for_log("toasts now shown").await;
    agent.wait_for_log("outbox flushed").await;
    assert!(hub.preferences(&bob).await["dnd_until"].is_null());

    // Set elsewhere for a moment: the menu says so, then, when it ends, says so too.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).unwrap();
    hub.put_preferences(&bob, serde_json::json!({"dnd_until": soon})).await;
    tray.wait_for_menu("do-not-disturb shown on", |l| l.iter().any(|l| l.starts_with("Do not disturb: on until")))
        .await;
    tray.wait_for_menu("do-not-disturb shown ended", |l| l.iter().any(|l| l == "Do not disturb")).await;
}
