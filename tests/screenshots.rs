//! Takes the screenshots in docs/screenshots (README shows them): a toast drawn by the real
//! notification-daemon, the inbox, the quick panel and settings in the real webview, all over a
//! real hub with some traffic, on a private Xvfb. Not a test of behaviour, so ignored by
//! `cargo test`; `scripts/screenshots.sh` runs it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use herald_client::ipc::Event;
use herald_e2e::agent::{Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::display::Display;
use herald_e2e::hub::Hub;
use herald_e2e::webdriver::{ui_env, TauriDriver};
use serde_json::json;

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes the README's screenshots: scripts/screenshots.sh"]
async fn take_the_readme_screenshots() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let display = Display::start();
    let mut notification_daemon = Command::new("/usr/lib/notification-daemon/notification-daemon")
        .arg("--replace")
        .env("DISPLAY", &display.name)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .stderr(Stdio::null())
        .spawn()
        .expect("notification-daemon (apt package notification-daemon)");
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");
    let ann = hub.add_user("ann");
    let env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
    let agent = Agent::start(&env).await;
    let mut window = agent.window().await;
    window
        .wait_for("online", |e| {
            matches!(e, Event::Connection { connection: herald_client::sync::ConnectionState::Online }).then_some(())
        })
        .await;

    // The approval first, alone, so its toast is drawn on its own (a burst would fold into one).
    let approval = json!({
        "type": "purchase.approval", "subject": "Approve PO-2026-0042", "body": "Office chairs, 4,200 EUR, requested by Ann Lee",
        "buttons": [{"value": "Y", "label": "Approve", "style": "accept"}, {"value": "N", "label": "Reject", "style": "cancel"}],
    });
    let po = hub.send_fields(&ann, "bob", approval).await;
    window.wait_for("the approval synced", |e| matches!(e, Event::InboxChanged { unread: 1 }).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let toast = out_dir().join("toast.png");
    let shot = Command::new("import")
        .args(["-window", "root", "-trim", "+repage"])
        .arg(&toast)
        .env("DISPLAY", &display.name)
        .status()
        .expect("import (apt package imagemagick)");
    assert!(shot.success());
    let _ = notification_daemon.kill();
    let _ = notification_daemon.wait();

    let traffic = [
        json!({"type": "task.due", "subject": "Quarterly report is due today", "body": "Finance needs the Q3 figures by 17:00."}),
        json!({"type": "crm.order_changed", "subject": "Order 7 shipped", "body": "Acme GmbH — 12 chairs, tracking 1Z999", "link": "https://crm.example/orders/7", "tag": "order-7"}),
        json!({"type": "community.mention", "subject": "Ann mentioned you in “Office move”", "body": "@bob can you book the van for Friday?", "reply": {"placeholder": "Answer Ann"}}),
        json!({"type": "system.maintenance", "subject": "Planned maintenance on Saturday", "body": "The ERP is down 06:00–08:00.", "priority": "high"}),
    ];
    for fields in traffic {
        hub.send_fields(&erp, "bob", fields).await;
    }
    let calendar = hub.add_app("calendar");
    let reminder = json!({"kind": "reminder", "title": "Stand-up in 5 minutes", "body": "Room 2.14", "ttl_seconds": 600, "actions": [{"value": "done", "label": "Done"}]});
    hub.push_event_fields(&calendar, "bob", reminder).await;
    window.wait_for("all synced", |e| matches!(e, Event::InboxChanged { unread: 5 }).then_some(())).await;

    for (name, open, ready) in [
        ("inbox", json!({"window": "inbox", "show": po}).to_string(), "[data-testid=detail]"),
        ("panel", json!({"window": "panel", "at": null, "reply_to": null}).to_string(), "[data-testid=live]"),
        ("settings", json!({"window": "settings"}).to_string(), "[data-testid=preferences]"),
    ] {
        let app_env = ui_env(&display, &env, dir.path(), [("HERALD_UI_OPEN", OsString::from(open))]);
        let driver = TauriDriver::start(app_env).await;
        let ui = driver.session(&herald_e2e::binary("herald-ui")).await;
        ui.wait_for(name, &format!("return !!document.querySelector('{ready}')"), |v| (v == true).then_some(())).await;
        // Fonts and layout settle a frame after the content is there.
        tokio::time::sleep(Duration::from_millis(300)).await;
        ui.screenshot(&out_dir().join(format!("{name}.png"))).await;
        ui.close().await;
    }
}
