//! The local transport, the same on every platform above the wire: newline-delimited JSON, a
//! lock file that makes one agent per profile, and a hello from each peer before the agent says
//! anything. Below it, [`super::unix_socket`] (Linux, macOS) or [`super::named_pipe`] (Windows).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec, LinesCodecError};

#[cfg(windows)]
use super::named_pipe as transport;
#[cfg(unix)]
use super::unix_socket as transport;

/// No message is this big; a peer that sends one is dropped.
const MAX_LINE: usize = 64 * 1024;
/// A peer's first line. Until it comes the agent sends nothing: on Windows another user may open
/// the pipe for reading, and can never write this.
const HELLO: &str = r#"{"hello":"herald-ipc/1"}"#;
/// How long a peer has to say hello.
const HELLO_PATIENCE: Duration = Duration::from_secs(5);

/// Either end's halves of one connection, whatever the platform's transport.
pub(super) type Halves = (Box<dyn AsyncRead + Send + Unpin>, Box<dyn AsyncWrite + Send + Unpin>);

#[derive(Debug, thiserror::Error)]
pub enum IpcIoError {
    #[error("another herald agent is already running on {0}")]
    AlreadyRunning(PathBuf),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("message too long or not UTF-8: {0}")]
    Framing(#[from] LinesCodecError),
    #[error("not a valid message: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("the peer did not say hello")]
    NoHello,
}

pub(super) fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> IpcIoError {
    let context = context.into();
    move |source| IpcIoError::Io { context, source }
}

/// The agent's end: owning the socket makes it the one running agent.
pub struct IpcListener {
    listener: transport::Listener,
    /// Held for the agent's life: whoever holds it owns the socket path, so two agents starting
    /// at once cannot both decide the socket is stale and replace each other's.
    _lock: std::fs::File,
}

impl IpcListener {
    /// Binds `path`, or fails with [`IpcIoError::AlreadyRunning`] if a live agent answers there.
    /// A socket left behind by a killed agent is replaced.
    pub async fn bind(path: &Path) -> Result<Self, IpcIoError> {
        transport::private_dir(path.parent().expect("socket path has a directory"))?;
        let lock_path = path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(format!("opening {}", lock_path.display())))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(IpcIoError::AlreadyRunning(path.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(format!("locking {}", lock_path.display()))(e)),
        }
        // Who holds it, for a `herald` that finds this agent not answering (`lock_holder`).
        // Windows keeps a locked file from other readers, so there the file stays empty.
        #[cfg(unix)]
        {
            use std::io::Write;
            let mut file = &lock;
            let _ = file.set_len(0).and_then(|()| writeln!(file, "{}", std::process::id()));
        }
        Ok(Self { listener: transport::Listener::bind(path)?, _lock: lock })
    }

    /// The process holding the lock of the agent socket `path`, as it wrote itself there (Unix);
    /// None if no agent holds it now.
    #[cfg(unix)]
    pub fn lock_holder(path: &Path) -> Option<u32> {
        let lock_path = path.with_extension("lock");
        let file = std::fs::File::open(&lock_path).ok()?;
        // Free: nobody holds it, whatever the file says.
        if file.try_lock_shared().is_ok() {
            return None;
        }
        std::fs::read_to_string(&lock_path).ok()?.trim().parse().ok()
    }

    /// The next peer (on Unix, run by the same user; others are turned away). It has not said
    /// hello yet: [`IpcReader::greeted`] waits for that, and the first `recv` insists on it.
    pub async fn accept(&self) -> Result<IpcStream, IpcIoError> {
        let (read, write) = self.listener.accept().await?;
        Ok(IpcStream::new(read, write, true))
    }
}

/// One connection, either end. Split it to read and write from different tasks.
pub struct IpcStream {
    reader: IpcReader,
    writer: IpcWriter,
}

pub struct IpcReader {
    lines: FramedRead<Box<dyn AsyncRead + Send + Unpin>, LinesCodec>,
    /// The agent's end of a connection whose peer has not said hello yet.
    awaiting_hello: bool,
}
pub struct IpcWriter(FramedWrite<Box<dyn AsyncWrite + Send + Unpin>, LinesCodec>);

impl IpcStream {
    fn new(read: Box<dyn AsyncRead + Send + Unpin>, write: Box<dyn AsyncWrite + Send + Unpin>, accepted: bool) -> Self {
        Self {
            reader: IpcReader {
                lines: FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE)),
                awaiting_hello: accepted,
            },
            writer: IpcWriter(FramedWrite::new(write, LinesCodec::new_with_max_length(MAX_LINE))),
        }
    }

    /// The window's end: connects to a running agent and says hello.
    pub async fn connect(path: &Path) -> Result<Self, IpcIoError> {
        let (read, write) = transport::connect(path).await?;
        let mut stream = Self::new(read, write, false);
        stream.writer.0.send(HELLO).await?;
        Ok(stream)
    }

    pub fn split(self) -> (IpcReader, IpcWriter) {
        (self.reader, self.writer)
    }

    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<(), IpcIoError> {
        self.writer.send(message).await
    }

    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, IpcIoError>> {
        self.reader.recv().await
    }
}

impl IpcReader {
    /// Waits (a few seconds at most) for the peer's hello; at once if it came already or this is
    /// the window's end.
    pub async fn greeted(&mut self) -> Result<(), IpcIoError> {
        if !self.awaiting_hello {
            return Ok(());
        }
        match tokio::time::timeout(HELLO_PATIENCE, self.lines.next()).await {
            Ok(Some(Ok(line))) if line == HELLO => {
                self.awaiting_hello = false;
                Ok(())
            }
            Ok(Some(Err(e))) => Err(e.into()),
            _ => Err(IpcIoError::NoHello),
        }
    }

    /// The next message; None when the peer hung up.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, IpcIoError>> {
        if let Err(e) = self.greeted().await {
            return Some(Err(e));
        }
        let line = match self.lines.next().await? {
            Ok(line) => line,
            Err(e) => return Some(Err(e.into())),
        };
        Some(serde_json::from_str(&line).map_err(Into::into))
    }
}

impl IpcWriter {
    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<(), IpcIoError> {
        let line = serde_json::to_string(message)?;
        Ok(self.0.send(line).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::{Event, Request};

    #[tokio::test]
    async fn requests_and_events_cross_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/agent.sock");
        let listener = IpcListener::bind(&path).await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let mode = std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777;
            assert_eq!(mode, 0o700, "only the user may enter the socket's directory");
        }

        let mut window = IpcStream::connect(&path).await.unwrap();
        let mut agent = listener.accept().await.unwrap();
        window.send(&Request::MarkRead { ids: vec![1, 2], read: true }).await.unwrap();
        assert_eq!(agent.recv::<Request>().await.unwrap().unwrap(), Request::MarkRead { ids: vec![1, 2], read: true });
        let open = Event::Open(crate::ipc::OpenWindow::Settings);
        agent.send(&open).await.unwrap();
        assert_eq!(window.recv::<Event>().await.unwrap().unwrap(), open);
    }

    #[tokio::test]
    async fn a_second_agent_is_told_the_first_is_running_and_a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let first = IpcListener::bind(&path).await.unwrap();
        assert!(matches!(IpcListener::bind(&path).await, Err(IpcIoError::AlreadyRunning(_))));
        // A killed agent leaves its socket behind (written here as a dead one would have).
        drop(first);
        #[cfg(unix)]
        std::os::unix::net::UnixListener::bind(&path).map(drop).unwrap();
        #[cfg(windows)]
        std::fs::write(&path, r"\\.\pipe\herald-0").unwrap();
        assert!(path.exists());
        let second = IpcListener::bind(&path).await.expect("a dead socket does not block a new agent");
        IpcStream::connect(&path).await.expect("the new agent answers");
        drop(second);
    }

    /// Raw bytes to the agent's end, as a peer that is not Herald's window would send them.
    #[cfg(unix)]
    async fn raw_peer(path: &Path, bytes: &[u8]) -> tokio::net::UnixStream {
        let mut raw = tokio::net::UnixStream::connect(path).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut raw, bytes).await.unwrap();
        raw
    }

    /// The same over the agent's named pipe, found by the name in its file.
    #[cfg(windows)]
    async fn raw_peer(path: &Path, bytes: &[u8]) -> tokio::net::windows::named_pipe::NamedPipeClient {
        let name = std::fs::read_to_string(path).unwrap();
        let mut raw = tokio::net::windows::named_pipe::ClientOptions::new().open(name.trim()).unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut raw, bytes).await.unwrap();
        raw
    }

    #[tokio::test]
    async fn garbage_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let listener = IpcListener::bind(&path).await.unwrap();
        let _raw = raw_peer(&path, format!("{HELLO}\n{{\"type\": \"launch_missiles\"}}\n").as_bytes()).await;
        let mut agent = listener.accept().await.unwrap();
        assert!(matches!(agent.recv::<Request>().await, Some(Err(IpcIoError::Decode(_)))));
    }

    #[tokio::test]
    async fn a_peer_that_does_not_say_hello_first_is_not_heard() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let listener = IpcListener::bind(&path).await.unwrap();
        let _raw = raw_peer(&path, b"{\"type\":\"open_inbox\"}\n").await;
        let mut agent = listener.accept().await.unwrap();
        assert!(matches!(agent.recv::<Request>().await, Some(Err(IpcIoError::NoHello))));
        // One that says nothing at all is given up on.
        tokio::time::pause();
        let _silent = raw_peer(&path, b"").await;
        let (mut reader, _) = listener.accept().await.unwrap().split();
        assert!(matches!(reader.greeted().await, Err(IpcIoError::NoHello)));
    }

    /// Windows: a pipe of the name a dead agent left, created by someone else, is never used.
    #[cfg(windows)]
    #[tokio::test]
    async fn a_name_left_by_a_dead_agent_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let name = format!(r"\\.\pipe\herald-test-{}", std::process::id());
        let _impostor =
            tokio::net::windows::named_pipe::ServerOptions::new().first_pipe_instance(true).create(&name).unwrap();
        std::fs::write(&path, &name).unwrap();
        std::fs::write(path.with_extension("lock"), "").unwrap();
        match IpcStream::connect(&path).await {
            Err(IpcIoError::Io { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::NotFound),
            Err(other) => panic!("the wrong refusal: {other}"),
            Ok(_) => panic!("connected to a pipe no live agent made"),
        }
        // Once an agent holds the lock, its own pipe is used.
        let listener = IpcListener::bind(&path).await.unwrap();
        let mut window = IpcStream::connect(&path).await.unwrap();
        let mut agent = listener.accept().await.unwrap();
        window.send(&Request::OpenInbox).await.unwrap();
        assert_eq!(agent.recv::<Request>().await.unwrap().unwrap(), Request::OpenInbox);
    }
}
