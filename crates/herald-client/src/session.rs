//! Which desktop session a process belongs to, and what a second `herald` does about an agent
//! already running for the same profile.
//!
//! The agent belongs to one session: it ends with it (the agent's `session` module watches), and
//! a `herald` started in another session must not hand over to it. Before handing over, a second
//! `herald` asks the running one which session it is in ([`crate::ipc::Request::WhoseSession`]);
//! the running agent compares, checks its own session is still alive if they differ, and answers
//! with a [`Standing`]. The mirror is one per profile, so two live sessions cannot both sync it:
//! the second one says why and what to do ([`refusal`]).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What identifies a desktop session. Any part may be unknown; two sessions are the same when
/// they share at least one known part and no known part differs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionId {
    /// The session bus's own id (`org.freedesktop.DBus.GetId`): a new bus daemon, a new id.
    pub bus: Option<String>,
    /// The login session: logind's `XDG_SESSION_ID` on Linux, the logon session's number on
    /// Windows.
    pub login: Option<String>,
    /// The display: `WAYLAND_DISPLAY` or `DISPLAY`.
    pub display: Option<String>,
}

impl SessionId {
    /// This process's session as its environment tells it; `bus` is filled in by whoever can ask
    /// the bus.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self { bus: None, login: var("XDG_SESSION_ID"), display: var("WAYLAND_DISPLAY").or_else(|| var("DISPLAY")) }
    }

    /// Whether `other` is this same session (see the type's description).
    pub fn same_as(&self, other: &SessionId) -> bool {
        let parts = [(&self.bus, &other.bus), (&self.login, &other.login), (&self.display, &other.display)];
        let mut shared = 0;
        for (mine, theirs) in parts {
            if let (Some(mine), Some(theirs)) = (mine, theirs) {
                if mine != theirs {
                    return false;
                }
                shared += 1;
            }
        }
        shared > 0
    }

    /// For people: "display :1, login session 3", or "an unknown session".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(display) = &self.display {
            parts.push(format!("display {display}"));
        }
        if let Some(login) = &self.login {
            parts.push(format!("login session {login}"));
        }
        if parts.is_empty() {
            return match &self.bus {
                Some(bus) => format!("the session of bus {}", &bus[..bus.len().min(8)]),
                None => "an unknown session".into(),
            };
        }
        parts.join(", ")
    }
}

/// The running agent's answer to a second `herald` (`Event::SessionStanding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The same session: hand over to it (it opens the inbox), as ever.
    Same,
    /// Another session, still alive: it keeps the profile; the second one must not start.
    OtherSession,
    /// Another session that has ended: the running agent quits now, so the asker can take the
    /// profile once its lock is free.
    Ending,
}

/// What the running agent answers a `herald` of session `asker`, given its own session `own`
/// and whether that is still alive (its bus answers, its display is open, logind says it is not
/// closing).
pub fn standing(own: &SessionId, asker: &SessionId, own_alive: bool) -> Standing {
    if own.same_as(asker) {
        Standing::Same
    } else if own_alive {
        Standing::OtherSession
    } else {
        Standing::Ending
    }
}

/// What a `herald` says when the profile's agent runs in another live session: why it cannot
/// start, and what to do.
pub fn refusal(theirs: &SessionId, pid: Option<u32>, data_dir: &std::path::Path) -> String {
    let pid = pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
    format!(
        "herald is already running for this profile in another session: {}{pid}. One profile's inbox \
         is kept by one agent at a time. Quit Herald there (its tray menu: Quit), then start it here \
         again; or give this session a profile of its own: HERALD_DATA_DIR=<another directory> herald \
         (this profile is {}).",
        theirs.describe(),
        data_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(bus: Option<&str>, login: Option<&str>, display: Option<&str>) -> SessionId {
        SessionId { bus: bus.map(Into::into), login: login.map(Into::into), display: display.map(Into::into) }
    }

    #[test]
    fn sessions_are_the_same_only_when_what_both_know_agrees() {
        let here = session(Some("b1"), Some("3"), Some(":0"));
        assert!(here.same_as(&here.clone()));
        // A new login on the same display number, after a logout: a new bus and session id.
        assert!(!here.same_as(&session(Some("b2"), Some("4"), Some(":0"))));
        // systemd's user bus outlives one login and is shared by two at once: the login and the
        // display tell them apart.
        assert!(!here.same_as(&session(Some("b1"), Some("5"), Some(":1"))));
        // A herald started from a terminal that lacks some variables is still of this session.
        assert!(here.same_as(&session(Some("b1"), None, None)));
        assert!(here.same_as(&session(None, Some("3"), None)));
        // Nothing known in common: not shown to be the same, so not handed to.
        assert!(!here.same_as(&session(None, None, None)));
        assert!(!session(None, None, None).same_as(&session(None, None, None)));
    }

    #[test]
    fn the_running_agent_answers_by_its_session_and_whether_it_lives() {
        let own = session(Some("b1"), None, Some(":0"));
        let same = session(Some("b1"), None, Some(":0"));
        let other = session(Some("b2"), None, Some(":1"));
        assert_eq!(standing(&own, &same, true), Standing::Same);
        assert_eq!(standing(&own, &same, false), Standing::Same, "the asker shows the session is alive");
        assert_eq!(standing(&own, &other, true), Standing::OtherSession);
        assert_eq!(standing(&own, &other, false), Standing::Ending);
    }

    #[test]
    fn the_refusal_says_where_it_runs_and_what_to_do() {
        let theirs = session(Some("b1"), Some("7"), Some(":1"));
        let said = refusal(&theirs, Some(4242), std::path::Path::new("/home/bob/.local/share/herald"));
        for part in
            ["display :1", "login session 7", "pid 4242", "Quit", "HERALD_DATA_DIR", "/home/bob/.local/share/herald"]
        {
            assert!(said.contains(part), "{part:?} missing from: {said}");
        }
        assert_eq!(session(None, None, None).describe(), "an unknown session");
    }
}
