//! Catch-up against a real hub process that dies: the agent is catching up a long log page by
//! page when the hub is killed (SIGKILL) and started again on the same address and data; the
//! agent reconnects by itself and finishes from its cursor, with every notification once.

use herald_client::ipc::Event;
use herald_client::sync::ConnectionState;
use herald_e2e::agent::{Agent, AgentEnv};
use herald_e2e::bus::SessionBus;
use herald_e2e::hub::Hub;
use herald_hub::store::NewNotification;

const BACKLOG: usize = 30_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_killed_and_restarted_mid_catch_up_costs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    // The backlog is written straight into the hub's store before its process starts (30,000
    // sends over HTTP would take most of the test's time).
    let token = {
        let store = herald_hub::Store::open(&data).unwrap();
        let (bob, token) = store.add_user("bob").await.unwrap();
        for chunk in 0..BACKLOG / 1_000 {
            let sends = (0..1_000).map(|i| {
                let n = chunk * 1_000 + i;
                store.deliver(vec![bob.id], NewNotification::new(format!("Backlog item {n}")))
            });
            for sent in futures_util::future::join_all(sends).await {
                sent.unwrap();
            }
        }
        token
    };
    let hub = Hub::start(&data, "127.0.0.1:0");
    let bus = SessionBus::start(dir.path());
    let env = AgentEnv::new(dir.path(), hub.url(), &token, &bus.address);
    let mut agent = Agent::start(&env).await;
    let mut window = agent.window().await;

    // Part way through, the hub dies.
    let (done, total) = window
        .wait_for("catch-up under way", |e| match e {
            Event::SyncProgress { done, total } if *done > 0 => Some((*done, *total)),
            _ => None,
        })
        .await;
    assert_eq!(total, BACKLOG as i64);
    let (addr, data) = hub.kill();
    window
        .wait_for("the agent noticing", |e| {
            matches!(e, Event::Connection { connection: ConnectionState::Offline { .. } }).then_some(())
        })
        .await;
    let stopped_at = herald_client::Mirror::open_read_only(&agent.config.mirror_path()).unwrap().cursor(1).unwrap();
    assert!(stopped_at >= done && stopped_at < BACKLOG as i64, "stopped part way: {stopped_at} of {BACKLOG}");

    // Back on the same address: the agent goes on from its cursor, by itself.
    let hub = Hub::start(&data, &addr.to_string());
    let (resumed_total, _) = window
        .wait_for("the rest of the catch-up", |e| match e {
            Event::SyncProgress { done: 0, total } => Some((*total, ())),
            _ => None,
        })
        .await;
    assert_eq!(resumed_total, BACKLOG as i64 - stopped_at, "only what was left");
    window
        .wait_for("online", |e| matches!(e, Event::Connection { connection: ConnectionState::Online }).then_some(()))
        .await;

    let mirror = herald_client::Mirror::open_read_only(&agent.config.mirror_path()).unwrap();
    assert_eq!(mirror.unread_count().unwrap() as usize, BACKLOG, "every notification, once");
    assert_eq!(mirror.cursor(1).unwrap(), BACKLOG as i64);
    let newest: Vec<i64> = mirror.list(None, 3).unwrap().iter().map(|n| n.id).collect();
    let on_hub: Vec<i64> = hub.list(&token).await.iter().take(3).map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(newest, on_hub);
    agent.kill();
}
