//! The Windows agent — `herald.exe`, built for x86_64-pc-windows-gnu — run under Wine against a
//! real hub on this machine: it syncs, lists what it synced, a second `herald.exe` hands over to
//! it through the named pipe, an action from the command line reaches the hub through it, and
//! when the logon session ends (WM_ENDSESSION) the agent stops and the next one starts afresh.
//!
//! Run by scripts/test-windows.sh, which builds `herald.exe` and names it in
//! `HERALD_WINDOWS_AGENT`; skipped (ignored) in the Linux run.

use std::path::Path;
use std::process::Stdio;

use herald_e2e::hub::Hub;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A path on this machine as Wine's programs see it (its Z: drive is `/`).
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

struct WindowsAgent {
    exe: String,
    wine: String,
    env: Vec<(&'static str, String)>,
}

impl WindowsAgent {
    /// A Wine program (`wineboot`, or the agent) with the agent's environment.
    fn wine(&self, program: &str) -> Command {
        let mut command = Command::new(&self.wine);
        command.arg(program).envs(self.env.iter().map(|(k, v)| (k, v))).kill_on_drop(true);
        command
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = self.wine(&self.exe);
        command.args(args);
        command
    }

    /// A command-line run to its end: what it printed.
    async fn run(&self, args: &[&str]) -> String {
        let output = herald_e2e::within(&format!("herald.exe {args:?}"), self.command(args).output()).await.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "herald.exe {args:?} exited with {}: {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// The resident agent, with its log as lines to wait on.
    fn start(&self) -> (Child, mpsc::UnboundedReceiver<String>) {
        let mut child = self.command(&[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("wine runs");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (tx, log) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[herald.exe] {line}");
                let _ = tx.send(line);
            }
        });
        (child, log)
    }
}

async fn wait_for_log(log: &mut mpsc::UnboundedReceiver<String>, needle: &str) -> String {
    herald_e2e::within(&format!("the Windows agent's log {needle:?}"), async {
        loop {
            let line = log.recv().await.unwrap_or_else(|| panic!("herald.exe exited before logging {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    })
    .await
}

#[tokio::test]
#[ignore = "needs herald.exe and Wine: scripts/test-windows.sh runs it"]
async fn the_windows_agent_syncs_hands_over_sends_actions_and_ends_with_its_logon_session() {
    let exe = std::env::var("HERALD_WINDOWS_AGENT").expect("HERALD_WINDOWS_AGENT names herald.exe");
    let wine = std::env::var("HERALD_WINE").unwrap_or_else(|_| "wine64".into());
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let erp = hub.add_app("erp");
    let profile = dir.path().join("profile");
    let agent = WindowsAgent {
        exe: windows_path(Path::new(&exe)),
        wine,
        env: vec![
            ("HERALD_SERVER", hub.url()),
            ("HERALD_TOKEN", bob.clone()),
            ("HERALD_DATA_DIR", windows_path(&profile)),
            ("HERALD_TOKEN_STORE", "file".into()),
            ("HERALD_LOG", "debug,hyper=info,reqwest=info,tungstenite=info,tokio_tungstenite=info".into()),
            ("WINEDEBUG", "-all".into()),
        ],
    };

    let (mut running, mut log) = agent.start();
    wait_for_log(&mut log, "tray ready").await;
    wait_for_log(&mut log, "feed connected").await;
    let id = hub.send(&erp, "bob", "PO-42 needs your approval", "12 400 EUR").await;
    let listed = herald_e2e::within("the notification in the Windows agent's inbox", async {
        loop {
            let listed = agent.run(&["list"]).await;
            if listed.contains("PO-42 needs your approval") {
                return listed;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(listed.contains(&id.to_string()), "{listed}");

    // A second herald.exe finds the first through its pipe and asks it for the inbox.
    let second = agent.run(&[]).await;
    assert!(second.contains("already running; asked it to open the inbox"), "{second}");
    wait_for_log(&mut log, "herald-ui.exe").await;

    // An action from the command line goes through the running agent to the hub.
    let read = agent.run(&["read", &id.to_string()]).await;
    assert!(read.contains("handed to the running agent"), "{read}");
    hub.wait_for_list(&bob, "the notification read on the hub", |items| {
        items.iter().any(|n| n["id"] == id && n["read"] == true)
    })
    .await;

    // The logon session ends: Wine's `wineboot --end-session` sends every top-level window
    // WM_QUERYENDSESSION and WM_ENDSESSION, as Windows does at logoff. The agent stops (its
    // hidden window holds Windows until it has) and lets its lock go.
    let ended = herald_e2e::within("wineboot --end-session", agent.wine("wineboot").arg("--end-session").status())
        .await
        .unwrap();
    assert!(ended.success(), "wineboot --end-session: {ended}");
    let line = wait_for_log(&mut log, "the desktop session has ended").await;
    assert!(line.contains("Windows is ending the logon session"), "{line}");
    // All the way through its stop: tao, whose window hears WM_ENDSESSION too, ends the process
    // once its own handler returns, so that handler waits for the agent as well.
    wait_for_log(&mut log, "herald agent stopped").await;
    let status = herald_e2e::within("herald.exe to exit with its session", running.wait()).await.unwrap();
    assert!(status.success(), "herald.exe exited with {status}");

    // The next session's herald.exe becomes the agent: nothing is left to hand over to.
    let (mut next, mut next_log) = agent.start();
    wait_for_log(&mut next_log, "tray ready").await;
    wait_for_log(&mut next_log, "feed connected").await;
    next.kill().await.unwrap();
}
