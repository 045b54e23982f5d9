//! `herald-bench live`: the live path end to end — a sender POSTs at a steady rate to a real hub
//! process; an in-process sync engine (real mirror file, real WebSocket) applies each change and
//! runs the toast decision. Three latencies per notification:
//!
//! - POST sent → the hub's answer (accepted: committed and synced);
//! - the hub's answer → toast decided (the target's "hub POST accepted to toast decision"; 0 when
//!   the feed beat the answer to the sender);
//! - POST sent → toast decided (both, end to end).
//!
//! The run is repeated (`--runs`, 5 unless told), each with a hub and a mirror of its own, and the
//! tail figures are given per run and as their spread: this machine is shared and noisy, and a
//! tail from one run says little.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use herald_client::mirror::{Mirror, SharedMirror};
use herald_client::sync::{ConnectionState, SyncEngine, SyncEvent};
use herald_client::toast::{self, Interruptions, ToastCommand};
use tokio::sync::{broadcast, watch};

use crate::hub::Hub;

/// The target: hub accepted → toast decided, p99, in every run.
const TARGET_P99_MS: f64 = 5.0;

pub async fn run(hub_binary: &std::path::Path, rate: u32, seconds: u64, runs: u32) -> anyhow::Result<()> {
    println!("# herald-bench live: {rate} notifications/s for {seconds} s, {runs} runs, POST sent → toast decided\n");
    let mut figures = Vec::new();
    for number in 1..=runs {
        println!("## run {number}\n");
        figures.push(run_once(hub_binary, rate, seconds).await?);
        println!();
    }
    summarise(&figures);
    Ok(())
}

/// One run's tail figures, in milliseconds.
struct RunFigures {
    accepted_p99: f64,
    decided: Quantiles,
    end_to_end_p99: f64,
}

#[derive(Clone, Copy)]
pub(crate) struct Quantiles {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

/// The spread over the runs: each run's figure, then the lowest and highest.
fn summarise(figures: &[RunFigures]) {
    let spread = |pick: fn(&RunFigures) -> f64| {
        let values: Vec<f64> = figures.iter().map(pick).collect();
        let (low, high) = values.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        let each = values.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(" / ");
        format!("{low:.2}–{high:.2} ms ({each})")
    };
    println!("## spread over {} runs\n", figures.len());
    println!("| figure | lowest–highest (each run) |\n|---|---|");
    println!("| POST sent → accepted, p99 | {} |", spread(|f| f.accepted_p99));
    println!("| accepted → toast decided, p50 | {} |", spread(|f| f.decided.p50));
    println!("| accepted → toast decided, p99 | {} |", spread(|f| f.decided.p99));
    println!("| accepted → toast decided, max | {} |", spread(|f| f.decided.max));
    println!("| POST sent → toast decided, p99 | {} |", spread(|f| f.end_to_end_p99));
    let met = figures.iter().filter(|f| f.decided.p99 <= TARGET_P99_MS).count();
    println!(
        "\ntarget accepted → decided p99 ≤ {TARGET_P99_MS} ms: met in {met} of {} runs{}",
        figures.len(),
        if met == figures.len() { "" } else { " — NOT met in every run" }
    );
}

async fn run_once(hub_binary: &std::path::Path, rate: u32, seconds: u64) -> anyhow::Result<RunFigures> {
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
    anyhow::ensure!(!decided_at.is_empty(), "no notification reached its toast decision");
    let accepted = report("POST sent → hub answered (accepted)", sent.iter().map(|s| s.accepted - s.started).collect());
    let decided = report(
        "hub answered → toast decided",
        decided_at.iter().map(|(s, at)| at.saturating_duration_since(s.accepted)).collect(),
    );
    let end_to_end = report(
        "POST sent → toast decided",
        decided_at.iter().map(|(s, at)| at.saturating_duration_since(s.started)).collect(),
    );
    hub.stop();
    Ok(RunFigures { accepted_p99: accepted.p99, decided, end_to_end_p99: end_to_end.p99 })
}

/// One POST: its notification id, when it was sent and when the hub's answer arrived.
struct Sent {
    id: i64,
    started: Instant,
    accepted: Instant,
}

pub(crate) fn report(what: &str, mut latencies: Vec<Duration>) -> Quantiles {
    latencies.sort_unstable();
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    let quantiles = Quantiles { p50: pick(0.5), p99: pick(0.99), max: pick(1.0) };
    println!("| {what} | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms |", quantiles.p50, quantiles.p99, quantiles.max);
    quantiles
}
