//! Unix: a socket file in a 0700 directory under `$XDG_RUNTIME_DIR`; each accepted peer's uid is
//! checked, so another user cannot drive the agent even if the permissions were loosened.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::{UnixListener, UnixStream};

use super::socket::{io_err, Halves, IpcIoError};

pub struct Listener {
    listener: UnixListener,
    path: PathBuf,
    uid: u32,
}

/// Makes `dir` the user's own (0700), whoever made it.
pub fn private_dir(dir: &Path) -> Result<(), IpcIoError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(format!("creating {}", dir.display())))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io_err(format!("securing {}", dir.display())))
}

impl Listener {
    /// Binds `path`; the caller holds the lock that makes it the one agent, so a socket file
    /// already there was left by an agent that died.
    pub fn bind(path: &Path) -> Result<Self, IpcIoError> {
        let dir = path.parent().expect("socket path has a directory");
        let uid = std::fs::metadata(dir).map_err(io_err("reading the runtime dir"))?.uid();
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
        Ok(Self { listener, path: path.to_owned(), uid })
    }

    /// The next peer run by the same user; others are turned away.
    pub async fn accept(&self) -> Result<Halves, IpcIoError> {
        loop {
            let (stream, _) = self.listener.accept().await.map_err(io_err("accepting"))?;
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == self.uid => return Ok(halves(stream)),
                Ok(cred) => tracing::warn!(uid = cred.uid(), "refused an IPC peer of another user"),
                Err(e) => tracing::warn!(error = %e, "refused an IPC peer whose user is unknown"),
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub async fn connect(path: &Path) -> Result<Halves, IpcIoError> {
    let stream = UnixStream::connect(path).await.map_err(io_err(format!("connecting to {}", path.display())))?;
    Ok(halves(stream))
}

fn halves(stream: UnixStream) -> Halves {
    let (read, write) = stream.into_split();
    (Box::new(read), Box::new(write))
}
