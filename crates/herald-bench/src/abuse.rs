//! `herald-bench abuse`: the figures of docs/reliability.md's "Abuse" section, against a real
//! hub process (issue 17):
//! - search cost for a user with no rows, on an empty hub and on one holding 200,000 rows of
//!   others that all contain the word searched (ratio of p99s, target ≤ 2 and ≤ 50 ms);
//! - another user's plain list latency, idle and while 8 clients search flat out (ratio of p99s),
//!   and, as a control, while the same 8 list flat out; then the case, one token
//!   searching from 8 threads within serve's default rate limit;
//! - a slowloris flood: 1,000 silent connections, how many the hub closes and when, and the user's
//!   latency meanwhile;
//! - memory per live event in flight (1,000 recipients, a 4,000-character body).
//!
//! Each measurement runs `runs` times (3 unless told), so every tail figure comes with its spread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use serde_json::json;

use crate::hub::Hub;
use crate::live::report;

/// Users every notification of the crowd goes to; 200 sends make 200,000 rows.
const CROWD: usize = 1_000;
const SENDS: usize = 200;
const SEARCHES: usize = 200;

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn ok(&self, request: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
        let res = request.send().await?;
        let status = res.status();
        let body = res.text().await?;
        ensure!(status.is_success(), "{status}: {body}");
        Ok(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
    }

    fn get(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(token)
    }

    fn post(&self, token: &str, path: &str, body: serde_json::Value) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body)
    }

    /// `n` requests made by `make`, one after another: their latencies.
    async fn timed(&self, n: usize, make: impl Fn() -> reqwest::RequestBuilder) -> anyhow::Result<Vec<Duration>> {
        let mut latencies = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            self.ok(make()).await?;
            latencies.push(started.elapsed());
        }
        Ok(latencies)
    }

    /// Like `timed`, but one request every `every` at most: a reader that stays within a
    /// per-token rate limit.
    async fn timed_paced(
        &self,
        n: usize,
        every: Duration,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> anyhow::Result<Vec<Duration>> {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut latencies = Vec::with_capacity(n);
        for _ in 0..n {
            ticks.tick().await;
            let started = Instant::now();
            self.ok(make()).await?;
            latencies.push(started.elapsed());
        }
        Ok(latencies)
    }
}

pub async fn run(binary: &Path, runs: u32) -> anyhow::Result<()> {
    let mut hub = Hub::start(binary, 256).await?;
    let client = Client { http: reqwest::Client::new(), base: hub.base.clone() };
    let admin = hub.admin().to_owned();
    let app = hub.cli(&["token", "add", "--app", "bench"])?;
    let user = |name: &str| {
        let (client, admin, name) = (&client, admin.clone(), name.to_owned());
        async move {
            let made = client.ok(client.post(&admin, "/v1/admin/users", json!({"name": name}))).await?;
            made["token"].as_str().map(str::to_owned).context("no token for a new user")
        }
    };
    let searcher = user("searcher").await?;
    let reader = user("reader").await?;
    for i in 0..CROWD {
        let name = format!("crowd-{i}");
        user(&name).await?;
        client
            .ok(client.http.put(format!("{}/v1/admin/users/{name}/roles/crowd", hub.base)).bearer_auth(&admin))
            .await?;
    }
    client.ok(client.post(&app, "/v1/notifications", json!({"to": {"user": "reader"}, "subject": "hello"}))).await?;
    let search = || client.get(&searcher, "/v1/notifications?q=zebra&limit=50");
    // The same user's plain list: what any request of theirs costs on each hub, search or not.
    let plain = || client.get(&searcher, "/v1/notifications?limit=50");
    let list = || client.get(&reader, "/v1/notifications?limit=1");

    println!("# herald-bench abuse: {CROWD} users × {SENDS} sends = {} rows of others, {runs} runs\n", CROWD * SENDS);
    let (mut empty, mut empty_plain) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        empty.push(report("search, user with no rows, empty hub", client.timed(SEARCHES, search).await?).p99);
        empty_plain.push(report("plain list, same user, empty hub", client.timed(SEARCHES, plain).await?).p99);
    }
    let started = Instant::now();
    for i in 0..SENDS {
        let body = json!({"to": {"role": "crowd"}, "subject": format!("zebra crossing {i}"), "body": "zebra stripes"});
        client.ok(client.post(&app, "/v1/notifications", body)).await?;
    }
    println!("| filled {} rows | {:.1} s |", CROWD * SENDS, started.elapsed().as_secs_f64());
    let (mut crowded, mut crowded_plain) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        crowded.push(report("search, user with no rows, 200k-row hub", client.timed(SEARCHES, search).await?).p99);
        crowded_plain.push(report("plain list, same user, 200k-row hub", client.timed(SEARCHES, plain).await?).p99);
    }
    println!("| search p99, 200k-row hub / empty hub | {} |", ratios(&crowded, &empty));
    println!(
        "| plain list p99 of the same user, 200k-row hub / empty hub | {} |",
        ratios(&crowded_plain, &empty_plain)
    );

    // Another user's latency, idle and while 8 clients search flat out (a crowd member's search
    // reads their own 200 rows: the heaviest search a user of this hub can make).
    let crowd_token = user("crowd-searcher").await?;
    client
        .ok(client.http.put(format!("{}/v1/admin/users/crowd-searcher/roles/crowd", hub.base)).bearer_auth(&admin))
        .await?;
    for i in 0..SENDS {
        let body = json!({"to": {"user": "crowd-searcher"}, "subject": format!("zebra {i}")});
        client.ok(client.post(&app, "/v1/notifications", body)).await?;
    }
    let (mut idle_p99, mut busy_p99, mut listing_p99) = (Vec::new(), Vec::new(), Vec::new());
    let searching = format!("{}/v1/notifications?q=zebra&limit=50", hub.base);
    // The control: the same 8 clients flat out, listing instead of searching (what any 8 busy
    // users cost on this machine, where they share its 2 cores with the hub).
    let listing = format!("{}/v1/notifications?limit=50", hub.base);
    for _ in 0..runs {
        idle_p99.push(report("another user's list, idle", client.timed(300, list).await?).p99);
        let flood = Flood::start(&client.http, &searching, &crowd_token);
        busy_p99.push(report("another user's list, 8 searching flat out", client.timed(300, list).await?).p99);
        flood.stop().await?;
        let flood = Flood::start(&client.http, &listing, &crowd_token);
        listing_p99.push(report("another user's list, 8 listing flat out", client.timed(300, list).await?).p99);
        flood.stop().await?;
    }
    println!("| another user's p99, searched flat out / idle | {} |", ratios(&busy_p99, &idle_p99));
    println!("| control: another user's p99, listed flat out / idle | {} |", ratios(&listing_p99, &idle_p99));

    slowloris(&client, &hub, list).await?;
    live_event_memory(&client, &hub, &app).await?;

    // The issue's own case: one token searching from 8 threads within `serve`'s default rate
    // limit (100 a second per token): 12 a second each, 96 in all; then the same 8 flat out,
    // every request past the limit answered 429 (a flood of cheap requests, like the control).
    hub.restart_with_rate_limit(256, 100)?;
    let client = Client { http: reqwest::Client::new(), base: hub.base.clone() };
    let list = || client.get(&reader, "/v1/notifications?limit=1");
    let searching = format!("{}/v1/notifications?q=zebra&limit=50", hub.base);
    let (mut idle_p99, mut limited_p99, mut hammered_p99) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        // 50 a second, half the reader's own limit.
        let paced = || client.timed_paced(300, Duration::from_millis(20), list);
        idle_p99.push(report("rate-limited hub: another user's list, idle", paced().await?).p99);
        let flood = Flood::paced(&client.http, &searching, &crowd_token, Some(Duration::from_millis(83)));
        let within = paced().await?;
        limited_p99.push(report("rate-limited hub: another user's list, one token searching 96/s", within).p99);
        flood.stop().await?;
        let flood = Flood::start(&client.http, &searching, &crowd_token);
        let hammered = paced().await?;
        hammered_p99.push(report("rate-limited hub: another user's list, one token flat out, 429s", hammered).p99);
        flood.stop().await?;
    }
    println!(
        "| rate-limited hub: another user's p99, one token searching 96/s from 8 threads / idle | {} |",
        ratios(&limited_p99, &idle_p99)
    );
    println!(
        "| rate-limited hub: another user's p99, the same 8 flat out (answered 429 past the limit) / idle | {} |",
        ratios(&hammered_p99, &idle_p99)
    );
    hub.stop();
    Ok(())
}

/// Each run's `a / b`, as "1.02, 0.97, …".
fn ratios(a: &[f64], b: &[f64]) -> String {
    a.iter().zip(b).map(|(a, b)| format!("{:.2}", a / b)).collect::<Vec<_>>().join(", ")
}

/// 8 clients sending one request after another until stopped: flat out, or each at most one
/// every `every`.
struct Flood {
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Flood {
    fn start(http: &reqwest::Client, url: &str, token: &str) -> Self {
        Self::paced(http, url, token, None)
    }

    fn paced(http: &reqwest::Client, url: &str, token: &str, every: Option<Duration>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..8)
            .map(|_| {
                let (http, url, token, stop) = (http.clone(), url.to_owned(), token.to_owned(), stop.clone());
                tokio::spawn(async move {
                    let mut ticks = every.map(tokio::time::interval);
                    while !stop.load(Ordering::Relaxed) {
                        if let Some(ticks) = ticks.as_mut() {
                            ticks.tick().await;
                        }
                        let _ = http.get(&url).bearer_auth(&token).send().await.and_then(|r| r.error_for_status());
                    }
                })
            })
            .collect();
        Self { stop, clients }
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.await?;
        }
        Ok(())
    }
}

/// 1,000 connections that never send a byte: how many the hub refuses at once (the per-address
/// cap) and how long the accepted ones stay open; a user's latency meanwhile; the sockets the hub
/// itself holds before, during and after.
///
/// A connect the kernel completed while the hub's accept queue was full may look open to the
/// client although the hub never held it (the final ACK was dropped and the SYN-ACK retries run
/// out): one still open after 60 s is written to, and a reset shows it was such a phantom.
async fn slowloris(client: &Client, hub: &Hub, list: impl Fn() -> reqwest::RequestBuilder) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = hub.base.trim_start_matches("http://").to_owned();
    let sockets_before = hub.sockets()?;
    let started = Instant::now();
    let mut waits = Vec::new();
    for _ in 0..1_000 {
        let address = address.clone();
        waits.push(tokio::spawn(async move {
            // None: could not connect; Err(socket): still open after 60 s.
            let Ok(mut socket) = tokio::net::TcpStream::connect(address).await else { return None };
            let mut buf = [0u8; 16];
            let opened = Instant::now();
            match tokio::time::timeout(Duration::from_secs(60), socket.read(&mut buf)).await {
                Ok(_) => Some(Ok(opened.elapsed())),
                Err(_) => Some(Err(socket)),
            }
        }));
    }
    report("another user's list, 1,000 silent connections open", client.timed(100, &list).await?);
    let sockets_during = hub.sockets()?;
    tokio::time::sleep_until((started + Duration::from_secs(15)).into()).await;
    let sockets_after = hub.sockets()?;
    let (mut closed, mut unconnected, mut open, mut phantom) = (Vec::new(), 0, 0, 0);
    for wait in waits {
        match wait.await? {
            Some(Ok(after)) => closed.push(after),
            None => unconnected += 1,
            Some(Err(mut socket)) => {
                let _ = socket.write_all(b"GET / HTTP/1.1\r\n").await;
                let mut buf = [0u8; 16];
                match tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await {
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => phantom += 1,
                    _ => open += 1,
                }
            }
        }
    }
    println!(
        "| silent connections that could not connect / looked open after 60 s but were never the hub's (reset when written to) / still open | {unconnected} / {phantom} / {open} |"
    );
    let at_once = closed.iter().filter(|d| **d < Duration::from_secs(1)).count();
    let later: Vec<Duration> = closed.iter().copied().filter(|d| *d >= Duration::from_secs(1)).collect();
    println!(
        "| silent connections closed | {} of 1,000 ({at_once} at once, {} after {:.1}–{:.1} s) |",
        closed.len(),
        later.len(),
        later.iter().min().map_or(0.0, Duration::as_secs_f64),
        later.iter().max().map_or(0.0, Duration::as_secs_f64),
    );
    println!(
        "| sockets the hub holds: before / during the flood / 15 s after it began | {sockets_before} / {sockets_during} / {sockets_after} |"
    );
    Ok(())
}

/// Resident memory before and after 1,000 live events to the crowd, each with a 4,000-character
/// body and an hour to live.
async fn live_event_memory(client: &Client, hub: &Hub, app: &str) -> anyhow::Result<()> {
    let before = hub.rss_kib()?;
    let body = "x".repeat(4_000);
    for _ in 0..1_000 {
        let event = json!({"to": {"role": "crowd"}, "kind": "reminder", "ttl_seconds": 3600, "title": "Stand-up", "body": body});
        client.ok(client.post(app, "/v1/events", event)).await?;
    }
    let after = hub.rss_kib()?;
    println!(
        "| memory per live event in flight ({CROWD} recipients, 4,000-character body) | {:.1} KiB ({} → {} MiB) |",
        after.saturating_sub(before) as f64 / 1_000.0,
        before / 1024,
        after / 1024
    );
    Ok(())
}
