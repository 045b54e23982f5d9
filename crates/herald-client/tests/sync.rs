//! The sync engine against a real hub on 127.0.0.1: catch-up, live changes, a hub that goes away
//! mid-sync and comes back, and an action taken offline reaching the hub exactly once.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use herald_client::mirror::{Mirror, SharedMirror};
use herald_client::outbox::Action;
use herald_client::sync::network::NetworkWatch;
use herald_client::sync::{ConnectionState, SyncEngine, SyncEvent};
use herald_hub::store::NewNotification;
use herald_hub::Store;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;

struct RunningHub {
    store: Store,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start_hub(data: &Path, addr: SocketAddr) -> RunningHub {
    let store = Store::open(data).unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(herald_hub::run(listener, store.clone(), async move {
        let _ = stopped.await;
    }));
    RunningHub { store, stop, task }
}

impl RunningHub {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }

    async fn notify(&self, user: i64, subject: &str) -> i64 {
        let new = NewNotification::new(subject);
        self.store.deliver(vec![user], new).await.unwrap()[0].id
    }
}

/// Waits for the first event `pick` accepts, failing after 20 s instead of hanging.
async fn wait_for<T>(events: &mut broadcast::Receiver<SyncEvent>, mut pick: impl FnMut(SyncEvent) -> Option<T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let event = events.recv().await.unwrap();
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
    .expect("the expected sync event never came")
}

/// A sync engine for `token` at the hub on `addr`: its events, its stop switch and its task.
fn start_engine(
    addr: SocketAddr,
    token: Option<String>,
    mirror: SharedMirror,
) -> (broadcast::Receiver<SyncEvent>, watch::Sender<bool>, JoinHandle<()>) {
    start_engine_watching(addr, token, mirror, None)
}

/// [`start_engine`], watching `network` for changes if given.
fn start_engine_watching(
    addr: SocketAddr,
    token: Option<String>,
    mirror: SharedMirror,
    network: Option<NetworkWatch>,
) -> (broadcast::Receiver<SyncEvent>, watch::Sender<bool>, JoinHandle<()>) {
    let (events_tx, events) = broadcast::channel(1024);
    let mut engine = SyncEngine::new(Some(format!("http://{addr}").parse().unwrap()), token, mirror, events_tx);
    if let Some(network) = network {
        engine = engine.watching(network);
    }
    let (stop, stopped) = watch::channel(false);
    (events, stop, tokio::spawn(engine.run(stopped)))
}

fn online(event: SyncEvent) -> Option<()> {
    matches!(event, SyncEvent::Connection { state: ConnectionState::Online, .. }).then_some(())
}

#[tokio::test]
async fn catches_up_streams_live_survives_a_hub_restart_and_sends_offline_actions_once() {
    let hub_dir = tempfile::tempdir().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hub = start_hub(hub_dir.path(), port).await;
    let (bob, token) = hub.store.add_user("bob").await.unwrap();
    let history = hub.notify(bob.id, "from before the app was installed").await;

    let mirror_path = app_dir.path().join("mirror.sqlite3");
    let mirror = SharedMirror::new(Mirror::open(&mirror_path).unwrap());
    let (events_tx, mut events) = broadcast::channel(64);
    let engine =
        SyncEngine::new(Some(format!("http://{port}").parse().unwrap()), Some(token), mirror.clone(), events_tx);
    let outbox_ready = engine.outbox_ready();
    let (stop_tx, stop_rx) = watch::channel(false);
    let sync = tokio::spawn(engine.run(stop_rx));

    // First catch-up: history arrives, flagged so it raises no toasts.
    let (created, backfill) = wait_for(&mut events, |e| match e {
        SyncEvent::MirrorChanged { applied, backfill, .. } => Some((applied.created, backfill)),
        _ => None,
    })
    .await;
    assert_eq!(created.iter().map(|n| n.id).collect::<Vec<_>>(), [history]);
    assert!(backfill);
    wait_for(&mut events, online).await;

    // Live.
    let live = hub.notify(bob.id, "live").await;
    let (created, backfill) = wait_for(&mut events, |e| match e {
        SyncEvent::MirrorChanged { applied, backfill, .. } => Some((applied.created, backfill)),
        _ => None,
    })
    .await;
    assert_eq!(created.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["live"]);
    assert!(!backfill, "a live notification is news");

    // The hub goes away mid-sync.
    hub.stop().await;
    let reason = wait_for(&mut events, |e| match e {
        SyncEvent::Connection { state: ConnectionState::Offline { reason, retry_in_ms: Some(_) }, .. } => Some(reason),
        _ => None,
    })
    .await;
    assert!(!reason.is_empty());

    // Offline, the user reads the live one: it shows at once and waits in the outbox.
    mirror.call(move |m| m.record_action(&Action::MarkRead { ids: vec![live], read: true })).await.unwrap();
    outbox_ready.notify_one();
    assert!(mirror.call(move |m| Ok(m.get(live)?.unwrap().read)).await.unwrap());

    // The hub comes back on the same address; something new was sent meanwhile.
    let hub = start_hub(hub_dir.path(), port).await;
    let after = hub.notify(bob.id, "sent while the app was offline").await;
    let created = wait_for(&mut events, |e| match e {
        SyncEvent::MirrorChanged { applied, backfill: false, .. } if !applied.created.is_empty() => {
            Some(applied.created)
        }
        _ => None,
    })
    .await;
    assert_eq!(created.iter().map(|n| n.id).collect::<Vec<_>>(), [after]);
    wait_for(&mut events, online).await;

    // The offline action reached the hub; its echo through the feed changes nothing locally.
    let sent = wait_for(&mut events, |e| match e {
        SyncEvent::OutboxFlushed { sent } => Some(sent),
        _ => None,
    })
    .await;
    assert_eq!(sent, 1);
    let (page, _) = hub.store.list(bob.id, None, 10).await.unwrap();
    assert!(page.iter().any(|n| n.id == live && n.read), "the hub has the offline read");
    assert!(
        mirror.call(|m| m.pending_actions(1, 10)).await.unwrap().is_empty(),
        "acknowledged actions leave the outbox"
    );

    // No duplicates, no gaps.
    let ids: Vec<i64> = mirror.call(|m| m.list(None, 100)).await.unwrap().iter().map(|n| n.id).collect();
    assert_eq!(ids, [after, live, history]);
    let (hub_page, _) = hub.store.list(bob.id, None, 100).await.unwrap();
    assert_eq!(hub_page.iter().map(|n| n.id).collect::<Vec<_>>(), ids);

    stop_tx.send(true).unwrap();
    sync.await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn a_rejected_token_is_reported_and_not_hammered() {
    let hub_dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hub = start_hub(hub_dir.path(), addr).await;
    let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
    let (mut events, stop_tx, sync) = start_engine(addr, Some("hrld_wrong".into()), mirror);
    let (reason, retry) = wait_for(&mut events, |e| match e {
        SyncEvent::Connection { state: ConnectionState::Offline { reason, retry_in_ms }, .. } => {
            Some((reason, retry_in_ms))
        }
        _ => None,
    })
    .await;
    assert!(reason.contains("token"), "{reason}");
    assert_eq!(retry, Some(60_000), "a bad token is retried at the slowest pace");
    stop_tx.send(true).unwrap();
    sync.await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn a_hub_that_was_reset_is_synced_again_from_the_start() {
    let old_hub_dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
    // Sync a few notifications from the first hub, so the cursor is well past 1.
    let old = start_hub(old_hub_dir.path(), addr).await;
    let (bob, token) = old.store.add_user("bob").await.unwrap();
    for i in 0..3 {
        old.notify(bob.id, &format!("old {i}")).await;
    }
    let (mut events, stop_tx, sync) = start_engine(addr, Some(token), mirror.clone());
    wait_for(&mut events, online).await;
    assert_eq!(mirror.call(|m| m.cursor(1)).await.unwrap(), 3);
    old.stop().await;

    // The hub comes back from a backup taken before those notifications: same user and token,
    // empty log. The cursor is ahead of it, so the client must start over rather than wait for
    // seq 4 forever.
    let restored = rusqlite::Connection::open(old_hub_dir.path().join("hub.sqlite3")).unwrap();
    restored.execute_batch("DELETE FROM changes; DELETE FROM notifications; DELETE FROM sqlite_sequence;").unwrap();
    drop(restored);
    let new = start_hub(old_hub_dir.path(), addr).await;
    new.notify(bob.id, "after the reset").await;
    let subjects = wait_for(&mut events, |e| match e {
        SyncEvent::MirrorChanged { applied, .. } if !applied.created.is_empty() => Some(applied.created),
        _ => None,
    })
    .await;
    assert_eq!(subjects.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["after the reset"]);
    let listed: Vec<String> = mirror.call(|m| m.list(None, 10)).await.unwrap().into_iter().map(|n| n.subject).collect();
    assert_eq!(listed, ["after the reset"], "nothing from the old hub lingers");

    stop_tx.send(true).unwrap();
    sync.await.unwrap();
    new.stop().await;
}

#[tokio::test]
async fn a_mirror_switched_to_another_user_shows_only_that_users_inbox() {
    let hub_dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hub = start_hub(hub_dir.path(), addr).await;
    let (bob, bob_token) = hub.store.add_user("bob").await.unwrap();
    let (alice, alice_token) = hub.store.add_user("alice").await.unwrap();
    hub.notify(bob.id, "for bob").await;
    hub.notify(alice.id, "for alice").await;
    let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());

    for (token, expected) in [(bob_token, "for bob"), (alice_token, "for alice")] {
        let (mut events, stop_tx, sync) = start_engine(addr, Some(token), mirror.clone());
        wait_for(&mut events, online).await;
        let listed: Vec<String> =
            mirror.call(|m| m.list(None, 10)).await.unwrap().into_iter().map(|n| n.subject).collect();
        assert_eq!(listed, [expected], "one account's inbox never mixes with another's");
        stop_tx.send(true).unwrap();
        sync.await.unwrap();
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_client_offline_longer_than_the_journal_is_kept_gets_the_inbox_as_it_is_and_keeps_its_actions() {
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
    let hub = start_hub(dir.path(), addr).await;
    let (bob, token) = hub.store.add_user("bob").await.unwrap();
    let kept = hub.notify(bob.id, "kept").await;
    let doomed = hub.notify(bob.id, "deleted while offline").await;

    let (mut events, stop_tx, sync) = start_engine(addr, Some(token.clone()), mirror.clone());
    wait_for(&mut events, online).await;
    stop_tx.send(true).unwrap();
    sync.await.unwrap();

    // Offline: the user reads `kept` (queued), the hub deletes one and adds one, then trims
    // every journal entry, including those the client never saw.
    mirror.call(move |m| m.record_action(&Action::MarkRead { ids: vec![kept], read: true })).await.unwrap();
    hub.store.delete(bob.id, vec![doomed]).await.unwrap();
    hub.notify(bob.id, "new while offline").await;
    hub.store.trim_journal("9999-01-01T00:00:00.000Z".into()).await.unwrap();

    let (mut events, stop_tx, sync) = start_engine(addr, Some(token), mirror.clone());
    // The snapshot is history: it raises no toasts.
    let backfills = wait_for(&mut events, |e| match e {
        SyncEvent::MirrorChanged { applied, backfill, .. } if !applied.created.is_empty() => Some(backfill),
        _ => None,
    })
    .await;
    assert!(backfills, "a snapshot is not news");
    // The queued read is sent, and the hub echoes it back through the feed (in either order).
    let (mut flushed, mut echoed) = (false, false);
    wait_for(&mut events, |e| {
        flushed |= matches!(e, SyncEvent::OutboxFlushed { .. });
        echoed |= matches!(&e, SyncEvent::MirrorChanged { applied, backfill: false, .. } if applied.read_changed);
        (flushed && echoed).then_some(())
    })
    .await;
    let listed: Vec<(String, bool)> =
        mirror.call(|m| m.list(None, 10)).await.unwrap().into_iter().map(|n| (n.subject, n.read)).collect();
    // Deleted is gone, new is there, and the read made offline holds (sent, and echoed back).
    assert_eq!(listed, [("new while offline".to_string(), false), ("kept".to_string(), true)]);
    let (on_hub, _) = hub.store.list(bob.id, None, 10).await.unwrap();
    assert!(on_hub.iter().find(|n| n.id == kept).unwrap().read, "the action queued offline still reached the hub");

    stop_tx.send(true).unwrap();
    sync.await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn a_caught_up_inbox_becomes_searchable_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hub = start_hub(dir.path(), addr).await;
    let (bob, token) = hub.store.add_user("bob").await.unwrap();
    let many: Vec<NewNotification> = (0..1_200)
        .map(|i| NewNotification {
            body: format!("Invoice INV-{i} was paid"),
            ..NewNotification::new("Payment received")
        })
        .collect();
    for new in many {
        hub.store.deliver(vec![bob.id], new).await.unwrap();
    }
    let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
    let (mut events, stop_tx, sync) = start_engine(addr, Some(token), mirror.clone());
    wait_for(&mut events, online).await;
    assert_eq!(mirror.call(|m| m.unread_count()).await.unwrap(), 1_200, "visible as soon as caught up");

    // The indexer has no event of its own; wait for its work to be done (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while mirror.call(|m| m.unindexed()).await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the search index never caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let query = herald_client::mirror::Query { text: Some("inv-1199".into()), limit: 10, ..Default::default() };
    let found = mirror.call(move |m| m.search(&query)).await.unwrap();
    assert_eq!(found.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(), ["Invoice INV-1199 was paid"]);

    stop_tx.send(true).unwrap();
    sync.await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn a_client_stopped_mid_catch_up_leaves_a_consistent_mirror_that_finishes_later() {
    let hub_dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hub = start_hub(hub_dir.path(), port).await;
    let (bob, token) = hub.store.add_user("bob").await.unwrap();
    const BACKLOG: usize = 20_000;
    // Sent concurrently, so the hub's writer commits them in groups (quick to set up).
    for chunk in 0..BACKLOG / 1_000 {
        let sends = (0..1_000)
            .map(|i| hub.store.deliver(vec![bob.id], NewNotification::new(format!("n{}", chunk * 1_000 + i))));
        for sent in futures_util::future::join_all(sends).await {
            sent.unwrap();
        }
    }
    let mirror = SharedMirror::new(Mirror::open(&hub_dir.path().join("mirror.sqlite3")).unwrap());
    let (mut events, _stop_tx, sync) = start_engine(port, Some(token.clone()), mirror.clone());

    // The first batch is in: the client dies (its task is dropped) while the rest is coming.
    wait_for(&mut events, |e| matches!(e, SyncEvent::MirrorChanged { .. }).then_some(())).await;
    sync.abort();
    let _ = sync.await;
    let (cursor, rows) = mirror.call(|m| Ok((m.cursor(1)?, m.unread_count()?))).await.unwrap();
    // One `created` change per notification, seqs 1..: the rows and the cursor tell the same story.
    assert_eq!(rows as i64, cursor, "every applied batch came with its cursor, and nothing else");
    assert!(rows > 0 && (rows as usize) < BACKLOG, "stopped part way: {rows}");

    // Started again, it goes on from its cursor.
    let (mut events, stop_tx, sync) = start_engine(port, Some(token), mirror.clone());
    // Progress is reported as "x of y" for what is left, up to all of it.
    let (first, total) = wait_for(&mut events, |e| match e {
        SyncEvent::Progress { done, total, .. } => Some((done, total)),
        _ => None,
    })
    .await;
    assert_eq!((first, total), (0, BACKLOG as i64 - rows as i64));
    let last = wait_for(&mut events, |e| match e {
        SyncEvent::Progress { done, total, .. } if done == total => Some(done),
        _ => None,
    })
    .await;
    assert_eq!(last, total);
    wait_for(&mut events, online).await;
    let (cursor, rows) = mirror.call(|m| Ok((m.cursor(1)?, m.unread_count()?))).await.unwrap();
    assert_eq!((cursor, rows as usize), (BACKLOG as i64, BACKLOG), "finished from where it stopped, nothing twice");
    let mine: Vec<i64> = mirror.call(|m| m.list(None, 5)).await.unwrap().iter().map(|n| n.id).collect();
    let hubs: Vec<i64> = hub.store.list(bob.id, None, 5).await.unwrap().0.iter().map(|n| n.id).collect();
    assert_eq!(mine, hubs, "the same newest notifications as the hub");

    stop_tx.send(true).unwrap();
    sync.await.unwrap();
    hub.stop().await;
}

/// Network changes, heard through Linux's netlink socket in a network namespace of the test's own.
#[cfg(target_os = "linux")]
mod network_change {
    use super::*;

    /// A network namespace of the test's own (`ip netns`, as root), so that its changes touch no real
    /// network; the engine under test watches it instead of the machine's.
    struct Namespace(String);

    impl Namespace {
        fn new(tag: &str) -> Self {
            let name = format!("herald-{tag}-{}", std::process::id());
            ip(&["netns", "add", &name]);
            Self(name)
        }

        /// A watch on this namespace's network: its socket is made by a thread moved into it.
        fn watch(&self) -> NetworkWatch {
            use std::os::fd::AsFd;
            let path = format!("/run/netns/{}", self.0);
            let socket = std::thread::spawn(move || {
                let namespace = std::fs::File::open(path)?;
                rustix::thread::move_into_thread_name_spaces(
                    namespace.as_fd(),
                    rustix::thread::ThreadNameSpaceType::NETWORK,
                )?;
                herald_client::sync::network::linux::socket()
            })
            .join()
            .unwrap()
            .unwrap();
            NetworkWatch::from_socket(socket).unwrap()
        }

        /// A network change: its loopback link comes up.
        fn change(&self) {
            ip(&["-n", &self.0, "link", "set", "lo", "up"]);
        }
    }

    impl Drop for Namespace {
        fn drop(&mut self) {
            let _ = std::process::Command::new("ip").args(["netns", "delete", &self.0]).status();
        }
    }

    fn ip(args: &[&str]) {
        let status = std::process::Command::new("ip").args(args).status().expect("iproute2's ip runs");
        assert!(status.success(), "ip {args:?}: {status}");
    }

    fn offline(event: SyncEvent) -> Option<(String, Option<u64>)> {
        match event {
            SyncEvent::Connection { state: ConnectionState::Offline { reason, retry_in_ms }, .. } => {
                Some((reason, retry_in_ms))
            }
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_network_change_cuts_the_wait_for_the_next_try_short() {
        let hub_dir = tempfile::tempdir().unwrap();
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let hub = start_hub(hub_dir.path(), addr).await;
        let namespace = Namespace::new("retry");
        let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
        // A refused token waits the longest, 60 s, before the next try.
        let (mut events, stop_tx, sync) =
            start_engine_watching(addr, Some("hrld_wrong".into()), mirror, Some(namespace.watch()));
        let (_, retry) = wait_for(&mut events, offline).await;
        assert_eq!(retry, Some(60_000));

        namespace.change();
        // wait_for gives up after 20 s: only the network change can bring the next try that soon.
        wait_for(&mut events, |e| {
            matches!(e, SyncEvent::Connection { state: ConnectionState::Connecting, .. }).then_some(())
        })
        .await;
        stop_tx.send(true).unwrap();
        sync.await.unwrap();
        hub.stop().await;
    }

    /// A TCP relay between the engine and the hub that can stop passing bytes without closing
    /// anything: a connection that died silently, as one does when the machine's address changes.
    struct Relay {
        addr: SocketAddr,
        frozen: watch::Sender<bool>,
    }

    async fn start_relay(to: SocketAddr) -> Relay {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (frozen, thawed) = watch::channel(false);
        async fn pipe(
            mut from: tokio::net::tcp::OwnedReadHalf,
            mut to: tokio::net::tcp::OwnedWriteHalf,
            mut frozen: watch::Receiver<bool>,
        ) {
            let mut buffer = vec![0; 16 * 1024];
            while let Ok(n @ 1..) = from.read(&mut buffer).await {
                if frozen.wait_for(|frozen| !*frozen).await.is_err() || to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(hub) = tokio::net::TcpStream::connect(to).await else { continue };
                let ((client_read, client_write), (hub_read, hub_write)) = (client.into_split(), hub.into_split());
                tokio::spawn(pipe(client_read, hub_write, thawed.clone()));
                tokio::spawn(pipe(hub_read, client_write, thawed.clone()));
            }
        });
        Relay { addr, frozen }
    }

    #[tokio::test]
    async fn a_feed_that_died_with_a_network_change_is_noticed_in_seconds_and_nothing_is_lost() {
        let hub_dir = tempfile::tempdir().unwrap();
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let hub = start_hub(hub_dir.path(), addr).await;
        let (bob, token) = hub.store.add_user("bob").await.unwrap();
        let relay = start_relay(addr).await;
        let namespace = Namespace::new("probe");
        let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
        let (mut events, stop_tx, sync) =
            start_engine_watching(relay.addr, Some(token), mirror.clone(), Some(namespace.watch()));
        wait_for(&mut events, online).await;

        relay.frozen.send(true).unwrap();
        let sent_meanwhile = hub.notify(bob.id, "sent while the link was dead").await;
        namespace.change();
        // The feed's own idle limit is 60 s; wait_for gives up after 20: the unanswered ping told.
        let (reason, _) = wait_for(&mut events, offline).await;
        assert_eq!(reason, "lost the connection to the hub");

        relay.frozen.send(false).unwrap();
        let arrived = wait_for(&mut events, |e| match e {
            SyncEvent::MirrorChanged { applied, .. } => {
                applied.created.iter().any(|n| n.id == sent_meanwhile).then_some(())
            }
            _ => None,
        });
        arrived.await;
        assert!(mirror.call(move |m| m.get(sent_meanwhile)).await.unwrap().is_some());
        stop_tx.send(true).unwrap();
        sync.await.unwrap();
        hub.stop().await;
    }
}
