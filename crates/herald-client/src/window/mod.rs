//! The inbox window's core, kept out of the Tauri shell: it reads the mirror read-only and keeps
//! a link to the agent for actions and change events. Works with the hub down, and shows the
//! synced inbox even with the agent down (actions then fail with `agent_unavailable`).

pub mod display;
pub mod opening;
mod reader;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

pub use reader::{web_address, InboxFilter, InboxReader};
use tokio::sync::oneshot;

use crate::ipc::settings::{SettingsAnswer, SettingsQuestion};
use crate::ipc::socket::{IpcStream, IpcWriter};
use crate::ipc::{Event, IpcError, IpcErrorCode, Request};
use crate::sync::ConnectionState;

/// How often the window looks for an agent that is not running.
const AGENT_RETRY: Duration = Duration::from_secs(1);
/// How long a question may take: the agent may be waiting for the user to unlock the keyring.
const ASK_PATIENCE: Duration = Duration::from_secs(150);

/// The window's link to the agent: reconnects by itself; requests fail fast while it is down.
pub struct AgentLink {
    socket: PathBuf,
    writer: tokio::sync::Mutex<Option<IpcWriter>>,
    latest: Mutex<AgentSnapshot>,
    /// Questions asked and not answered yet, by tag.
    asked: Mutex<HashMap<u64, oneshot::Sender<Result<SettingsAnswer, IpcError>>>>,
    next_tag: AtomicU64,
    /// Waiting for the agent's `UiLeft` (see [`Self::leave`]).
    leaving: Mutex<Option<oneshot::Sender<()>>>,
}

/// The latest state the agent reported, for a page that starts listening after it was sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct AgentSnapshot {
    pub connection: ConnectionState,
    /// None until the agent has said (or while it is not running).
    pub unread: Option<u32>,
    /// The live events still on (a ringing call, a reminder), as the agent last listed them.
    pub live: Vec<herald_proto::LiveEvent>,
}

impl AgentLink {
    pub fn new(socket: PathBuf) -> Self {
        let latest = AgentSnapshot { connection: ConnectionState::Connecting, unread: None, live: Vec::new() };
        Self {
            socket,
            writer: tokio::sync::Mutex::new(None),
            latest: Mutex::new(latest),
            asked: Mutex::new(HashMap::new()),
            next_tag: AtomicU64::new(1),
            leaving: Mutex::new(None),
        }
    }

    /// Tells the agent this process means to end, and returns once every event the agent sent
    /// before it heard has been passed on (so a window asked for in that moment is open, and the
    /// caller sees it and stays). From then on the agent starts a new herald-ui for a window.
    /// Returns at once if the agent is not there (nothing more can come from it).
    pub async fn leave(&self) {
        let (left, heard) = oneshot::channel();
        *self.leaving.lock().unwrap_or_else(|p| p.into_inner()) = Some(left);
        if self.send(&Request::UiLeaving).await.is_err() {
            return;
        }
        // An agent that does not answer is treated as gone.
        let _ = tokio::time::timeout(Duration::from_secs(2), heard).await;
    }

    /// Back on the agent's list of running UIs, after a `leave` that found a window opening.
    pub async fn rejoin(&self) {
        let _ = self.send(&Request::UiAttached).await;
    }

    /// Asks the agent (the settings window's questions) and waits for its answer.
    pub async fn ask(&self, question: SettingsQuestion) -> Result<SettingsAnswer, IpcError> {
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let (answered, answer) = oneshot::channel();
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).insert(tag, answered);
        if let Err(e) = self.send(&Request::Ask { tag, question }).await {
            self.asked.lock().unwrap_or_else(|p| p.into_inner()).remove(&tag);
            return Err(e);
        }
        match tokio::time::timeout(ASK_PATIENCE, answer).await {
            Ok(Ok(answer)) => answer,
            // The link dropped the question with the connection.
            Ok(Err(_)) => Err(IpcError {
                code: IpcErrorCode::AgentUnavailable,
                message: "lost the Herald agent before it answered".into(),
            }),
            Err(_) => {
                self.asked.lock().unwrap_or_else(|p| p.into_inner()).remove(&tag);
                Err(IpcError {
                    code: IpcErrorCode::AgentUnavailable,
                    message: "the Herald agent did not answer".into(),
                })
            }
        }
    }

    pub fn snapshot(&self) -> AgentSnapshot {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn remember(&self, event: &Event) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Connection { connection } => latest.connection = connection.clone(),
            Event::InboxChanged { unread } => latest.unread = Some(*unread),
            Event::LiveEvents { events } => latest.live = events.clone(),
            Event::Open(_)
            | Event::UiLeft
            | Event::AccountsReloaded
            | Event::SyncProgress { .. }
            | Event::SettingsAnswer { .. }
            | Event::SessionStanding { .. }
            | Event::Error(_) => {}
        }
    }

    pub async fn send(&self, request: &Request) -> Result<(), IpcError> {
        let mut writer = self.writer.lock().await;
        let Some(link) = writer.as_mut() else {
            return Err(agent_unavailable());
        };
        if let Err(e) = link.send(request).await {
            *writer = None;
            return Err(IpcError {
                code: IpcErrorCode::AgentUnavailable,
                message: format!("lost the Herald agent: {e}"),
            });
        }
        Ok(())
    }

    /// Connects, passes every event to `on_event`, and reconnects when the agent goes away.
    /// While it is away, `on_event` gets an offline connection state saying so.
    pub async fn run(&self, on_event: impl Fn(Event)) {
        let mut announced_gone = false;
        loop {
            let stream = match IpcStream::connect(&self.socket).await {
                Ok(stream) => stream,
                Err(_) => {
                    if !announced_gone {
                        let gone = agent_gone();
                        self.remember(&gone);
                        {
                            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
                            latest.unread = None;
                            latest.live.clear();
                        }
                        on_event(gone);
                        announced_gone = true;
                    }
                    tokio::time::sleep(AGENT_RETRY).await;
                    continue;
                }
            };
            announced_gone = false;
            let (mut reader, mut writer) = stream.split();
            if writer.send(&Request::UiAttached).await.is_err() {
                tokio::time::sleep(AGENT_RETRY).await;
                continue;
            }
            *self.writer.lock().await = Some(writer);
            while let Some(Ok(event)) = reader.recv::<Event>().await {
                if event == Event::UiLeft {
                    if let Some(left) = self.leaving.lock().unwrap_or_else(|p| p.into_inner()).take() {
                        let _ = left.send(());
                    }
                    continue;
                }
                if let Event::SettingsAnswer { tag, answer } = event {
                    if let Some(asker) = self.asked.lock().unwrap_or_else(|p| p.into_inner()).remove(&tag) {
                        let _ = asker.send(answer);
                    }
                    continue;
                }
                self.remember(&event);
                on_event(event);
            }
            *self.writer.lock().await = None;
            // Questions on the lost connection will not be answered.
            self.asked.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }
}

fn agent_unavailable() -> IpcError {
    IpcError { code: IpcErrorCode::AgentUnavailable, message: "the Herald agent is not running; start `herald`".into() }
}

fn agent_gone() -> Event {
    Event::Connection {
        connection: ConnectionState::Offline { reason: "the Herald agent is not running".into(), retry_in_ms: None },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ipc::socket::IpcListener;

    #[tokio::test]
    async fn requests_fail_clearly_without_an_agent_and_flow_once_it_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let link = Arc::new(AgentLink::new(socket.clone()));
        let err = link.send(&Request::OpenInbox).await.unwrap_err();
        assert_eq!(err.code, IpcErrorCode::AgentUnavailable);

        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let runner = link.clone();
        let task = tokio::spawn(async move { runner.run(move |e| drop(events_tx.send(e))).await });
        assert!(
            matches!(events.recv().await.unwrap(), Event::Connection { connection: ConnectionState::Offline { .. } }),
            "the window is told the agent is missing"
        );
        assert!(
            matches!(link.snapshot().connection, ConnectionState::Offline { .. }),
            "and a page that asks later learns it too"
        );

        let listener = IpcListener::bind(&socket).await.unwrap();
        let mut agent = listener.accept().await.unwrap();
        agent.send(&Event::InboxChanged { unread: 2 }).await.unwrap();
        assert_eq!(events.recv().await.unwrap(), Event::InboxChanged { unread: 2 });
        assert_eq!(link.snapshot().unread, Some(2));
        assert_eq!(agent.recv::<Request>().await.unwrap().unwrap(), Request::UiAttached, "it says it is the UI");
        link.send(&Request::MarkRead { ids: vec![1], read: true }).await.unwrap();
        assert_eq!(agent.recv::<Request>().await.unwrap().unwrap(), Request::MarkRead { ids: vec![1], read: true });
        task.abort();
    }
}
