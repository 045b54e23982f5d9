//! A second `herald` finds the profile's agent running: it asks which session that agent is in
//! before handing over. One of this session's gets the request (it opens the inbox); one of an
//! ended session quits and this one takes its place; one of another live session keeps the
//! profile, and this one says why it cannot start and what to do. An agent that does not answer
//! at all is ended (Unix: it wrote its pid in its lock), so a hung or orphaned agent never keeps
//! a session without its tray.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use herald_client::ipc::socket::IpcStream;
use herald_client::ipc::{Event, IpcErrorCode, Request};
use herald_client::session::{refusal, SessionId, Standing};

/// How long the running agent has to answer. It may be starting: it holds the lock and its
/// socket before it opens the keyring and its accounts, which at a busy login (or a keyring
/// waiting to be unlocked) takes seconds; only an agent silent for this long counts as hung.
const ANSWER_PATIENCE: Duration = Duration::from_secs(15);
/// How long an agent that said it is ending (or was told to end) has to let go of the lock.
pub const LEAVE_PATIENCE: Duration = Duration::from_secs(10);

/// What came of meeting the running agent.
pub enum Met {
    /// It is this session's and opens the inbox: this `herald` is done.
    HandedOver,
    /// It has gone (or is going): take the profile.
    Replace,
    /// It runs in another live session: say this and stop.
    Refused(String),
}

pub async fn meet_running_agent(socket: &Path, mine: &SessionId, data_dir: &Path) -> anyhow::Result<Met> {
    match tokio::time::timeout(ANSWER_PATIENCE, ask(socket, mine)).await {
        Ok(Ok((standing, theirs, pid, mut stream))) => match standing {
            Standing::Same => {
                stream.send(&Request::OpenInbox).await.context("asking the running agent to open the inbox")?;
                println!("herald is already running; asked it to open the inbox");
                Ok(Met::HandedOver)
            }
            Standing::OtherSession => Ok(Met::Refused(refusal(&theirs, Some(pid), data_dir))),
            Standing::Ending => {
                tracing::info!(pid, their_session = %theirs.describe(), "the running agent's session has ended; it is quitting, this one takes over");
                Ok(Met::Replace)
            }
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the running agent did not answer properly");
            end_unanswering(socket).await
        }
        Err(_) => {
            tracing::warn!(patience = ?ANSWER_PATIENCE, "the running agent does not answer");
            end_unanswering(socket).await
        }
    }
}

/// Asks the running agent which session it is in. An agent from before sessions were asked
/// about says the request is not one it knows: it is taken as this session's, as it was then.
async fn ask(socket: &Path, mine: &SessionId) -> anyhow::Result<(Standing, SessionId, u32, IpcStream)> {
    let mut stream = loop {
        match IpcStream::connect(socket).await {
            Ok(stream) => break stream,
            // Still starting (lock held, socket not yet listening): the caller bounds the wait.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    stream.send(&Request::WhoseSession { session: mine.clone() }).await?;
    loop {
        match stream.recv::<Event>().await {
            Some(Ok(Event::SessionStanding { session, pid, standing })) => return Ok((standing, session, pid, stream)),
            Some(Ok(Event::Error(e))) if e.code == IpcErrorCode::BadRequest => {
                return Ok((Standing::Same, SessionId::default(), 0, stream))
            }
            // What every peer is told on connecting (the connection state, the unread count).
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("the running agent hung up"),
        }
    }
}

/// The agent holding the profile's lock neither answers nor lets go: ask it to end, then make
/// it, and take its place once the lock is free.
#[cfg(unix)]
async fn end_unanswering(socket: &Path) -> anyhow::Result<Met> {
    use herald_client::ipc::socket::IpcListener;
    let Some(pid) = IpcListener::lock_holder(socket) else { return Ok(Met::Replace) };
    if !is_herald_of_this_user(pid) {
        anyhow::bail!("the profile's lock is held by process {pid}, which is not a herald agent of this user");
    }
    tracing::warn!(pid, "ending the agent that does not answer, to take its place");
    let Some(process) = rustix::process::Pid::from_raw(pid as i32) else { return Ok(Met::Replace) };
    for signal in [rustix::process::Signal::TERM, rustix::process::Signal::KILL] {
        let _ = rustix::process::kill_process(process, signal);
        let deadline = tokio::time::Instant::now() + LEAVE_PATIENCE / 2;
        while tokio::time::Instant::now() < deadline {
            if IpcListener::lock_holder(socket).is_none() {
                return Ok(Met::Replace);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    anyhow::bail!("the herald agent {pid} that holds this profile does not answer and would not end")
}

#[cfg(not(unix))]
async fn end_unanswering(_socket: &Path) -> anyhow::Result<Met> {
    anyhow::bail!("another herald agent holds this profile and does not answer: end it in the Task Manager, then start Herald again")
}

/// Only a process of this user running `herald` is ever signalled: a pid written in the lock may
/// since have been taken by some other program.
#[cfg(unix)]
fn is_herald_of_this_user(pid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let proc = Path::new("/proc").join(pid.to_string());
    let Ok(meta) = std::fs::metadata(&proc) else { return false };
    let own = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let exe = std::fs::read_link(proc.join("exe")).ok();
    // A binary replaced while it runs (an upgrade) reads as "herald (deleted)".
    let named_herald = |name: &std::ffi::OsStr| name == "herald" || name == "herald (deleted)";
    Some(meta.uid()) == own && exe.is_some_and(|exe| exe.file_name().is_some_and(named_herald))
}
