//! Windows: a named pipe. Its name is random, made anew by each agent, and kept in the file at
//! the socket path in the user's own profile directory, which no other user can read or write:
//! no one can create the pipe before the agent does (a fixed name could be taken first, and a
//! window would then send its tokens to an impostor), and the agent holds an instance open at all
//! times (`first_pipe_instance` when created), so the name cannot be taken over while it runs. A
//! name left behind by a dead agent is not used: a window connects only while the agent's lock
//! file is held.
//! Remote clients are refused. A pipe's default access lets other local users open it for
//! reading only; they never learn anything, as the agent says nothing to a peer before it has
//! written its hello (see `socket`), which read-only access cannot do.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeServer, ServerOptions};
use tokio::sync::Mutex;

use super::socket::{io_err, Halves, IpcIoError};

/// `ERROR_PIPE_BUSY`: every instance is serving a peer just now; another comes at once.
const PIPE_BUSY: i32 = 231;
/// How long a window waits for a free instance before giving up on the agent.
const BUSY_PATIENCE: Duration = Duration::from_secs(2);

/// Whether an agent holds the lock at `lock_path` (as `IpcListener::bind` does for its life).
fn agent_alive(lock_path: &Path) -> bool {
    let Ok(lock) = std::fs::OpenOptions::new().read(true).open(lock_path) else { return false };
    // Taken: an agent holds it. Free: none does (and it is let go at once).
    matches!(lock.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

pub struct Listener {
    /// The instance waiting for the next peer.
    waiting: Mutex<NamedPipeServer>,
    name: String,
    path: PathBuf,
}

/// The profile directory is the user's own on Windows; nothing to tighten.
pub fn private_dir(dir: &Path) -> Result<(), IpcIoError> {
    std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))
}

impl Listener {
    pub fn bind(path: &Path) -> Result<Self, IpcIoError> {
        let name = format!(r"\\.\pipe\herald-{:032x}", rand::random::<u128>());
        let first = ServerOptions::new()
            .first_pipe_instance(true)
            .reject_remote_clients(true)
            .create(&name)
            .map_err(io_err(format!("creating the pipe {name}")))?;
        // Written whole, then moved into place: a window never reads half a name.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, &name).map_err(io_err(format!("writing {}", partial.display())))?;
        std::fs::rename(&partial, path).map_err(io_err(format!("writing {}", path.display())))?;
        Ok(Self { waiting: Mutex::new(first), name, path: path.to_owned() })
    }

    pub async fn accept(&self) -> Result<Halves, IpcIoError> {
        let mut waiting = self.waiting.lock().await;
        waiting.connect().await.map_err(io_err("accepting"))?;
        // The next instance is made before this one is handed out: the name is never free.
        let next = ServerOptions::new()
            .reject_remote_clients(true)
            .create(&self.name)
            .map_err(io_err("creating the next pipe instance"))?;
        let connected = std::mem::replace(&mut *waiting, next);
        let (read, write) = tokio::io::split(connected);
        Ok((Box::new(read), Box::new(write)))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub async fn connect(path: &Path) -> Result<Halves, IpcIoError> {
    let context = || format!("connecting to the agent named in {}", path.display());
    // A name left by an agent that died (killed, the machine switched off) names a pipe anyone
    // may create now: it is used only while its agent lives, which its lock says.
    if !agent_alive(&path.with_extension("lock")) {
        let gone = io::Error::new(io::ErrorKind::NotFound, "no Herald agent is running");
        return Err(io_err(context())(gone));
    }
    let name = std::fs::read_to_string(path).map_err(io_err(context()))?;
    let name = name.trim();
    if !name.starts_with(r"\\.\pipe\herald-") {
        let bad = io::Error::new(io::ErrorKind::InvalidData, "not a Herald pipe name");
        return Err(io_err(context())(bad));
    }
    let started = tokio::time::Instant::now();
    let client = loop {
        match ClientOptions::new().open(name) {
            Ok(client) => break client,
            Err(e) if e.raw_os_error() == Some(PIPE_BUSY) && started.elapsed() < BUSY_PATIENCE => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(io_err(context())(e)),
        }
    };
    let (read, write) = tokio::io::split(client);
    Ok((Box::new(read), Box::new(write)))
}
