//! Folds sync events into the tray's [`Status`] and tells open windows what changed.

use std::collections::BTreeMap;

use herald_client::ipc::Event;
use herald_client::mirror::Query;
use herald_client::mirror::{AccountId, SharedMirror};
use herald_client::status::{combined_connection, combined_dnd_until, Status, Unread, LATEST_IN_MENU};
use herald_client::sync::{ConnectionState, SyncEvent};
use tokio::sync::{broadcast, watch};

/// `accounts`: the name of each account whose engine runs, for the tray's words; it changes when
/// accounts are added or removed.
pub async fn run(
    mut sync: broadcast::Receiver<SyncEvent>,
    mirror: SharedMirror,
    mut accounts: watch::Receiver<BTreeMap<AccountId, String>>,
    status: watch::Sender<Status>,
    windows: broadcast::Sender<Event>,
) {
    refresh_unread(&mirror, &status, &windows).await;
    let mut dnd: BTreeMap<AccountId, Option<String>> = match mirror.call(|m| m.each_do_not_disturb()).await {
        Ok(each) => each.into_iter().map(|(account, settings)| (account, settings.dnd_until)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read do-not-disturb");
            BTreeMap::new()
        }
    };
    show_dnd(&dnd, &status);
    let mut names = accounts.borrow_and_update().clone();
    let mut links: BTreeMap<AccountId, ConnectionState> =
        names.keys().map(|&account| (account, ConnectionState::Connecting)).collect();
    let mut progress: BTreeMap<AccountId, (i64, i64)> = BTreeMap::new();
    loop {
        // When do-not-disturb ends, the tray says so (one wake-up then, no polling).
        let dnd_ends = status.borrow().dnd_until.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok());
        // A snoozed reminder's time (one wake-up then).
        let snooze_ends = status.borrow().next_wake();
        let event = tokio::select! {
            event = sync.recv() => event,
            _ = until(dnd_ends) => {
                show_dnd(&dnd, &status);
                continue;
            }
            _ = until(snooze_ends) => {
                if status.send_if_modified(|s| s.wake_snoozed(jiff::Timestamp::now())) {
                    show_live(&status, &windows);
                }
                continue;
            }
            changed = accounts.changed() => {
                if changed.is_err() {
                    return;
                }
                // A removed account's link no longer counts; a new one starts as connecting.
                names = accounts.borrow_and_update().clone();
                links.retain(|id, _| names.contains_key(id));
                progress.retain(|id, _| names.contains_key(id));
                dnd.retain(|id, _| names.contains_key(id));
                show_dnd(&dnd, &status);
                for id in names.keys() {
                    links.entry(*id).or_insert(ConnectionState::Connecting);
                }
                show_connection(&links, &names, &status, &windows);
                refresh_unread(&mirror, &status, &windows).await;
                continue;
            }
        };
        match event {
            // A stopped engine's last words do not bring its account back.
            Ok(SyncEvent::Connection { account, state }) if names.contains_key(&account) => {
                links.insert(account, state);
                show_connection(&links, &names, &status, &windows);
            }
            Ok(SyncEvent::Connection { .. }) => {}
            Ok(SyncEvent::MirrorChanged { .. }) => refresh_unread(&mirror, &status, &windows).await,
            Ok(SyncEvent::Progress { account, done, total }) => {
                // Accounts catching up together show as one: "2,000 of 30,000" over all of them.
                progress.insert(account, (done, total));
                let (done, total) = progress.values().fold((0, 0), |(d, t), (done, total)| (d + done, t + total));
                if done == total {
                    progress.clear();
                }
                let _ = windows.send(Event::SyncProgress { done, total });
            }
            Ok(SyncEvent::Live { event, .. }) => {
                status.send_modify(|s| s.add_live(event, jiff::Timestamp::now()));
                show_live(&status, &windows);
            }
            Ok(SyncEvent::DoNotDisturb { account, settings }) => {
                dnd.insert(account, settings.dnd_until);
                show_dnd(&dnd, &status);
            }
            // Answered here: windows stop listing it.
            Ok(SyncEvent::LiveAnswered { event_id }) => {
                status.send_modify(|s| s.answered_live(&event_id));
                show_live(&status, &windows);
            }
            // Snoozed here: windows list it again when it is due.
            Ok(SyncEvent::LiveSnoozed { event_id, until }) => {
                if status.send_if_modified(|s| s.snooze_live(&event_id, until)) {
                    show_live(&status, &windows);
                }
            }
            Ok(SyncEvent::OutboxFlushed { .. } | SyncEvent::ActionRejected { .. }) => {}
            // Missed some events: the mirror is the truth, so re-read it.
            Err(broadcast::error::RecvError::Lagged(_)) => refresh_unread(&mirror, &status, &windows).await,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn show_live(status: &watch::Sender<Status>, windows: &broadcast::Sender<Event>) {
    let events = status.borrow().live.clone();
    let _ = windows.send(Event::LiveEvents { events });
}

/// The tray's and the windows' one link state over every account.
fn show_connection(
    links: &BTreeMap<AccountId, ConnectionState>,
    names: &BTreeMap<AccountId, String>,
    status: &watch::Sender<Status>,
    windows: &broadcast::Sender<Event>,
) {
    let connection =
        combined_connection(links.iter().map(|(id, state)| (names.get(id).map_or("?", String::as_str), state)));
    if status.borrow().connection != connection {
        status.send_modify(|s| s.connection = connection.clone());
        let _ = windows.send(Event::Connection { connection });
    }
}

/// Resolves at `at` (at once if it is past); never, if None.
pub(crate) async fn until(at: Option<jiff::Timestamp>) {
    match at {
        Some(at) => {
            let wait = at.duration_since(jiff::Timestamp::now()).max(jiff::SignedDuration::ZERO);
            tokio::time::sleep(wait.unsigned_abs()).await;
        }
        None => std::future::pending().await,
    }
}

/// The tray's do-not-disturb out of every account's.
fn show_dnd(dnd: &BTreeMap<AccountId, Option<String>>, status: &watch::Sender<Status>) {
    let until = combined_dnd_until(dnd.values().map(Option::as_deref), jiff::Timestamp::now());
    status.send_if_modified(|s| {
        let changed = s.dnd_until != until;
        s.dnd_until = until;
        changed
    });
}

/// Re-reads the unread count and the newest unread after the mirror changed, and tells the
/// windows.
pub async fn refresh_unread(mirror: &SharedMirror, status: &watch::Sender<Status>, windows: &broadcast::Sender<Event>) {
    let read = mirror
        .call(|m| {
            let newest = Query { unread: Some(true), limit: LATEST_IN_MENU, ..Query::default() };
            let latest = m.search(&newest)?.into_iter().map(|n| Unread { id: n.id, subject: n.subject }).collect();
            Ok((m.unread_count()?, latest))
        })
        .await;
    match read {
        Ok((unread, latest_unread)) => {
            status.send_modify(|s| {
                s.unread = unread;
                s.latest_unread = latest_unread;
            });
            let _ = windows.send(Event::InboxChanged { unread });
        }
        Err(e) => tracing::error!(error = %e, "cannot read the unread count"),
    }
}
