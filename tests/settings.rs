//! The settings window, in the real `herald-ui` webview, with the real agent, a real hub and a
//! real keyring: an account added there by user name and password syncs with a device token the
//! hub made (in the keyring and nowhere else; the password nowhere), the sign-in test tells a good
//! pasted token from a bad one, a preference switched and quiet hours set there are what the hub
//! then holds.

use std::ffi::OsString;

use herald_client::ipc::Event;
use herald_e2e::agent::{Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::daemon::NotificationDaemon;
use herald_e2e::display::Display;
use herald_e2e::hub::Hub;
use herald_e2e::keyring::Keyring;
use herald_e2e::webdriver::{ui_env, Session, TauriDriver};

const TESTED: &str = "return document.querySelector('[data-testid=tested]')?.textContent ?? null";
const SAVED: &str = "return document.querySelector('[data-testid=saved]')?.textContent ?? null";

/// The text of every file under `dir` (lossily: the mirror is binary).
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    found
}

async fn fill(ui: &Session, field: &str, text: &str) {
    // Cleared first: the form may hold the last account's values.
    ui.execute(&format!("document.querySelector('[data-testid=account-form] [name={field}]').value = ''")).await;
    ui.type_into(&format!("[data-testid=account-form] [name={field}]"), text).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_preferences_and_quiet_hours_set_in_the_settings_window_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let keyring = Keyring::start(dir.path(), &bus.address).await;
    let mut daemon = NotificationDaemon::start(&bus.address).await;
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");
    // No account yet (no HERALD_SERVER): the agent starts with nothing to sync, as on a first run.
    let env = AgentEnv::new(dir.path(), String::new(), "", &bus.address);
    let agent = Agent::start(&env).await;
    let mut window = agent.window().await;

    let display = Display::start();
    let open = OsString::from(r#"{"window":"settings"}"#);
    let driver = TauriDriver::start(ui_env(&display, &env, dir.path(), [("HERALD_UI_OPEN", open)])).await;
    let ui = driver.session(&herald_e2e::binary("herald-ui")).await;
    let storage = ui
        .wait_for(
            "the token storage said",
            "return document.querySelector('[data-testid=token-storage]')?.textContent ?? null",
            |v| v.as_str().map(str::trim).map(String::from),
        )
        .await;
    assert_eq!(storage, "Sign-in tokens are kept in the system keyring.");

    // A new account: a pasted token is tested (a wrong one fails, the right one passes) ...
    ui.click("[data-testid=add-account]").await;
    fill(&ui, "name", "work").await;
    fill(&ui, "server", &hub.url()).await;
    ui.click("[data-testid=account-form] [name=via][value=token]").await;
    fill(&ui, "token", "hrld_wrong").await;
    ui.click("[data-testid=test-connection]").await;
    ui.wait_for("a failed sign-in", TESTED, |v| (v == "the hub refused the token").then_some(())).await;
    fill(&ui, "token", &bob).await;
    ui.click("[data-testid=test-connection]").await;
    ui.wait_for("a good sign-in", TESTED, |v| v.as_str().filter(|t| t.starts_with("Signed in")).map(String::from))
        .await;
    // ... but signed in with a user name and password, the way most people will: a wrong
    // password says so and saves nothing; the right one gets this desktop a device token.
    let password = "bob-password-1";
    hub.set_password("bob", password);
    ui.click("[data-testid=account-form] [name=via][value=password]").await;
    fill(&ui, "user", "bob").await;
    fill(&ui, "password", "not-bobs").await;
    ui.click("[data-testid=account-form] button[type=submit]").await;
    let alert = "return document.querySelector('[role=alert]')?.textContent ?? null";
    let refused = ui.wait_for("the wrong password refused", alert, |v| v.as_str().map(String::from)).await;
    assert!(refused.contains("wrong user name or password"), "{refused}");
    assert_eq!(keyring.lookup(&bus.address, "work"), None, "nothing saved");
    fill(&ui, "password", password).await;
    ui.click("[data-testid=account-form] button[type=submit]").await;
    let saved = ui.wait_for("saved", SAVED, |v| v.as_str().map(String::from)).await;
    assert_eq!(saved, "Signed in as bob on work; the token is in the system keyring.");
    let kept = keyring.lookup(&bus.address, "work").expect("a token in the keyring");
    assert_ne!(kept, bob, "a token of its own, not the pasted one");
    let devices = hub.get(&bob, "/v1/devices").await;
    let device = devices.as_array().unwrap().iter().find(|d| d["name"].as_str().unwrap().starts_with("Herald desktop"));
    assert!(device.is_some(), "the hub lists this desktop as bob's device: {devices}");
    assert!(!env.data_dir.join("tokens.json").exists(), "no copy in a file");
    // Nowhere under HOME either: the profile, the webview's storage, the keyring's files.
    let home = walk(dir.path());
    assert!(!home.iter().any(|f| f.contains(password)), "the password is in a file under HOME");
    // The kept token never goes to another address: testing (or saving) one without a token fails.
    ui.click("[data-testid=account-form] [name=via][value=token]").await;
    fill(&ui, "server", "http://127.0.0.1:9").await;
    ui.click("[data-testid=test-connection]").await;
    let refused = ui.wait_for("the refusal", alert, |v| v.as_str().map(String::from)).await;
    assert!(refused.contains("enter the token for this hub address"), "{refused}");
    hub.send(&erp, "bob", "Welcome to Herald", "").await;
    window.wait_for("the new account synced", |e| matches!(e, Event::InboxChanged { unread: 1 }).then_some(())).await;
    drop(daemon.next_toast().await);

    // Its preferences: desktop popups of task.due off, saved to the hub.
    let cell = "[data-testid=preferences] tr[data-type='task.due'] input[data-channel=desktop]";
    ui.wait_for("the matrix", &format!("return document.querySelector(\"{cell}\")?.checked ?? null"), |v| {
        (v == true).then_some(())
    })
    .await;
    ui.click(cell).await;
    let on_hub = hub
        .wait_for_preferences(&bob, "the switch on the hub", |p| {
            p["overrides"].as_array().is_some_and(|o| !o.is_empty())
        })
        .await;
    assert_eq!(on_hub["overrides"][0], serde_json::json!({"type": "task.due", "channel": "desktop", "enabled": false}));
    let locked = "return document.querySelector(\"[data-testid=preferences] tr[data-type='system.security'] input[data-channel=inbox]\")?.disabled";
    assert_eq!(ui.execute(locked).await, true, "a critical type's channels cannot be turned off");
    // The window has the hub's answer too: the cell is the user's own now, with its reset.
    let reset = "return document.querySelector(\"[data-testid=preferences] tr[data-type='task.due'] .reset\") !== null";
    ui.wait_for("the switch shown as the user's own", reset, |v| (v == true).then_some(())).await;

    // Quiet hours: one period on weekdays, saved to the hub.
    ui.click("[data-testid=add-quiet]").await;
    let periods = "return document.querySelectorAll('[data-testid=quiet-period]').length";
    ui.wait_for("the new quiet period", periods, |v| (v == 1).then_some(())).await;
    ui.click("[data-testid=save-quiet]").await;
    let state = "return [document.querySelector('[role=alert]')?.textContent, document.querySelector('[data-testid=saved]')?.textContent, document.querySelectorAll('[data-testid=quiet-period]').length]";
    eprintln!("the settings window after Save quiet hours: {}", ui.execute(state).await);
    let prefs = hub.wait_for_preferences(&bob, "quiet hours on the hub", |p| !p["quiet_hours"].is_null()).await;
    let quiet = &prefs["quiet_hours"];
    assert_eq!(quiet["periods"][0]["from"], "22:00");
    assert_eq!(quiet["periods"][0]["days"].as_array().unwrap().len(), 5);
    let shot = herald_e2e::binary("herald-ui").with_file_name("settings.png");
    ui.screenshot(&shot).await;

    // Removed, the account's device is signed out on the hub: its token no longer works.
    ui.click("[data-testid=account][data-name=work] button.danger").await;
    ui.wait_for("removed", SAVED, |v| (v == "Removed work.").then_some(())).await;
    assert_eq!(keyring.lookup(&bus.address, "work"), None);
    let devices = hub.get(&bob, "/v1/devices").await;
    assert_eq!(devices, serde_json::json!([]), "the desktop's device is gone from the hub");
    assert_eq!(hub.get_status(&kept, "/v1/notifications").await, 401);
    ui.close().await;
}
