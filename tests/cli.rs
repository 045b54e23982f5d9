//! `herald <command>`, the headless CLI, as a process against a real hub: sync once, list,
//! search, show, and actions sent at once, queued while the hub is down, or handed to a running
//! agent.

use herald_client::ipc::Event;
use herald_e2e::agent::{Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::hub::Hub;
use herald_e2e::keyring::Keyring;
use serde_json::{json, Value};

fn herald(env: &AgentEnv, args: &[&str]) -> (bool, String, String) {
    herald_with_input(env, args, "")
}

fn herald_with_input(env: &AgentEnv, args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child =
        env.command().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reads_the_inbox_offline_and_acts_once() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");
    let plain = hub.send(&erp, "bob", "Invoice INV-3391 was paid", "Acme paid by bank transfer").await;
    let invite = hub
        .send_fields(&erp, "bob", json!({"subject": "Sprint review", "buttons": [{"value": "Y", "label": "Accept"}]}))
        .await;
    let question = hub.send_fields(&erp, "bob", json!({"subject": "Lunch?", "reply": {"placeholder": "…"}})).await;
    let env = AgentEnv::new(dir.path(), hub.url(), &bob, "unix:path=/nonexistent");

    let (ok, out, err) = herald(&env, &["list"]);
    assert!(!ok && err.contains("herald sync"), "before any sync it says what to do: {err}");
    let (ok, out2, err) = herald(&env, &["sync"]);
    assert!(ok, "{out}{out2}{err}");
    assert!(out2.contains("3 unread"), "{out2}");

    let (_, listed, _) = herald(&env, &["list"]);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.lines().next().unwrap().contains("Lunch?"), "newest first: {listed}");
    let (_, found, _) = herald(&env, &["search", "inv-3391", "--json"]);
    let found: Vec<Value> = found.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], plain);
    let (ok, shown, _) = herald(&env, &["show", &invite.to_string()]);
    assert!(ok && shown.contains("Sprint review"));

    // Actions go straight to the hub when it answers…
    for args in [
        vec!["read".to_owned(), plain.to_string()],
        vec!["confirm".to_owned(), invite.to_string(), "Y".to_owned()],
        vec!["reply".to_owned(), question.to_string(), "Yes,".to_owned(), "12:30".to_owned()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out, err) = herald(&env, &args);
        assert!(ok && out.contains("sent"), "{args:?}: {out}{err}");
    }
    let on_hub = |id: i64, items: &[Value]| items.iter().find(|n| n["id"] == id).unwrap().clone();
    let items = hub.list(&bob).await;
    assert_eq!(on_hub(plain, &items)["read"], true);
    assert_eq!(on_hub(invite, &items)["answer"]["value"], "Y");
    assert_eq!(on_hub(question, &items)["answer"]["text"], "Yes, 12:30");

    // …a refused one is taken back and fails…
    let another = hub
        .send_fields(&erp, "bob", json!({"subject": "Budget", "buttons": [{"value": "Y", "label": "Approve"}]}))
        .await;
    herald(&env, &["sync"]);
    let (ok, _, err) = herald(&env, &["confirm", &another.to_string(), "maybe"]);
    assert!(!ok && err.contains("refused"), "{err}");

    // …and one made while the hub is down waits for the next sync.
    let (addr, data) = hub.kill();
    let (ok, out, _) = herald(&env, &["unread", &plain.to_string()]);
    assert!(ok && out.contains("queued"), "{out}");
    let (_, status, _) = herald(&env, &["status"]);
    assert!(status.contains("1 queued action"), "{status}");
    let hub = Hub::start(&data, &addr.to_string());
    let (ok, out, err) = herald(&env, &["sync"]);
    assert!(ok, "{out}{err}");
    assert_eq!(on_hub(plain, &hub.list(&bob).await)["read"], false, "sent once the hub was back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_agent_running_the_cli_hands_actions_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");
    let env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
    let mut agent = Agent::start(&env).await;
    let id = hub.send(&erp, "bob", "Task due", "Send the contract").await;
    agent.wait_for_log("feed connected").await;

    let (ok, out, err) = herald(&env, &["delete", &id.to_string()]);
    assert!(ok && out.contains("running agent"), "{out}{err}");
    agent.wait_for_log("outbox flushed").await;
    assert!(hub.list(&bob).await.is_empty(), "the agent sent the delete");
}

/// Two real hubs for one person: bob on `home`, robert on `work`, each with an `erp` sender.
struct TwoHubs {
    dir: tempfile::TempDir,
    bus: SessionBus,
    home: Hub,
    work: Hub,
    bob: String,
    home_erp: String,
    robert: String,
    work_erp: String,
}

impl TwoHubs {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bus = SessionBus::start(dir.path());
        let home = Hub::start(&dir.path().join("home"), "127.0.0.1:0");
        let work = Hub::start(&dir.path().join("work"), "127.0.0.1:0");
        let (bob, home_erp) = (home.add_user("bob"), home.add_app("erp"));
        let (robert, work_erp) = (work.add_user("robert"), work.add_app("erp"));
        Self { dir, bus, home, work, bob, home_erp, robert, work_erp }
    }
}

/// Two hubs in one inbox: the default account (HERALD_SERVER) and one added with `herald accounts
/// add`. Both sync, list as one inbox in time order, and an action on one reaches only its hub,
/// though both hubs use the same ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_inbox_holds_two_hubs_and_each_action_reaches_its_own() {
    let TwoHubs { dir, bus, home, work, bob, home_erp, robert, work_erp } = TwoHubs::start();
    let home_id = home.send(&home_erp, "bob", "Parcel arrived", "At the front desk").await;
    let work_id = work.send(&work_erp, "robert", "Approve PO-42", "12 400 EUR").await;
    assert_eq!(home_id, work_id, "both hubs number from 1");
    let env = AgentEnv::new(dir.path(), home.url(), &bob, &bus.address);

    // No keyring runs on this bus: the token goes to a file only its owner can read, and says so.
    let (ok, out, err) = herald_with_input(&env, &["accounts", "add", "work", &work.url()], &format!("{robert}\n"));
    assert!(ok && out.contains("tokens.json (owner only: no keyring service is running)"), "{out}{err}");
    let (ok, out, err) = herald(&env, &["sync"]);
    assert!(ok && out.contains("2 unread"), "{out}{err}");
    let (_, accounts, _) = herald(&env, &["accounts"]);
    assert!(accounts.contains("default") && accounts.contains("work"), "{accounts}");
    assert!(!accounts.contains(&robert), "tokens are never printed: {accounts}");

    let (_, listed, _) = herald(&env, &["list", "--json"]);
    let listed: Vec<Value> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let subjects: Vec<&str> = listed.iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Approve PO-42", "Parcel arrived"], "one inbox, newest first");
    let (_, only_work, _) = herald(&env, &["list", "--account", "work"]);
    assert_eq!(only_work.lines().count(), 1, "{only_work}");

    // Reading the work notification (by its id here) reads it on the work hub only.
    let local_work_id = listed[0]["id"].as_i64().unwrap();
    assert_ne!(local_work_id, home_id, "the same hub id is two notifications here");
    let (ok, out, err) = herald(&env, &["read", &local_work_id.to_string()]);
    assert!(ok && out.contains("sent"), "{out}{err}");
    assert_eq!(work.list(&robert).await[0]["read"], true);
    assert_eq!(home.list(&bob).await[0]["read"], false, "the other hub's #{home_id} is untouched");

    // The agent syncs both accounts live.
    let mut agent = Agent::start(&env).await;
    let mut agent_link = agent.window().await;
    agent_link.wait_for("the inbox as synced", |e| matches!(e, Event::InboxChanged { unread: 1 }).then_some(())).await;
    work.send(&work_erp, "robert", "Approve PO-43", "800 EUR").await;
    agent_link
        .wait_for("the work hub's live change", |e| matches!(e, Event::InboxChanged { unread: 2 }).then_some(()))
        .await;
    home.send(&home_erp, "bob", "Another parcel", "").await;
    agent_link
        .wait_for("the home hub's live change", |e| matches!(e, Event::InboxChanged { unread: 3 }).then_some(()))
        .await;
    agent.kill();
}

/// Accounts added or removed while the agent runs take effect at once: `herald accounts add`
/// tells the running agent, which starts syncing the new hub; `remove` stops it and its
/// notifications leave the inbox. Their tokens live in the desktop's keyring (a real
/// gnome-keyring here), never in a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_agent_follows_accounts_added_and_removed_with_their_tokens_in_the_keyring() {
    let TwoHubs { dir, bus, home, work, bob, home_erp, robert, work_erp } = TwoHubs::start();
    let keyring = Keyring::start(dir.path(), &bus.address).await;
    home.send(&home_erp, "bob", "Parcel arrived", "").await;
    work.send(&work_erp, "robert", "Approve PO-42", "").await;
    let env = AgentEnv::new(dir.path(), home.url(), &bob, &bus.address);
    let mut agent = Agent::start(&env).await;
    let mut link = agent.window().await;
    link.wait_for("home's inbox", |e| matches!(e, Event::InboxChanged { unread: 1 }).then_some(())).await;

    let (ok, out, err) = herald_with_input(&env, &["accounts", "add", "work", &work.url()], &format!("{robert}\n"));
    assert!(ok && out.contains("the running agent now syncs the accounts set up"), "{out}{err}");
    assert!(out.contains("its token is in the keyring"), "{out}");
    assert_eq!(keyring.lookup(&bus.address, "work").as_deref(), Some(robert.as_str()), "another client finds it");
    assert!(!env.data_dir.join("tokens.json").exists(), "and no file holds it");
    let (_, accounts, _) = herald(&env, &["accounts"]);
    assert!(accounts.lines().any(|l| l.starts_with("work") && l.contains("token in the keyring")), "{accounts}");
    link.wait_for("work's inbox, without a restart", |e| matches!(e, Event::InboxChanged { unread: 2 }).then_some(()))
        .await;
    work.send(&work_erp, "robert", "Approve PO-43", "").await;
    link.wait_for("work's live change", |e| matches!(e, Event::InboxChanged { unread: 3 }).then_some(())).await;

    let (ok, out, err) = herald(&env, &["accounts", "remove", "work"]);
    assert!(ok && out.contains("the running agent now syncs the accounts set up"), "{out}{err}");
    assert_eq!(keyring.lookup(&bus.address, "work"), None, "its token left the keyring");
    link.wait_for("work's notifications gone", |e| matches!(e, Event::InboxChanged { unread: 1 }).then_some(())).await;
    // Work is no longer synced: its next notification never arrives, home's does.
    work.send(&work_erp, "robert", "Approve PO-44", "").await;
    home.send(&home_erp, "bob", "Another parcel", "").await;
    let unread = link
        .wait_for("home's live change", |e| match e {
            Event::InboxChanged { unread } if *unread != 1 => Some(*unread),
            _ => None,
        })
        .await;
    assert_eq!(unread, 2, "only home's two");
    let (_, listed, _) = herald(&env, &["list"]);
    assert!(!listed.contains("PO-4"), "{listed}");
    agent.kill();
}

/// `herald accounts add URL --user NAME`: the password signs this desktop in, the hub makes it a
/// device token of its own (listed with this machine's name), and the token goes to the keyring.
/// A wrong password adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_added_with_a_password_gets_a_device_token_in_the_keyring() {
    let TwoHubs { dir, bus, home, work, bob, home_erp: _, robert, work_erp } = TwoHubs::start();
    let keyring = Keyring::start(dir.path(), &bus.address).await;
    work.set_password("robert", "robert's secret");
    work.send(&work_erp, "robert", "Approve PO-42", "").await;
    let env = AgentEnv::new(dir.path(), home.url(), &bob, &bus.address);

    let (ok, out, err) =
        herald_with_input(&env, &["accounts", "add", &work.url(), "--user", "robert", "--password-stdin"], "wrong\n");
    assert!(!ok && err.contains("wrong user name or password"), "{out}{err}");
    assert!(!herald(&env, &["accounts"]).1.lines().any(|l| l.starts_with("127.0.0.1")), "nothing was added");

    let (ok, out, err) = herald_with_input(
        &env,
        &["accounts", "add", &work.url(), "--user", "robert", "--password-stdin"],
        "robert's secret\n",
    );
    assert!(ok && out.contains("signed in as robert") && out.contains("keyring"), "{out}{err}");
    let device_token = keyring.lookup(&bus.address, "127.0.0.1").expect("the token is in the keyring, under the host");
    assert_ne!(device_token, robert, "a token of its own, not robert's first one");
    let devices = work.get(&device_token, "/v1/devices").await;
    assert!(devices[0]["name"].as_str().unwrap().starts_with("Herald desktop on "), "{devices}");
    let (ok, out, err) = herald(&env, &["sync"]);
    assert!(ok, "{out}{err}");
    let (_, listed, _) = herald(&env, &["list", "--account", "127.0.0.1"]);
    assert!(listed.contains("Approve PO-42"), "{listed}");
}

/// Start at login is opt-in: `herald autostart on` writes an XDG autostart entry that starts this
/// very agent, `off` removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autostart_is_turned_on_and_off_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let env = AgentEnv::new(dir.path(), "http://127.0.0.1:9".into(), "hrld_unused", "unix:path=/nonexistent");
    let config_home = dir.path().join("config");
    let autostart = |args: &[&str]| {
        let out = env.command().arg("autostart").args(args).env("XDG_CONFIG_HOME", &config_home).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let entry = config_home.join("autostart/herald.desktop");
    assert!(autostart(&[]).contains("does not start at login"));
    assert!(autostart(&["on"]).contains("starts at login"));
    let text = std::fs::read_to_string(&entry).unwrap();
    let exec = herald_e2e::binary("herald").canonicalize().unwrap();
    assert!(text.contains(&format!("\nExec=\"{}\"\n", exec.display())), "{text}");
    assert!(autostart(&[]).contains("starts at login"));
    assert!(autostart(&["off"]).contains("does not start at login"));
    assert!(!entry.exists());
}
