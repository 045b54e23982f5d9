//! What the tray shows: the agent's state folded from sync events, and the words for it.

use herald_proto::LiveEvent;
use jiff::Timestamp;

use crate::sync::ConnectionState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub connection: ConnectionState,
    pub unread: u32,
    /// Live events still within their time to live (a ringing call, a shutdown countdown):
    /// never stored, so this is the only place a window can list them.
    pub live: Vec<LiveEvent>,
    /// The newest unread notifications, newest first, for the tray's menu (at most
    /// [`LATEST_IN_MENU`]).
    pub latest_unread: Vec<Unread>,
    /// Do-not-disturb is on until then (RFC 3339, UTC) on some account; None: off everywhere.
    pub dnd_until: Option<String>,
    /// Reminders snoozed (on a toast or in the quick panel): out of `live` until their time.
    pub snoozed: Vec<(LiveEvent, Timestamp)>,
}

/// How many unread notifications the tray's menu lists.
pub const LATEST_IN_MENU: u32 = 5;

/// An unread notification as the tray's menu names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub id: i64,
    pub subject: String,
}

impl Default for Status {
    fn default() -> Self {
        Self {
            connection: ConnectionState::Connecting,
            unread: 0,
            live: Vec::new(),
            latest_unread: Vec::new(),
            dnd_until: None,
            snoozed: Vec::new(),
        }
    }
}

/// The most live events kept at once; the oldest go first.
const MAX_LIVE: usize = 50;

impl Status {
    /// Adds a live event (one with the same id replaces it) and drops the expired ones.
    pub fn add_live(&mut self, event: LiveEvent, now: Timestamp) {
        self.live.retain(|e| e.id != event.id);
        self.live.push(event);
        self.prune_live(now);
        if self.live.len() > MAX_LIVE {
            self.live.drain(..self.live.len() - MAX_LIVE);
        }
    }

    /// Takes live event `event_id` out of the list until `until`; whether it was listed.
    pub fn snooze_live(&mut self, event_id: &str, until: Timestamp) -> bool {
        let Some(at) = self.live.iter().position(|e| e.id == event_id) else { return false };
        let event = self.live.remove(at);
        self.snoozed.retain(|(e, _)| e.id != event_id);
        self.snoozed.push((event, until));
        true
    }

    /// Lists again the snoozed events whose time has come (those not expired meanwhile);
    /// whether the list changed.
    pub fn wake_snoozed(&mut self, now: Timestamp) -> bool {
        let (due, waiting): (Vec<_>, Vec<_>) = self.snoozed.drain(..).partition(|(_, until)| *until <= now);
        self.snoozed = waiting;
        let woke = !due.is_empty();
        for (event, _) in due {
            self.add_live(event, now);
        }
        woke
    }

    /// When the next snoozed event is due.
    pub fn next_wake(&self) -> Option<Timestamp> {
        self.snoozed.iter().map(|(_, until)| *until).min()
    }

    /// Live event `event_id` was answered: listed no more, snoozed or not.
    pub fn answered_live(&mut self, event_id: &str) {
        self.live.retain(|e| e.id != event_id);
        self.snoozed.retain(|(e, _)| e.id != event_id);
    }

    /// Drops live events past their `expires_at`; returns whether any went.
    pub fn prune_live(&mut self, now: Timestamp) -> bool {
        let before = self.live.len();
        self.live.retain(|e| e.expires_at.parse::<Timestamp>().is_ok_and(|at| at > now));
        self.live.len() != before
    }
}

/// The do-not-disturb the tray shows out of every account's: the latest end still to come.
pub fn combined_dnd_until<'a>(ends: impl IntoIterator<Item = Option<&'a str>>, now: Timestamp) -> Option<String> {
    ends.into_iter()
        .flatten()
        .filter_map(|end| end.parse::<Timestamp>().ok())
        .filter(|end| *end > now)
        .max()
        .map(|end| end.to_string())
}

/// One link state for the tray out of every account's: online only when all are; otherwise the
/// first account that is offline (named, when there are several), else connecting.
pub fn combined_connection<'a>(accounts: impl IntoIterator<Item = (&'a str, &'a ConnectionState)>) -> ConnectionState {
    let accounts: Vec<(&str, &ConnectionState)> = accounts.into_iter().collect();
    let several = accounts.len() > 1;
    if let Some((name, ConnectionState::Offline { reason, retry_in_ms })) =
        accounts.iter().find(|(_, state)| matches!(state, ConnectionState::Offline { .. }))
    {
        let reason = if several { format!("{name}: {reason}") } else { reason.clone() };
        return ConnectionState::Offline { reason, retry_in_ms: *retry_in_ms };
    }
    if !accounts.is_empty() && accounts.iter().all(|(_, state)| **state == ConnectionState::Online) {
        ConnectionState::Online
    } else {
        ConnectionState::Connecting
    }
}

/// How the tray icon should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    /// Not connected (the inbox still shows what was synced, and counts it).
    pub offline: bool,
    pub unread: UnreadMark,
}

/// The count on the icon: none, 1 to 9, or "9+".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreadMark {
    None,
    Few(u8),
    Many,
}

impl UnreadMark {
    pub fn of(unread: u32) -> Self {
        match unread {
            0 => Self::None,
            1..=9 => Self::Few(unread as u8),
            _ => Self::Many,
        }
    }
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
        Badge {
            offline: matches!(self.connection, ConnectionState::Offline { .. }),
            unread: UnreadMark::of(self.unread),
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
    fn the_tray_is_online_when_every_account_is_and_names_the_one_that_is_not() {
        let offline = ConnectionState::Offline { reason: "cannot reach the hub".into(), retry_in_ms: Some(1000) };
        let online = ConnectionState::Online;
        assert_eq!(combined_connection([("home", &online), ("work", &online)]), ConnectionState::Online);
        assert_eq!(
            combined_connection([("home", &online), ("work", &offline)]),
            ConnectionState::Offline { reason: "work: cannot reach the hub".into(), retry_in_ms: Some(1000) }
        );
        assert_eq!(combined_connection([("work", &offline)]), offline, "one account needs no name");
        assert_eq!(
            combined_connection([("home", &online), ("work", &ConnectionState::Connecting)]),
            ConnectionState::Connecting
        );
    }

    fn event(id: &str, expires_at: &str) -> LiveEvent {
        LiveEvent {
            id: id.into(),
            kind: herald_proto::LiveKind::Call,
            title: "Call".into(),
            body: String::new(),
            actions: vec![],
            at: None,
            expires_at: expires_at.into(),
        }
    }

    #[test]
    fn live_events_are_listed_until_they_expire() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let mut status = Status::default();
        status.add_live(event("a", "2026-11-21T10:00:30.000Z"), now);
        status.add_live(event("b", "2026-11-21T09:59:00.000Z"), now);
        assert_eq!(status.live.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a"], "an expired one is not kept");
        assert!(!status.prune_live(now));
        assert!(status.prune_live("2026-11-21T10:01:00Z".parse().unwrap()));
        assert!(status.live.is_empty());
    }

    #[test]
    fn a_snoozed_reminder_leaves_the_list_until_its_time_unless_answered_or_expired() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let mut status = Status::default();
        status.add_live(event("a", "2026-11-21T11:00:00.000Z"), now);
        status.add_live(event("b", "2026-11-21T10:03:00.000Z"), now);
        status.add_live(event("c", "2026-11-21T11:00:00.000Z"), now);
        let in_5 = now + jiff::SignedDuration::from_mins(5);
        assert!(status.snooze_live("a", in_5) && status.snooze_live("b", in_5) && status.snooze_live("c", in_5));
        assert!(!status.snooze_live("zzz", in_5), "not listed");
        assert!(status.live.is_empty());
        assert_eq!(status.next_wake(), Some(in_5));
        status.answered_live("c");
        assert!(!status.wake_snoozed(now), "not yet");
        assert!(status.wake_snoozed(in_5));
        assert_eq!(status.live.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a"], "b expired, c was answered");
        assert_eq!(status.next_wake(), None);
    }

    #[test]
    fn do_not_disturb_shows_the_latest_end_still_to_come() {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let ends = [Some("2026-11-21T09:00:00Z"), None, Some("2026-11-21T11:30:00Z"), Some("2026-11-21T11:00:00Z")];
        assert_eq!(combined_dnd_until(ends, now).as_deref(), Some("2026-11-21T11:30:00Z"));
        assert_eq!(combined_dnd_until([Some("2026-11-21T09:00:00Z"), None], now), None, "ended: off");
        assert_eq!(combined_dnd_until([Some("not a time")], now), None);
    }

    #[test]
    fn tooltip_gives_the_unread_count_and_a_broken_link() {
        let online = Status { connection: ConnectionState::Online, unread: 3, ..Status::default() };
        assert_eq!(online.tooltip(), "3 unread notifications");
        assert_eq!(online.badge(), Badge { offline: false, unread: UnreadMark::Few(3) });

        let offline = Status {
            connection: ConnectionState::Offline { reason: "cannot reach the hub".into(), retry_in_ms: Some(4_200) },
            unread: 1,
            ..Status::default()
        };
        assert_eq!(offline.tooltip(), "1 unread notification — disconnected (cannot reach the hub); retrying in 5 s");
        assert_eq!(offline.badge(), Badge { offline: true, unread: UnreadMark::Few(1) }, "offline, and still counting");

        let idle = Status { connection: ConnectionState::Online, unread: 0, ..Status::default() };
        assert_eq!(idle.tooltip(), "No unread notifications");
        assert_eq!(idle.badge(), Badge { offline: false, unread: UnreadMark::None });
        let many = Status { connection: ConnectionState::Online, unread: 10, ..Status::default() };
        assert_eq!(many.badge().unread, UnreadMark::Many, "9+");
        assert_eq!(UnreadMark::of(9), UnreadMark::Few(9));
    }
}
