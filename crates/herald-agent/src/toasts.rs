//! Native toasts: carries out what `herald_client::toast::decide` picks — shows toasts (clicking
//! one opens the inbox at it; its buttons confirm, mark read or answer a call, with every window
//! closed), closes the toast of a notification read or deleted anywhere, and holds toasts back
//! during the user's quiet hours and do-not-disturb.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use herald_client::ipc::settings::DeviceSettings;
use herald_client::ipc::OpenWindow;
use herald_client::mirror::{AccountId, SharedMirror};
use herald_client::sync::SyncEvent;
use herald_client::toast::{self, Bursts, Interruptions, Press, Slot, Toast, ToastCommand};
use jiff::Timestamp;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::notification_daemon::{NotificationDaemon, Signals};
use crate::Command;

mod live;

/// What the desktop says of a toast, whichever backend shows it (`notification_daemon`).
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(target_os = "macos", allow(dead_code))]
pub enum Signal {
    /// A button (or, as "default", the toast itself) was clicked.
    Clicked { toast_id: u32, key: String },
    /// Gone from the screen: dismissed, expired or closed by us.
    Closed { toast_id: u32 },
}

/// Toasts remembered for their clicks at most; a daemon that never says a toast closed would
/// otherwise grow the list for ever. The oldest are forgotten first.
const MAX_REMEMBERED: usize = 200;
/// Clicks on toasts not known yet, kept at most.
const MAX_EARLY_CLICKS: usize = 20;

/// The toasts' task, and the switch that ends every toast from the agent at once.
pub struct Toasts {
    task: JoinHandle<()>,
    stopped: Arc<AtomicBool>,
}

impl Toasts {
    /// No toast is shown or closed after this, by the main task or any it started (a countdown
    /// kept up, a snooze coming back): the agent is stopping, maybe with its session gone.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

/// One toast, outside the agent's run: why this `herald` did not start (started at login, it has
/// no terminal to say it in).
pub async fn show_alone(summary: &str, body: &str) {
    let (daemon, _signals) = match NotificationDaemon::connect().await {
        Ok(connected) => connected,
        Err(e) => return tracing::debug!(error = %e, "no notification service to say it in"),
    };
    if let Err(e) = daemon.show(&Toast::plain(summary, body), None, false).await {
        tracing::debug!(error = %e, "could not say it in a toast");
    }
}

pub fn spawn(
    mut events: broadcast::Receiver<SyncEvent>,
    commands: mpsc::UnboundedSender<Command>,
    mirror: SharedMirror,
    critical_breaks_through: bool,
    device: watch::Receiver<DeviceSettings>,
) -> Toasts {
    let stopped = Arc::new(AtomicBool::new(false));
    let stopping = stopped.clone();
    let task = tokio::spawn(async move {
        // What each hub last said, kept in the mirror, so an agent started offline honours it too.
        let mut rules = Rules::load(&mirror, critical_breaks_through).await;
        let mut bursts = Bursts::default();
        // Subscribed to the daemon's clicks before the first toast shows.
        let (daemon, signals) = match NotificationDaemon::connect().await {
            Ok((daemon, signals)) => (Some(daemon), Some(signals)),
            // No notification service (no session bus, no WinRT): the tray and inbox still carry
            // the news.
            Err(e) => {
                tracing::warn!(error = %e, "no notification service: no toasts");
                (None, None)
            }
        };
        let mut shown = Shown::new(commands.clone(), daemon, device);
        shown.stopped = stopping;
        if let Some(signals) = signals {
            tokio::spawn(hear_clicks(signals, shown.clone()));
        }
        let (mut live, mut back_from_snooze) = live::LiveToasts::new();
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                Some(event_id) = back_from_snooze.recv() => {
                    live.back(&event_id, |account| rules.of(account).clone(), &shown).await;
                    continue;
                }
            };
            match event {
                Ok(SyncEvent::MirrorChanged { account, applied, backfill }) => {
                    for command in toast::decide(&applied, backfill, rules.of(account), &mut bursts, Timestamp::now()) {
                        match command {
                            ToastCommand::Show(toast) => show(toast, &shown).await,
                            ToastCommand::Close { notification_id } => shown.close(notification_id).await,
                        }
                    }
                }
                Ok(SyncEvent::Live { account, event }) => live.raise(account, event, rules.of(account), &shown).await,
                Ok(SyncEvent::DoNotDisturb { account, settings }) => {
                    let rules = rules.of_mut(account);
                    rules.do_not_disturb = settings;
                    let quiet = rules.quiet_at(Timestamp::now());
                    tracing::info!(
                        account,
                        "toasts now {}",
                        if quiet { "held back (quiet hours or do not disturb)" } else { "shown" }
                    );
                }
                Ok(SyncEvent::LiveAnswered { event_id }) => live.answered(&event_id, &shown).await,
                Ok(SyncEvent::LiveSnoozed { event_id, until }) => live.snoozed(&event_id, until, &shown),
                Ok(SyncEvent::ActionRejected { action, error }) => {
                    show(toast::decide_rejected(&action, &error), &shown).await
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "toasts fell behind; some were not shown")
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    Toasts { task, stopped }
}

/// Each account's do-not-disturb (a user has one per hub) and the device's own settings.
struct Rules {
    device: Interruptions,
    by_account: HashMap<AccountId, Interruptions>,
}

impl Rules {
    async fn load(mirror: &SharedMirror, critical_breaks_through: bool) -> Self {
        let device = Interruptions { critical_breaks_through, ..Interruptions::default() };
        let saved = mirror.call(|m| m.each_do_not_disturb()).await.unwrap_or_default();
        let by_account = saved
            .into_iter()
            .map(|(account, do_not_disturb)| (account, Interruptions { do_not_disturb, ..device.clone() }))
            .collect();
        Self { device, by_account }
    }

    fn of(&self, account: AccountId) -> &Interruptions {
        self.by_account.get(&account).unwrap_or(&self.device)
    }

    fn of_mut(&mut self, account: AccountId) -> &mut Interruptions {
        self.by_account.entry(account).or_insert_with(|| self.device.clone())
    }
}

/// The toasts known by id, and clicks on toasts not known yet: the daemon can report a click
/// before the agent has its answer to the Notify call that made the toast. Another app's clicks
/// land there too, and are dropped as newer ones come.
#[derive(Default)]
struct Clicks {
    known: std::collections::VecDeque<(u32, Toast)>,
    early: std::collections::VecDeque<(u32, String)>,
}

impl Clicks {
    /// What a click on `key` of a known toast asks for.
    fn clicked(&self, toast_id: u32, key: &str) -> Option<Click> {
        let (_, toast) = self.known.iter().find(|(id, _)| *id == toast_id)?;
        let close = toast.resident;
        if key == "default" {
            let command = Command::Open(OpenWindow::Inbox { show: toast.notification_id });
            return Some(Click::Command { command, close });
        }
        let button = toast.buttons.iter().find(|b| b.key == key)?;
        Some(match &button.does {
            Press::Act(action) => Click::Command { command: Command::Act(action.clone()), close },
            // Through the agent, as a snooze from the quick panel: the panel hides it too.
            Press::Snooze(after) => match &toast.slot {
                Slot::Live(event_id) => Click::Command {
                    command: Command::SnoozeLive { event_id: event_id.clone(), after: *after },
                    close: false,
                },
                _ => return None,
            },
            Press::Reply(id) => {
                Click::Command { command: Command::Open(OpenWindow::Panel { at: None, reply_to: Some(*id) }), close }
            }
        })
    }
}

/// What a click on a toast asks for.
#[derive(Debug)]
enum Click {
    /// For the agent to do; `close`: the toast stays until closed (a reminder), so close it.
    Command { command: Command, close: bool },
}

/// The toasts on screen, by notification: what closing a read or deleted one needs.
#[derive(Clone)]
struct Shown {
    /// Where clicks go.
    commands: mpsc::UnboundedSender<Command>,
    /// None: no notification service (toasts are not shown).
    daemon: Option<NotificationDaemon>,
    /// Whether toasts play a sound (settings).
    device: watch::Receiver<DeviceSettings>,
    /// Live events the user answered here: a snoozed toast of one does not come back.
    answered: Arc<Mutex<std::collections::VecDeque<String>>>,
    by_notification: Arc<Mutex<HashMap<i64, u32>>>,
    /// By toast id, in the order shown.
    /// The toasts known by id (in the order shown) and the clicks that came before their toast
    /// was known, under one lock so a click never falls between the two.
    clicks: Arc<Mutex<Clicks>>,

    /// The toast showing each tag, and the running burst summary: what a new toast replaces.
    /// The number counts how often the slot was filled, so a delayed close can tell it was
    /// filled again meanwhile.
    by_slot: Arc<Mutex<HashMap<Slot, (u32, u64)>>>,
    /// The agent is stopping: nothing more goes to the notification service.
    stopped: Arc<AtomicBool>,
}

/// A tagged notification replaces its predecessor on the hub as a delete and a create, which
/// may arrive a moment apart: the predecessor's toast waits this long for its successor (then it
/// is updated in place) before it closes.
const SUCCESSOR_GRACE: std::time::Duration = std::time::Duration::from_millis(750);

impl Shown {
    fn new(
        commands: mpsc::UnboundedSender<Command>,
        daemon: Option<NotificationDaemon>,
        device: watch::Receiver<DeviceSettings>,
    ) -> Self {
        Self {
            commands,
            daemon,
            device,
            by_notification: Default::default(),
            clicks: Default::default(),
            answered: Default::default(),
            by_slot: Default::default(),
            stopped: Default::default(),
        }
    }

    /// The notification service, while the agent is not stopping.
    fn daemon(&self) -> Option<&NotificationDaemon> {
        self.daemon.as_ref().filter(|_| !self.stopped.load(Ordering::SeqCst))
    }

    fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The toast `slot` takes the place of, if it is still on screen.
    fn replaces(&self, slot: &Slot) -> Option<u32> {
        if *slot == Slot::Own {
            return None;
        }
        self.by_slot.lock().unwrap_or_else(|p| p.into_inner()).get(slot).map(|(id, _)| *id)
    }

    fn hold(&self, slot: &Slot, toast_id: u32) {
        if *slot != Slot::Own {
            let mut map = self.by_slot.lock().unwrap_or_else(|p| p.into_inner());
            let filled = map.get(slot).map_or(0, |(_, filled)| filled + 1);
            map.insert(slot.clone(), (toast_id, filled));
        }
    }

    fn release(&self, slot: &Slot, toast_id: u32) {
        let mut map = self.by_slot.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(slot).is_some_and(|(id, _)| *id == toast_id) {
            map.remove(slot);
        }
    }

    /// The slot a toast fills, and how often it had been filled then.
    fn slot_of(&self, toast_id: u32) -> Option<(Slot, u64)> {
        let map = self.by_slot.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().find(|(_, (id, _))| *id == toast_id).map(|(slot, (_, filled))| (slot.clone(), *filled))
    }

    /// Remembers what clicking toast `toast_id` does (a toast updated in place keeps its id);
    /// returns what clicks on it that came early ask for.
    fn track(&self, toast_id: u32, toast: Toast) -> Vec<Click> {
        let mut clicks = self.clicks.lock().unwrap_or_else(|p| p.into_inner());
        clicks.known.retain(|(id, _)| *id != toast_id);
        clicks.known.push_back((toast_id, toast));
        while clicks.known.len() > MAX_REMEMBERED {
            clicks.known.pop_front();
        }
        let (mine, others): (Vec<_>, Vec<_>) = clicks.early.drain(..).partition(|(id, _)| *id == toast_id);
        clicks.early = others.into();
        mine.iter().filter_map(|(_, key)| clicks.clicked(toast_id, key)).collect()
    }

    /// A click on `key` of toast `toast_id`: what it asks for. None for a key the toast does
    /// not have, or a toast not known (yet: kept for when it is).
    fn click(&self, toast_id: u32, key: &str) -> Option<Click> {
        let mut clicks = self.clicks.lock().unwrap_or_else(|p| p.into_inner());
        if !clicks.known.iter().any(|(id, _)| *id == toast_id) {
            clicks.early.push_back((toast_id, key.to_owned()));
            while clicks.early.len() > MAX_EARLY_CLICKS {
                clicks.early.pop_front();
            }
            return None;
        }
        clicks.clicked(toast_id, key)
    }

    /// Carries out a click on toast `toast_id`.
    fn carry_out(&self, toast_id: u32, click: Click) {
        let Click::Command { command, close } = click;
        self.send(command);
        if close {
            self.take_down(toast_id);
        }
    }

    /// Closes toast `toast_id` and forgets it.
    fn take_down(&self, toast_id: u32) {
        self.closed(toast_id);
        let shown = self.clone();
        tokio::spawn(async move { shown.close_toast(toast_id).await });
    }

    /// Takes live event `event_id`'s toast off the screen, if it is on it (a snooze).
    fn take_down_live(&self, event_id: &str) {
        if let Some(toast_id) = self.replaces(&Slot::Live(event_id.to_owned())) {
            tracing::info!(toast_id, "toast snoozed");
            self.take_down(toast_id);
        }
    }

    /// The daemon closed toast `toast_id` (dismissed, expired or clicked): forget it.
    fn closed(&self, toast_id: u32) {
        let gone = {
            let mut clicks = self.clicks.lock().unwrap_or_else(|p| p.into_inner());
            let at = clicks.known.iter().position(|(id, _)| *id == toast_id);
            at.and_then(|at| clicks.known.remove(at)).map(|(_, toast)| toast)
        };
        if let Some(toast) = gone {
            if let Some(id) = toast.notification_id {
                self.forget(id, toast_id);
            }
            self.release(&toast.slot, toast_id);
        }
    }

    fn remember(&self, notification_id: i64, toast_id: u32) {
        self.by_notification.lock().unwrap_or_else(|p| p.into_inner()).insert(notification_id, toast_id);
    }

    fn forget(&self, notification_id: i64, toast_id: u32) {
        let mut map = self.by_notification.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&notification_id) == Some(&toast_id) {
            map.remove(&notification_id);
        }
    }

    /// Closes the notification's toast; a tagged one only if no successor takes its place within
    /// [`SUCCESSOR_GRACE`].
    async fn close(&self, notification_id: i64) {
        let Some(toast_id) = self.by_notification.lock().unwrap_or_else(|p| p.into_inner()).remove(&notification_id)
        else {
            return;
        };
        if let Some((slot, filled)) = self.slot_of(toast_id) {
            let shown = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SUCCESSOR_GRACE).await;
                let still =
                    shown.by_slot.lock().unwrap_or_else(|p| p.into_inner()).get(&slot) == Some(&(toast_id, filled));
                if still {
                    shown.release(&slot, toast_id);
                    shown.close_toast(toast_id).await;
                }
            });
            return;
        }
        self.close_toast(toast_id).await;
    }

    /// Live event `event_id` was answered here: its toast closes and does not come back.
    async fn answered(&self, event_id: &str) {
        {
            let mut answered = self.answered.lock().unwrap_or_else(|p| p.into_inner());
            answered.push_back(event_id.to_owned());
            while answered.len() > MAX_REMEMBERED {
                answered.pop_front();
            }
        }
        let slot = Slot::Live(event_id.to_owned());
        if let Some(toast_id) = self.replaces(&slot) {
            self.closed(toast_id);
            self.release(&slot, toast_id);
            self.close_toast(toast_id).await;
        }
    }

    fn was_answered(&self, slot: &Slot) -> bool {
        let Slot::Live(event_id) = slot else { return false };
        self.answered.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|id| id == event_id)
    }

    /// Takes toast `toast_id` off the screen.
    async fn close_toast(&self, toast_id: u32) {
        if let Some(daemon) = self.daemon() {
            if let Err(e) = daemon.close(toast_id).await {
                tracing::debug!(error = %e, toast_id, "could not close a toast");
            }
        }
    }
}

/// Hears every click on and every close of a toast: a click is done here by the agent, as if in
/// the inbox (queued if offline), with no window open.
async fn hear_clicks(mut signals: Signals, shown: Shown) {
    while let Some(signal) = signals.next().await {
        match signal {
            Signal::Clicked { toast_id, key } => {
                if let Some(click) = shown.click(toast_id, &key) {
                    tracing::info!(toast_id, key = %key, "toast clicked");
                    shown.carry_out(toast_id, click);
                }
            }
            Signal::Closed { toast_id } => shown.closed(toast_id),
        }
    }
    tracing::warn!("the notification service is gone: toast clicks are no longer heard");
}

async fn show(toast: Toast, shown: &Shown) {
    let Some(daemon) = shown.daemon() else { return };
    // Updated in place (freedesktop replaces_id): a new PO-42 toast, a summary counting up.
    let replaces = shown.replaces(&toast.slot);
    let sound = shown.device.borrow().sound;
    match daemon.show(&toast, replaces, sound).await {
        Ok(toast_id) => {
            tracing::debug!(id = toast_id, notification = ?toast.notification_id, "toast shown");
            if let Some(id) = toast.notification_id {
                shown.remember(id, toast_id);
            }
            shown.hold(&toast.slot, toast_id);
            for click in shown.track(toast_id, toast) {
                tracing::info!(toast_id, "toast clicked before it was known");
                shown.carry_out(toast_id, click);
            }
        }
        // No notification daemon: the tray and inbox still carry the news.
        Err(e) => tracing::warn!(error = %e, "cannot show a toast"),
    }
}

#[cfg(test)]
mod tests {
    use herald_client::outbox::Action;
    use herald_client::toast::ToastButton;

    use super::*;

    fn toast(notification_id: Option<i64>, buttons: Vec<ToastButton>, resident: bool) -> Toast {
        Toast {
            summary: "s".into(),
            body: String::new(),
            notification_id,
            critical: false,
            slot: Slot::Own,
            buttons,
            refresh_at: None,
            resident,
        }
    }

    fn button(key: &str, does: Press) -> ToastButton {
        ToastButton { key: key.into(), label: key.into(), does }
    }

    #[test]
    fn a_click_is_done_even_when_it_comes_before_the_toast_is_known() {
        let (commands, _received) = mpsc::unbounded_channel();
        let shown = Shown::new(commands, None, watch::channel(DeviceSettings::default()).1);
        let read = Press::Act(Action::MarkRead { ids: vec![3], read: true });
        assert!(shown.click(7, "read").is_none(), "not known yet: kept");
        let early = shown.track(7, toast(Some(3), vec![button("read", read)], false));
        assert!(
            matches!(&early[..], [Click::Command { command: Command::Act(Action::MarkRead { ids, read: true }), close: false }] if ids == &[3]),
            "done once known: {early:?}"
        );
        assert!(matches!(
            shown.click(7, "default"),
            Some(Click::Command { command: Command::Open(OpenWindow::Inbox { show: Some(3) }), .. })
        ));
        assert!(shown.click(7, "confirm:Y").is_none(), "a button it does not have");
        shown.closed(7);
        assert!(shown.click(7, "read").is_none(), "closed: forgotten");
        assert!(shown.track(8, toast(None, vec![], false)).is_empty());
        assert!(matches!(
            shown.click(8, "default"),
            Some(Click::Command { command: Command::Open(OpenWindow::Inbox { show: None }), .. })
        ));
    }

    #[test]
    fn a_reminder_snoozes_through_the_agent_and_closes_once_done() {
        let (commands, _received) = mpsc::unbounded_channel();
        let shown = Shown::new(commands, None, watch::channel(DeviceSettings::default()).1);
        let done = Press::Act(Action::RespondToEvent { event_id: "e".into(), action: "done".into() });
        let snooze = Press::Snooze(jiff::SignedDuration::from_mins(5));
        let reminder = Toast {
            slot: Slot::Live("e".into()),
            ..toast(None, vec![button("respond:done", done), button("snooze:5", snooze)], true)
        };
        shown.track(4, reminder.clone());
        match shown.click(4, "snooze:5") {
            Some(Click::Command { command: Command::SnoozeLive { event_id, after }, close: false }) => {
                assert_eq!(event_id, "e");
                assert_eq!(after, jiff::SignedDuration::from_mins(5));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(shown.click(4, "respond:done"), Some(Click::Command { close: true, .. })),
            "resident: closed by the agent"
        );
    }

    #[tokio::test]
    async fn a_reminder_answered_here_while_snoozed_does_not_come_back() {
        let (commands, _received) = mpsc::unbounded_channel();
        let shown = Shown::new(commands, None, watch::channel(DeviceSettings::default()).1);
        let slot = Slot::Live("r2".into());
        assert!(!shown.was_answered(&slot));
        shown.answered("r2").await;
        assert!(shown.was_answered(&slot), "the snooze's end finds it answered");
        assert!(!shown.was_answered(&Slot::Live("r3".into())));
    }
}
