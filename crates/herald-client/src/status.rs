//! What the tray shows: the agent's state folded from sync events, and the words for it.

use crate::sync::ConnectionState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub connection: ConnectionState,
    pub unread: u32,
}

impl Default for Status {
    fn default() -> Self {
        Self { connection: ConnectionState::Connecting, unread: 0 }
    }
}

/// How the tray icon should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    /// Connected, nothing unread.
    Idle,
    /// Something unread.
    Unread,
    /// Not connected (the inbox still shows what was synced).
    Offline,
}

impl Status {
    /// The tray tooltip: unread count first, then the link state when it is not fine.
    pub fn tooltip(&self) -> String {
        let unread = match self.unread {
            0 => "No unread notifications".to_owned(),
            1 => "1 unread notification".to_owned(),
            n => format!("{n} unread notifications"),
        };
        match &self.connection {
            ConnectionState::Online => unread,
            ConnectionState::Connecting => format!("{unread} — connecting…"),
            ConnectionState::Offline { reason, retry_in_ms: Some(ms) } => {
                format!("{unread} — disconnected ({reason}); retrying in {}", human_delay(*ms))
            }
            ConnectionState::Offline { reason, retry_in_ms: None } => format!("{unread} — disconnected ({reason})"),
        }
    }

    pub fn badge(&self) -> Badge {
        match (&self.connection, self.unread) {
            (ConnectionState::Offline { .. }, _) => Badge::Offline,
            (_, 0) => Badge::Idle,
            _ => Badge::Unread,
        }
    }
}

fn human_delay(ms: u64) -> String {
    if ms < 1_000 {
        "under a second".to_owned()
    } else {
        format!("{} s", ms.div_ceil(1_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltip_gives_the_unread_count_and_a_broken_link() {
        let online = Status { connection: ConnectionState::Online, unread: 3 };
        assert_eq!(online.tooltip(), "3 unread notifications");
        assert_eq!(online.badge(), Badge::Unread);

        let offline = Status {
            connection: ConnectionState::Offline { reason: "cannot reach the hub".into(), retry_in_ms: Some(4_200) },
            unread: 1,
        };
        assert_eq!(offline.tooltip(), "1 unread notification — disconnected (cannot reach the hub); retrying in 5 s");
        assert_eq!(offline.badge(), Badge::Offline);

        let idle = Status { connection: ConnectionState::Online, unread: 0 };
        assert_eq!(idle.tooltip(), "No unread notifications");
        assert_eq!(idle.badge(), Badge::Idle);
    }
}
