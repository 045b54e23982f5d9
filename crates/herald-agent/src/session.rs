//! The desktop session this agent belongs to, and its end. The agent lives and dies with its
//! session: logind on Debian does not end a user's processes at logout, and an agent left from
//! an ended session would keep the profile from the next one's (no tray, no toasts there).
//!
//! What counts as the end, each heard as it happens (no polling):
//! - the session bus closes (the bus daemon of `dbus-run-session`, or of the login, is gone);
//! - the display goes away (the X server's or the Wayland compositor's socket closes);
//! - logind says the login session is closing or removed (Linux, where logind runs);
//! - Windows: the logon session logs off or the system ends it (`session_windows.rs`).
//!
//! [`Session::alive`] checks again on demand: a `herald` of another session asks before taking
//! over (`handover`), and an agent whose session is gone must not be handed to.

use herald_client::session::SessionId;
use tokio::sync::watch;

#[cfg(target_os = "linux")]
#[path = "session_linux.rs"]
mod platform;
#[cfg(windows)]
#[path = "session_windows.rs"]
mod platform;
#[cfg(not(any(target_os = "linux", windows)))]
mod platform {
    //! Elsewhere (macOS) the agent runs until it is asked to quit.
    pub struct Watch;

    pub async fn watch(_id: &mut herald_client::session::SessionId, _end: super::Ending) -> Watch {
        Watch
    }

    impl Watch {
        pub async fn alive(&self) -> bool {
            true
        }
    }
}

/// Ends the session once, with the first reason given.
#[derive(Clone)]
pub struct Ending(watch::Sender<Option<String>>);

impl Ending {
    pub fn end(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.0.send_if_modified(|ended| {
            if ended.is_some() {
                return false;
            }
            *ended = Some(reason);
            true
        });
    }
}

pub struct Session {
    /// Which session this is, as a second `herald` compares it.
    pub id: SessionId,
    ending: Ending,
    ended: watch::Receiver<Option<String>>,
    watch: platform::Watch,
}

impl Session {
    /// Finds out which session this process is in and starts watching for its end.
    pub async fn join() -> Self {
        let (sender, ended) = watch::channel(None);
        let ending = Ending(sender);
        let mut id = SessionId::from_env();
        let watch = platform::watch(&mut id, ending.clone()).await;
        tracing::info!(session = %id.describe(), bus = ?id.bus, "the agent's session");
        Self { id, ending, ended, watch }
    }

    /// Starts hearing the end where that takes more than [`Session::join`] (Windows: a hidden
    /// window), once this process is the profile's agent.
    pub fn listen(&self) {
        #[cfg(windows)]
        platform::listen();
    }

    /// Waits for the session to end; why it ended.
    pub async fn ended(&self) -> String {
        let mut ended = self.ended.clone();
        let reason = match ended.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            // The sender lives in `self`: cannot happen while this is awaited.
            Err(_) => return std::future::pending().await,
        };
        reason
    }

    /// Whether the session is still there, checked now; false once it was seen to end, or on
    /// clear evidence only (its bus connection closed, logind calls it closing): a slow answer is
    /// no reason to give the profile away.
    pub async fn alive(&self) -> bool {
        if self.ended.borrow().is_some() {
            return false;
        }
        let alive = self.watch.alive().await;
        if !alive {
            self.ending.end("the session is gone (checked when a herald of another session asked)");
        }
        alive
    }

    /// Ends the agent's session from within (a check found it gone).
    pub fn end(&self, reason: impl Into<String>) {
        self.ending.end(reason);
    }
}

/// Windows is ending the logon session (heard by a window other than the session watch's):
/// ends the agent's session and holds the calling thread until the agent stopped, a few
/// seconds at most.
#[cfg(windows)]
pub fn end_and_wait(reason: &str) {
    platform::end_and_wait(reason);
}

/// The agent has stopped (its last step): on Windows, lets a `WM_ENDSESSION` that waits for it
/// return, so Windows ends the process only now.
pub fn stopped() {
    #[cfg(windows)]
    platform::stopped();
}
