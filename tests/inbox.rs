//! The inbox window at work: searching, filtering, answering, replying, opening a link and the
//! keyboard, in the real `herald-ui` webview over a mirror a real agent keeps in step with a real
//! hub; then the same with the hub stopped, and what was done meanwhile reaching it once.

use std::ffi::OsString;
use std::path::Path;

use herald_client::ipc::Event;
use herald_e2e::desktop::Desktop;
use herald_e2e::display::Display;
use herald_e2e::hub::Hub;
use herald_e2e::webdriver::{ui_env, Session, TauriDriver};
use serde_json::{json, Value};

const SUBJECTS: &str =
    "return [...document.querySelectorAll('[data-testid=notification] .subject')].map(e => e.textContent)";
const DETAIL: &str = "return document.querySelector('[data-testid=detail] .subject')?.textContent ?? null";
const ANSWER: &str = "return document.querySelector('[data-testid=answer]')?.textContent ?? null";
const BANNER: &str = "return document.querySelector('[data-testid=connection]')?.textContent ?? ''";
const ESCAPE: &str = "\u{E00C}";

/// Notification `id`'s answer on the hub, once it has one.
fn answered(items: &[Value], id: i64) -> Option<&Value> {
    items.iter().find(|n| n["id"] == id).map(|n| &n["answer"]).filter(|a| !a.is_null())
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default()
}

async fn wait_for_subjects(ui: &Session, what: &str, want: &[&str]) {
    ui.wait_for(what, SUBJECTS, |v| (strings(v) == want).then_some(())).await;
}

/// A directory holding an `xdg-open` that writes what it was asked to open to `opened`: the
/// browser is the one part a test cannot run, so the opener's last step is stood in for.
fn fake_browser(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("fake-browser");
    std::fs::create_dir_all(&bin).unwrap();
    let opened = dir.join("opened.txt");
    let script = bin.join("xdg-open");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", opened.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, opened)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_searches_filters_answers_replies_and_opens_links_online_and_with_the_hub_stopped() {
    let Desktop { dir, bus: _bus, daemon: _daemon, hub, bob, erp, env, agent: _agent, mut window } =
        Desktop::online().await;

    let approval = json!({
        "type": "purchase.approval", "subject": "Approve PO-42", "body": "Office chairs, 4,200 EUR",
        "buttons": [{"value": "Y", "label": "Approve", "style": "accept"}, {"value": "N", "label": "Reject", "style": "cancel"}],
    });
    let po = hub.send_fields(&erp, "bob", approval).await;
    let question = json!({"type": "task.assigned", "subject": "Ann: can you take the Acme call?", "reply": {"placeholder": "Answer Ann"}});
    let ask = hub.send_fields(&erp, "bob", question).await;
    let linked = json!({
        "type": "crm.order_changed", "subject": "Order 7 shipped", "link": "https://crm.example/orders/7", "tag": "order-7",
    });
    let order = hub.send_fields(&erp, "bob", linked).await;
    let due = hub.send_fields(&erp, "bob", json!({"type": "task.due", "subject": "Quarterly report is due"})).await;
    window
        .wait_for("four notifications mirrored", |e| matches!(e, Event::InboxChanged { unread: 4 }).then_some(()))
        .await;

    let display = Display::start();
    let (browser_bin, opened) = fake_browser(dir.path());
    let mut path = OsString::from(browser_bin.as_os_str());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let driver = TauriDriver::start(ui_env(&display, &env, dir.path(), [("PATH", path)])).await;
    let ui = driver.session(&herald_e2e::binary("herald-ui")).await;
    let all = ["Quarterly report is due", "Order 7 shipped", "Ann: can you take the Acme call?", "Approve PO-42"];
    wait_for_subjects(&ui, "the inbox", &all).await;

    // Search as you type: a prefix is enough; Esc in the box clears it.
    ui.type_into("[data-testid=search]", "quart").await;
    wait_for_subjects(&ui, "the search's one match", &["Quarterly report is due"]).await;
    ui.press(ESCAPE).await;
    wait_for_subjects(&ui, "the whole inbox again", &all).await;

    // A confirm request answered in the detail pane: the answer shows and reaches the hub.
    ui.click(&format!("[data-testid=notification][data-id='{po}'] button")).await;
    ui.wait_for("the request opened", DETAIL, |v| (v == "Approve PO-42").then_some(())).await;
    ui.click("[data-testid=confirm]:nth-child(2)").await;
    ui.wait_for("the answer shown", ANSWER, |v| (v == "You answered Reject").then_some(())).await;
    let on_hub = hub.wait_for_list(&bob, "the answer on the hub", |items| answered(items, po).is_some()).await;
    assert_eq!(answered(&on_hub, po).unwrap()["value"], "N");

    // The link opens in the browser, through the agent-side check; its tag filters the list.
    ui.click(&format!("[data-testid=notification][data-id='{order}'] button")).await;
    ui.click("[data-testid=open-link]").await;
    let url = herald_e2e::within("the browser to be asked", async {
        loop {
            if let Ok(text) = std::fs::read_to_string(&opened) {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(url.trim(), "https://crm.example/orders/7");
    ui.click("[data-testid=tag]").await;
    wait_for_subjects(&ui, "the tag's one notification", &["Order 7 shipped"]).await;
    ui.click("[data-testid=tag-filter]").await;
    wait_for_subjects(&ui, "no tag filter", &all).await;

    // The hub stops. Search still works from the mirror, and the banner says how old it is.
    let (addr, hub_data) = hub.kill();
    ui.wait_for("the offline banner", BANNER, |v| v.as_str().filter(|t| t.contains("synced")).map(String::from)).await;
    ui.type_into("[data-testid=search]", "acme").await;
    wait_for_subjects(&ui, "an offline search", &["Ann: can you take the Acme call?"]).await;

    // Meanwhile: a reply (r opens the box), and a delete with #.
    ui.click(&format!("[data-testid=notification][data-id='{ask}'] button")).await;
    ui.press("r").await;
    ui.wait_for("the reply box focused", "return document.activeElement?.dataset.testid ?? null", |v| {
        (v == "reply").then_some(())
    })
    .await;
    ui.type_into("[data-testid=reply]", "Yes, I will call them at 3").await;
    ui.click(".reply button[type=submit]").await;
    ui.wait_for("the reply shown", ANSWER, |v| v.as_str().filter(|t| t.contains("call them at 3")).map(String::from))
        .await;
    ui.click("[data-testid=search]").await;
    ui.press(ESCAPE).await;
    wait_for_subjects(&ui, "the whole inbox again", &all).await;
    ui.click(&format!("[data-testid=notification][data-id='{due}'] button")).await;
    ui.press(ESCAPE).await;
    ui.press("#").await;
    wait_for_subjects(&ui, "the deleted one gone", &all[1..]).await;

    // The hub is back: both reach it (that each is sent once, under its key, the outbox tests
    // show).
    let hub = Hub::start(&hub_data, &addr.to_string());
    let on_hub = hub
        .wait_for_list(&bob, "the offline actions on the hub", |items| {
            items.len() == 3 && answered(items, ask).is_some()
        })
        .await;
    let ids: Vec<i64> = on_hub.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [order, ask, po], "the deleted one is gone on the hub too");
    assert_eq!(answered(&on_hub, ask).unwrap()["text"], "Yes, I will call them at 3");
    ui.wait_for("the banner gone", BANNER, |v| (v == "").then_some(())).await;
    let shot = herald_e2e::binary("herald-ui").with_file_name("inbox-actions.png");
    ui.screenshot(&shot).await;
    ui.close().await;
}
