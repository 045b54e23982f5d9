//! The agent ↔ window protocol: newline-delimited JSON over a local socket that only the same
//! user can open.
//!
//! - [`Request`]: window → agent (user actions, "open the inbox").
//! - [`Event`]: agent → windows (inbox changed, connection state, "show yourself").
//! - [`socket`]: the transport: bind (single-instance), accept (same user only), connect; over
//!   a Unix socket ([`unix_socket`]) or a Windows named pipe ([`named_pipe`]).

#[cfg(windows)]
mod named_pipe;
pub mod settings;
pub mod socket;
#[cfg(unix)]
mod unix_socket;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::sync::ConnectionState;

/// Window → agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Show the inbox (a second `herald` sends this to the first, then exits).
    OpenInbox,
    /// Mark notifications read or unread; the agent records it and tells the hub.
    MarkRead {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
        read: bool,
    },
    /// Any user action (read, delete, confirm, reply, answer a live event): the agent applies it
    /// to the mirror at once and tells the hub.
    Act { action: crate::outbox::Action },
    /// Accounts were added or removed (`herald accounts add/remove`): sync what is set up now.
    AccountsChanged,
    /// Sent by herald-ui on connecting: the windows' process is on this link, so the agent asks
    /// it to open windows rather than starting another (it may have been started by hand, or by
    /// a test's WebDriver).
    UiAttached,
    /// Sent by herald-ui when it means to end (no window for the grace period): from now on a
    /// window asked for starts a new herald-ui. The agent answers [`Event::UiLeft`] after every
    /// event it sent before; herald-ui ends only if none of them asked for a window.
    UiLeaving,
    /// A question from the settings window; answered to the asking peer only, as
    /// [`Event::SettingsAnswer`] with the same `tag`.
    Ask {
        #[ts(type = "number")]
        tag: u64,
        question: settings::SettingsQuestion,
    },
    /// Snooze a reminder (a live event) for this many minutes: its toast and its place in the
    /// quick panel come back then. Local to this desktop; the hub is not told.
    SnoozeLive { event_id: String, minutes: u32 },
    /// A second `herald` asks, before handing over, which session the running agent is in
    /// (`session` is the asker's). Answered with [`Event::SessionStanding`]; an agent whose own
    /// session has ended answers `ending` and quits (see [`crate::session`]).
    WhoseSession { session: crate::session::SessionId },
}

/// Agent → windows. Each window gets the current `Connection` and `InboxChanged` on connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The mirror changed: re-read it.
    InboxChanged {
        unread: u32,
    },
    Connection {
        connection: ConnectionState,
    },
    /// The live events still within their time to live (sent on connect and when they change).
    LiveEvents {
        events: Vec<herald_proto::LiveEvent>,
    },
    /// Catch-up progress: `done` of `total` changes applied ("Syncing 500 of 20,000").
    SyncProgress {
        #[ts(type = "number")]
        done: i64,
        #[ts(type = "number")]
        total: i64,
    },
    /// Open (or bring forward) one of the windows.
    Open(OpenWindow),
    /// The agent now syncs exactly the accounts that are set up (the answer to
    /// `AccountsChanged`: `herald accounts add/remove` waits for it).
    AccountsReloaded,
    /// The answer to `Request::UiLeaving`: nothing more will be asked of this herald-ui.
    UiLeft,
    /// The answer to `Request::Ask` number `tag`.
    SettingsAnswer {
        #[ts(type = "number")]
        tag: u64,
        answer: Result<settings::SettingsAnswer, IpcError>,
    },
    /// The answer to `Request::WhoseSession`: the running agent's session, process and what
    /// the asker should do.
    SessionStanding {
        session: crate::session::SessionId,
        pid: u32,
        standing: crate::session::Standing,
    },
    /// A request failed.
    Error(IpcError),
}

/// A window to open, and what it opens at. The agent asks for it (the tray, a toast, a second
/// `herald`); a `herald-ui` started for it finds it in `HERALD_UI_OPEN` (as JSON), a running one
/// gets it as [`Event::Open`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "window", rename_all = "snake_case")]
pub enum OpenWindow {
    /// The inbox; at notification `show` if given (chosen in the tray's menu).
    Inbox {
        #[ts(type = "number | null")]
        show: Option<i64>,
    },
    /// The quick panel by the tray. `at`: where the tray icon was clicked (screen pixels), if the
    /// desktop said; `reply_to`: a notification whose reply box to open (a toast's Reply).
    Panel {
        at: Option<(i32, i32)>,
        #[ts(type = "number | null")]
        reply_to: Option<i64>,
    },
    Settings,
}

impl OpenWindow {
    /// The window's label in herald-ui (one window of each kind).
    pub fn label(&self) -> &'static str {
        match self {
            OpenWindow::Inbox { .. } => "inbox",
            OpenWindow::Panel { .. } => "panel",
            OpenWindow::Settings => "settings",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub code: IpcErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorCode {
    /// The agent could not write the mirror.
    MirrorFailed,
    /// The request was not valid JSON or not a known request.
    BadRequest,
    /// The agent is not running (raised on the window's side).
    AgentUnavailable,
    /// The window cannot read the local inbox.
    MirrorUnavailable,
    /// A link that is not an http or https address: it is not opened.
    LinkRefused,
    /// What was asked cannot be done (a bad server address, an account that is not there).
    Invalid,
    /// The hub could not be reached or refused.
    HubFailed,
    /// The keyring or the token file could not be used.
    TokensFailed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_to_open_travels_as_flat_json() {
        let open = Event::Open(OpenWindow::Panel { at: Some((1200, 20)), reply_to: Some(7) });
        let json = serde_json::to_value(&open).unwrap();
        assert_eq!(json, serde_json::json!({"type": "open", "window": "panel", "at": [1200, 20], "reply_to": 7}));
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), open);
        assert_eq!(OpenWindow::Inbox { show: None }.label(), "inbox");
    }

    #[test]
    fn events_have_a_flat_tagged_shape() {
        let event = Event::Connection {
            connection: ConnectionState::Offline { reason: "down".into(), retry_in_ms: Some(500) },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "connection", "connection": {"state": "offline", "reason": "down", "retry_in_ms": 500}})
        );
    }
}
