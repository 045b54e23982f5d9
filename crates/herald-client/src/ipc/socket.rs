//! Local socket transport. Unix: a socket file in a 0700 directory under `$XDG_RUNTIME_DIR`,
//! and each accepted peer's uid is checked, so another user cannot drive the agent even if the
//! permissions were loosened.

#[cfg(not(unix))]
compile_error!("herald's IPC needs a named-pipe transport on this platform; only Unix sockets exist yet");

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec, LinesCodecError};

/// No message is this big; a peer that sends one is dropped.
const MAX_LINE: usize = 64 * 1024;

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
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> IpcIoError {
    let context = context.into();
    move |source| IpcIoError::Io { context, source }
}

/// The agent's end: owning the socket makes it the one running agent.
pub struct IpcListener {
    listener: UnixListener,
    path: PathBuf,
    uid: u32,
    /// Held for the agent's life: whoever holds it owns the socket path, so two agents starting
    /// at once cannot both decide the socket is stale and replace each other's.
    _lock: std::fs::File,
}

impl IpcListener {
    /// Binds `path`, or fails with [`IpcIoError::AlreadyRunning`] if a live agent answers there.
    /// A socket file left behind by a killed agent is replaced.
    pub async fn bind(path: &Path) -> Result<Self, IpcIoError> {
        let dir = path.parent().expect("socket path has a directory");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(format!("creating {}", dir.display())))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("securing {}", dir.display())))?;
        let uid = std::fs::metadata(dir).map_err(io_err("reading the runtime dir"))?.uid();
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
        // With the lock held, a socket file here was left by an agent that died.
        if path.exists() {
            std::fs::remove_file(path).map_err(io_err(format!("removing stale {}", path.display())))?;
        }
        let listener = match UnixListener::bind(path) {
            Ok(listener) => listener,
            // Lost a race with another agent starting at the same moment.
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Err(IpcIoError::AlreadyRunning(path.to_owned())),
            Err(e) => return Err(io_err(format!("binding {}", path.display()))(e)),
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(io_err("securing the socket"))?;
        Ok(Self { listener, path: path.to_owned(), uid, _lock: lock })
    }

    /// The next peer run by the same user; others are turned away.
    pub async fn accept(&self) -> Result<IpcStream, IpcIoError> {
        loop {
            let (stream, _) = self.listener.accept().await.map_err(io_err("accepting"))?;
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == self.uid => return Ok(IpcStream::new(stream)),
                Ok(cred) => tracing::warn!(uid = cred.uid(), "refused an IPC peer of another user"),
                Err(e) => tracing::warn!(error = %e, "refused an IPC peer whose user is unknown"),
            }
        }
    }
}

impl Drop for IpcListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One connection, either end. Split it to read and write from different tasks.
pub struct IpcStream {
    reader: IpcReader,
    writer: IpcWriter,
}

pub struct IpcReader(FramedRead<OwnedReadHalf, LinesCodec>);
pub struct IpcWriter(FramedWrite<OwnedWriteHalf, LinesCodec>);

impl IpcStream {
    fn new(stream: UnixStream) -> Self {
        let (read, write) = stream.into_split();
        Self {
            reader: IpcReader(FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE))),
            writer: IpcWriter(FramedWrite::new(write, LinesCodec::new_with_max_length(MAX_LINE))),
        }
    }

    /// The window's end: connects to a running agent.
    pub async fn connect(path: &Path) -> Result<Self, IpcIoError> {
        Ok(Self::new(UnixStream::connect(path).await.map_err(io_err(format!("connecting to {}", path.display())))?))
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
    /// The next message; None when the peer hung up.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, IpcIoError>> {
        let line = match self.0.next().await? {
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
        let mode = std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700, "only the user may enter the socket's directory");

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
        // A killed agent leaves its socket file behind; leak the listener's fd-less path to mimic it.
        drop(first);
        std::os::unix::net::UnixListener::bind(&path).map(drop).unwrap();
        assert!(path.exists());
        IpcListener::bind(&path).await.expect("a dead socket does not block a new agent");
    }

    #[tokio::test]
    async fn garbage_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let listener = IpcListener::bind(&path).await.unwrap();
        let mut raw = UnixStream::connect(&path).await.unwrap();
        let mut agent = listener.accept().await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut raw, b"{\"type\": \"launch_missiles\"}\n").await.unwrap();
        assert!(matches!(agent.recv::<Request>().await, Some(Err(IpcIoError::Decode(_)))));
    }
}
