//! What Herald keeps on disk is its user's alone, and a sign-in token is written nowhere it could
//! be read back: every directory the agent and the hub make is 0700 and every file 0600, the
//! agent's logs (at debug level) never hold a token, and the hub keeps only tokens' hashes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use herald_client::ipc::{Event, Request};
use herald_e2e::agent::{Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::daemon::NotificationDaemon;
use herald_e2e::hub::Hub;

/// Every file and directory under `root`, with its permission bits.
fn walk(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    let mut left = vec![root.to_owned()];
    while let Some(dir) = left.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                left.push(path.clone());
            }
            found.push((path, meta.permissions().mode() & 0o777));
        }
    }
    found
}

/// What under `root` others could read, write or enter.
fn open_to_others(root: &Path) -> Vec<String> {
    walk(root)
        .into_iter()
        .filter(|(_, mode)| mode & 0o077 != 0)
        .map(|(path, mode)| format!("{} {mode:o}", path.display()))
        .collect()
}

/// The files under `root` whose bytes hold `secret`.
fn holding(root: &Path, secret: &str) -> Vec<PathBuf> {
    walk(root)
        .into_iter()
        .filter(|(path, _)| path.is_file())
        .filter(|(path, _)| {
            std::fs::read(path).is_ok_and(|bytes| bytes.windows(secret.len()).any(|w| w == secret.as_bytes()))
        })
        .map(|(path, _)| path)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_private_and_no_token_is_written_where_it_could_be_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::start(dir.path());
    let _daemon = NotificationDaemon::start(&bus.address).await;
    let hub_data = dir.path().join("hub");
    let hub = Hub::start(&hub_data, "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");
    let robert = hub.add_user("robert");
    let mut env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
    // A second account whose token goes to the token file (no keyring runs here).
    env.extra_env.push(("HERALD_TOKEN_STORE".into(), "file".into()));

    let agent = Agent::start(&env).await;
    let mut window = agent.window().await;
    let id = hub.send(&erp, "bob", "PO-42 needs your approval", "").await;
    window.wait_for("the notification synced", |e| matches!(e, Event::InboxChanged { unread: 1 }).then_some(())).await;
    window.send(Request::MarkRead { ids: vec![id], read: true }).await;
    hub.wait_for_list(&bob, "the read on the hub", |items| items.iter().any(|n| n["id"] == id && n["read"] == true))
        .await;
    let added = env
        .command()
        .args(["accounts", "add", "work", &hub.url()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{robert}\n").as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stdout));
    assert!(env.data_dir.join("tokens.json").exists());
    drop(window);
    drop(agent);

    assert_eq!(open_to_others(&env.data_dir), Vec::<String>::new(), "the agent's files");
    assert_eq!(open_to_others(&hub_data), Vec::<String>::new(), "the hub's files");
    // The token file is where a token is meant to be; nothing else holds one.
    let logs = env.data_dir.join("logs");
    assert!(walk(&logs).iter().any(|(path, _)| path.is_file()), "the agent wrote a log");
    for token in [&bob, &robert] {
        assert_eq!(holding(&logs, token), Vec::<PathBuf>::new(), "a token in the agent's logs");
        assert_eq!(holding(&hub_data, token), Vec::<PathBuf>::new(), "a token kept by the hub, not its hash");
    }
    assert_eq!(holding(&env.data_dir, &bob), Vec::<PathBuf>::new(), "bob's token (from the environment) on disk");
}
