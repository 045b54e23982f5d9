//! `herald-bench live`: the live path end to end — a sender POSTs at a steady rate to a real hub
//! process; an in-process sync engine (real mirror file, real WebSocket) applies each change and
//! runs the toast decision. Three latencies per notification:
//!
//! - POST sent → the hub's answer (accepted: committed and synced);
//! - the hub's answer → toast decided (the target's "hub POST accepted to toast decision"; 0 when
//!   the feed beat the answer to the sender);
//! - POST sent → toast decided (both, end to end).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use herald_client::mirror::{Mirror, SharedMirror};
use herald_client::sync::{ConnectionState, SyncEngine, SyncEvent};
use herald_client::toast::{self, Interruptions, ToastCommand};
use tokio::sync::{broadcast, watch};

use crate::hub::Hub;

pub async fn run(hub_binary: &std::path::Path, rate: u32, seconds: u64) -> anyhow::Result<()> {
    println!("# herald-bench live: {rate} notifications/s for {seconds} s, POST sent → toast decided\n");
    let hub = Hub::start(hub_binary, 256).await?;
    let token = hub.cli(&["user", "add", "bob"])?;
    let app = hub.cli(&["token", "add", "--app", "bench"])?;
    let dir = tempfile::tempdir()?;
    let mirror = SharedMirror::new(Mirror::open(&dir.path().join("mirror.sqlite3"))?);
    let (events_tx, mut events) = broadcast::channel(65_536);
    let engine = SyncEngine::new(Some(hub.base.parse()?), Some(token), mirror, events_tx);
    let (stop, stopped) = watch::channel(false);
    let sync = tokio::spawn(engine.run(stopped));
    loop {
        if let SyncEvent::Connection { state: ConnectionState::Online, .. } = events.recv().await? {
            break;
        }
    }

    // The toast side: when each notification's toast decision was made.
    let decided: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let decider = {
        let decided = decided.clone();
        tokio::spawn(async move {
            let rules = Interruptions::default();
            let mut bursts = toast::Bursts::default();
            while let Ok(event) = events.recv().await {
                if let SyncEvent::MirrorChanged { applied, backfill, .. } = event {
                    let commands = toast::decide(&applied, backfill, &rules, &mut bursts, jiff::Timestamp::now());
                    let at = Instant::now();
                    let shown = commands.iter().filter(|c| matches!(c, ToastCommand::Show(_))).count();
                    let mut decided = decided.lock().unwrap();
                    for n in &applied.created {
                        decided.insert(n.id, at);
                    }
                    let _ = shown;
                }
            }
        })
    };

    // The sending side: one POST per tick, each on its own task so the rate holds.
    let client = reqwest::Client::new();
    let url = format!("{}/v1/notifications", hub.base);
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut posts = Vec::new();
    for i in 0..(u64::from(rate) * seconds) {
        tick.tick().await;
        let (client, url, app, sent) = (client.clone(), url.clone(), app.clone(), sent.clone());
        posts.push(tokio::spawn(async move {
            let body = serde_json::json!({"to": {"user": "bob"}, "type": "task.due", "subject": format!("Task {i} is due"), "body": "Today"});
            let started = Instant::now();
            let answer: serde_json::Value =
                client.post(&url).bearer_auth(&app).json(&body).send().await?.error_for_status()?.json().await?;
            let accepted = Instant::now();
            let id = answer["ids"][0].as_i64().context("no id")?;
            sent.lock().unwrap().push(Sent { id, started, accepted });
            anyhow::Ok(())
        }));
    }
    for post in posts {
        post.await??;
    }
    // Wait until every sent notification has had its decision (bounded).
    let deadline = Instant::now() + Duration::from_secs(30);
    let total = sent.lock().unwrap().len();
    while decided.lock().unwrap().len() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let _ = sync.await;
    decider.abort();

    let decided = decided.lock().unwrap();
    let sent = sent.lock().unwrap();
    let decided_at: Vec<(&Sent, Instant)> = sent.iter().filter_map(|s| Some((s, *decided.get(&s.id)?))).collect();
    println!("| notifications sent / decided | {total} / {} |", decided_at.len());
    report("POST sent → hub answered (accepted)", sent.iter().map(|s| s.accepted - s.started).collect());
    report(
        "hub answered → toast decided",
        decided_at.iter().map(|(s, at)| at.saturating_duration_since(s.accepted)).collect(),
    );
    report(
        "POST sent → toast decided",
        decided_at.iter().map(|(s, at)| at.saturating_duration_since(s.started)).collect(),
    );
    hub.stop();
    Ok(())
}

/// One POST: its notification id, when it was sent and when the hub's answer arrived.
struct Sent {
    id: i64,
    started: Instant,
    accepted: Instant,
}

fn report(what: &str, mut latencies: Vec<Duration>) {
    latencies.sort_unstable();
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    println!("| {what} | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms |", pick(0.5), pick(0.99), pick(1.0));
}
