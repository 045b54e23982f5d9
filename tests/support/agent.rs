//! A real `herald` agent process, isolated by `HERALD_DATA_DIR`, `XDG_RUNTIME_DIR` and its own
//! session bus. Its log (stderr) is a stream of lines the test can wait on.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use herald_client::ipc::socket::IpcStream;
use herald_client::ipc::{Event, Request};
use herald_client::Config;
use tokio::sync::mpsc;

pub struct AgentEnv {
    pub server: String,
    pub token: String,
    pub data_dir: PathBuf,
    pub runtime_dir: PathBuf,
    pub bus_address: String,
    /// Started instead of herald-ui when the agent opens the inbox.
    pub ui_bin: Option<PathBuf>,
    /// More environment for the agent (and so for the herald-ui it starts): a display, say.
    pub extra_env: Vec<(String, std::ffi::OsString)>,
}

impl AgentEnv {
    /// An agent for `token` on `server`, with its profile and runtime dir under `dir`.
    pub fn new(dir: &std::path::Path, server: String, token: &str, bus_address: &str) -> Self {
        Self {
            server,
            token: token.to_owned(),
            data_dir: dir.join("profile"),
            runtime_dir: dir.join("run"),
            bus_address: bus_address.to_owned(),
            ui_bin: None,
            extra_env: Vec::new(),
        }
    }

    pub fn config(&self) -> Config {
        Config {
            server: None,
            token: None,
            data_dir: self.data_dir.clone(),
            runtime_dir: self.runtime_dir.join("herald"),
            critical_breaks_through: true,
            ca_file: None,
        }
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(super::binary("herald"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HERALD_DATA_DIR", &self.data_dir)
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            // Not the machine's system bus: its logind would tie the test's agent to the login
            // session running the tests (a test that wants a logind gives its own bus here).
            .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/herald-test-system-bus")
            .env("HERALD_LOG", "debug,zbus=info,hyper=info,reqwest=info,tungstenite=info,tokio_tungstenite=info");
        // An empty server: a first run, with nothing set up.
        if !self.server.is_empty() {
            command.env("HERALD_SERVER", &self.server).env("HERALD_TOKEN", &self.token);
        }
        if let Some(ui) = &self.ui_bin {
            command.env("HERALD_UI_BIN", ui);
        }
        command.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        command
    }
}

pub struct Agent {
    process: Child,
    log: mpsc::UnboundedReceiver<String>,
    pub config: Config,
}

impl Agent {
    /// Starts the agent and waits until it owns its socket.
    pub async fn start(env: &AgentEnv) -> Self {
        let mut process = env.command().stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("starting herald");
        let (tx, log) = mpsc::unbounded_channel();
        let stderr = process.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[herald] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut agent = Self { process, log, config: env.config() };
        agent.wait_for_log("herald agent starting").await;
        agent
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Waits for a log line containing `needle`.
    pub async fn wait_for_log(&mut self, needle: &str) -> String {
        super::within(&format!("agent log {needle:?}"), self.next_log(needle)).await
    }

    /// Waits for log lines containing each of `needles`, in any order.
    pub async fn wait_for_logs(&mut self, needles: &[&str]) {
        let mut missing: Vec<&str> = needles.to_vec();
        super::within(&format!("agent logs {needles:?}"), async {
            while !missing.is_empty() {
                let line =
                    self.log.recv().await.unwrap_or_else(|| panic!("the agent exited before logging {missing:?}"));
                missing.retain(|needle| !line.contains(needle));
            }
        })
        .await
    }

    /// Waits at most `patience` for a log line containing `needle`.
    pub async fn log_within(&mut self, needle: &str, patience: std::time::Duration) -> Option<String> {
        tokio::time::timeout(patience, self.next_log(needle)).await.ok()
    }

    async fn next_log(&mut self, needle: &str) -> String {
        loop {
            let line = self.log.recv().await.unwrap_or_else(|| panic!("the agent exited before logging {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Connects as the inbox window does.
    pub async fn window(&self) -> Window {
        Window(IpcStream::connect(&self.config.socket_path()).await.expect("connecting to the agent's socket"))
    }

    /// Waits for the agent to end by itself, at most `patience`; its exit status, or None if it
    /// is still running then.
    pub async fn ends_within(&mut self, patience: std::time::Duration) -> Option<std::process::ExitStatus> {
        // Its last log line, then its exit (the lines after it are none), all within `patience`.
        let deadline = tokio::time::Instant::now() + patience;
        self.log_within("herald agent stopped", patience).await?;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.process.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        None
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    /// SIGKILL: no chance to clean up, as when the machine's session dies.
    pub fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Picks the agent's "online" out of a window's events (for [`Window::wait_for`]).
pub fn online(event: &Event) -> Option<()> {
    matches!(event, Event::Connection { connection: herald_client::sync::ConnectionState::Online }).then_some(())
}

/// Picks the unread count out of a window's events (for [`Window::wait_for`]).
pub fn unread(event: &Event) -> Option<u32> {
    match event {
        Event::InboxChanged { unread } => Some(*unread),
        _ => None,
    }
}

/// The agent's IPC socket, seen from a window.
pub struct Window(IpcStream);

impl Window {
    pub async fn send(&mut self, request: Request) {
        self.0.send(&request).await.unwrap();
    }

    /// Waits for the first event `pick` accepts.
    pub async fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        super::within(what, async {
            loop {
                let event = self.0.recv::<Event>().await.expect("agent hung up").unwrap();
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
        })
        .await
    }
}

/// Reads the agent's mirror the way the inbox window does: read-only, straight from the file.
pub fn inbox_subjects(config: &Config) -> Vec<String> {
    let mirror = herald_client::Mirror::open_read_only(&config.mirror_path()).unwrap();
    mirror.list(None, 100).unwrap().into_iter().map(|n| n.subject).collect()
}
