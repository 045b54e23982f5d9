//! `herald-bench`: measures a real `herald-hub` process (see BENCHMARKS.md).
//!
//! 1. Sustained single-recipient sends per second, with group commit and without (one hub each),
//!    reported as a ratio measured in the same run.
//! 2. Fan-out: a send to a role of N users while N feed WebSockets are connected; the time until
//!    the send is persisted (the POST returns) and until every feed has the notification.
//! 3. Memory per idle feed: the hub's resident memory before and after the N feeds connect.
//!
//! Usage: `herald-bench [--hub PATH] [--users N] [--seconds S] [--senders C]`. The hub binary is
//! found next to this one unless `--hub` says otherwise. `herald-bench mirror [--rows N] [--big M]`
//! measures the desktop mirror instead (see `mirror.rs`); `herald-bench live [--rate R]
//! [--seconds S] [--runs N]` the path from a hub POST to the toast decision, N runs (5 unless
//! told) so that every tail figure comes with its spread (see `live.rs`); `herald-bench abuse
//! [--runs N]` a hostile caller's cost to others (see `abuse.rs`, 3 runs unless told);
//! `herald-bench web-feeds [--users N] [--runs N]` the memory per browser feed beside a desktop
//! feed's (see `web_feeds.rs`, 3 runs unless told); `herald-bench mail [--users N] [--runs N]` a
//! role send with immediate email: the feeds with mail on and off, and the time until the SMTP
//! server accepted every mail (see `mail.rs`, 3 runs unless told).

mod abuse;
mod hub;
mod live;
mod mail;
mod mirror;
mod web_feeds;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use hub::Hub;

struct Options {
    hub: std::path::PathBuf,
    users: usize,
    seconds: u64,
    senders: usize,
    /// `herald-bench mirror`: measure the desktop mirror instead of the hub.
    mirror: bool,
    rows: usize,
    big: usize,
    /// `herald-bench live`: the live path from POST to toast decision.
    live: bool,
    rate: u32,
    /// How many times `live` repeats its run (at least one; 5 unless told).
    runs: Option<u32>,
    /// `herald-bench abuse`: what a hostile caller costs everyone else.
    abuse: bool,
    /// `herald-bench web-feeds`: memory per browser feed.
    web_feeds: bool,
    /// `herald-bench mail`: a role send with immediate email, mail on and off.
    mail: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut hub = std::env::current_exe()?.with_file_name("herald-hub");
    let (mut users, mut seconds, mut senders) = (10_000, 5, 32);
    let (mut mirror, mut rows, mut big) = (false, 100_000, 1_000_000);
    let (mut live, mut rate, mut runs, mut abuse, mut web_feeds, mut mail) = (false, 1_000, None, false, false, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "mirror" => mirror = true,
            "live" => live = true,
            "abuse" => abuse = true,
            "web-feeds" => web_feeds = true,
            "mail" => mail = true,
            "--rate" => rate = value()?.parse()?,
            "--runs" => runs = Some(value()?.parse::<u32>()?.max(1)),
            "--rows" => rows = value()?.parse()?,
            "--big" => big = value()?.parse()?,
            "--hub" => hub = value()?.into(),
            "--users" => users = value()?.parse()?,
            "--seconds" => seconds = value()?.parse()?,
            "--senders" => senders = value()?.parse()?,
            other => bail!("unknown argument {other:?}; see the top of crates/herald-bench/src/main.rs"),
        }
    }
    Ok(Options { hub, users, seconds, senders, mirror, rows, big, live, rate, runs, abuse, web_feeds, mail })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    if options.mirror {
        return mirror::run(options.rows, options.big);
    }
    if options.live {
        return live::run(&options.hub, options.rate, options.seconds, options.runs.unwrap_or(5)).await;
    }
    if options.abuse {
        return abuse::run(&options.hub, options.runs.unwrap_or(3)).await;
    }
    if options.web_feeds {
        return web_feeds::run(&options.hub, options.users, options.runs.unwrap_or(3)).await;
    }
    if options.mail {
        return mail::run(&options.hub, options.users, options.runs.unwrap_or(3)).await;
    }
    println!(
        "# herald-bench: {} users, {} s per send run, {} concurrent senders\n",
        options.users, options.seconds, options.senders
    );

    let grouped = sends_per_second(&options, 256).await?;
    let single = sends_per_second(&options, 1).await?;
    println!(
        "| sends/s, group commit (up to 256 per commit) | {:.0} ({:.1} writes per commit) |",
        grouped.0, grouped.1
    );
    println!("| sends/s, one commit per send | {:.0} |", single.0);
    println!("| ratio grouped / single | {:.2} |", grouped.0 / single.0);

    fan_out(&options).await?;
    Ok(())
}

/// Sends to one recipient from `senders` concurrent clients for `seconds`; returns sends per
/// second and writes per commit as the hub reported them.
async fn sends_per_second(options: &Options, write_group: u32) -> anyhow::Result<(f64, f64)> {
    let hub = Hub::start(&options.hub, write_group).await?;
    hub.cli(&["user", "add", "target"])?;
    let app = hub.cli(&["token", "add", "--app", "bench"])?;
    let client = reqwest::Client::new();
    let sent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..options.senders {
        let (client, url, app, sent) =
            (client.clone(), format!("{}/v1/notifications", hub.base), app.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"to": {"user": "target"}, "type": "task.due", "subject": "Review the Q3 budget", "body": "Due today"}).to_string();
            while Instant::now() < deadline {
                let res = client.post(&url).bearer_auth(&app).header("content-type", "application/json").body(body.clone()).send().await?;
                if !res.status().is_success() {
                    bail!("send failed: {}", res.status());
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = sent.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let per_commit = hub.writes_per_commit().await.unwrap_or(f64::NAN);
    hub.stop();
    Ok((rate, per_commit))
}

async fn fan_out(options: &Options) -> anyhow::Result<()> {
    let hub = Hub::start(&options.hub, 256).await?;
    let admin = hub.cli(&["token", "add", "--admin"])?;
    let app = hub.cli(&["token", "add", "--app", "bench"])?;
    let client = reqwest::Client::new();

    let setup = Instant::now();
    let tokens = create_users(&client, &hub.base, &admin, options.users).await?;
    println!("\n(set-up: {} users with the role made in {:.1} s)\n", options.users, setup.elapsed().as_secs_f64());

    let rss_before = hub.rss_kib()?;
    let connect = Instant::now();
    let feeds = connect_feeds(&hub.base, &tokens).await?;
    let connected_in = connect.elapsed();
    // Let allocations settle before reading the hub's memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = hub.rss_kib()?;
    let per_feed = (rss_after.saturating_sub(rss_before)) as f64 * 1024.0 / feeds.len() as f64;

    let (arrivals, go) = await_change_on_each(feeds);
    // All waiting tasks are polling before the clock starts.
    tokio::task::yield_now().await;
    let started = Instant::now();
    go.send_replace(Some(started));
    let res = client
        .post(format!("{}/v1/notifications", hub.base))
        .bearer_auth(&app)
        .json(&json!({"to": {"role": "everyone-here"}, "type": "system.maintenance", "subject": "The system shuts down at 18:00"}))
        .send()
        .await?;
    let persisted = started.elapsed();
    let body: serde_json::Value = res.json().await?;
    let stored = body["ids"].as_array().map_or(0, Vec::len);
    let mut last = Duration::ZERO;
    let mut keep = Vec::new();
    for arrival in arrivals {
        let (at, ws) = arrival.await??;
        last = last.max(at);
        keep.push(ws);
    }
    println!("| feeds connected | {} in {:.1} s |", keep.len(), connected_in.as_secs_f64());
    println!("| hub memory before / after the feeds | {} KiB / {} KiB |", rss_before, rss_after);
    println!("| memory per idle feed | {:.1} KiB |", per_feed / 1024.0);
    println!(
        "| send to a role of {}: persisted (POST returned) | {} stored in {:.0} ms |",
        options.users,
        stored,
        persisted.as_secs_f64() * 1000.0
    );
    println!(
        "| send to a role of {}: on every connected feed | {:.0} ms |",
        options.users,
        last.as_secs_f64() * 1000.0
    );
    drop(keep);
    hub.stop();
    Ok(())
}

/// Opens a feed for each token (as `since=0`) and waits until each is caught up.
async fn connect_feeds(base: &str, tokens: &[String]) -> anyhow::Result<Vec<Feed>> {
    let ws_base = base.replace("http://", "ws://");
    let mut feeds = Vec::with_capacity(tokens.len());
    // In waves of 48: one address may hold 64 connections not yet signed in.
    for chunk in tokens.chunks(48) {
        let mut wave = Vec::new();
        for token in chunk {
            let mut request = format!("{ws_base}/v1/feed?since=0").into_client_request()?;
            request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
            wave.push(tokio::spawn(async move {
                // tungstenite zero-fills its whole read buffer on every read: at the default
                // 128 KiB, 10,000 sockets cost the client seconds of memset.
                let config = WebSocketConfig::default().read_buffer_size(4096);
                let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
                wait_for(&mut ws, "caught_up").await?;
                anyhow::Ok(ws)
            }));
        }
        for feed in wave {
            feeds.push(feed.await??);
        }
    }
    Ok(feeds)
}

/// What each feed's wait for its next change ends with: how long after the clock started it
/// came, and the feed.
type Arrival = tokio::task::JoinHandle<anyhow::Result<(Duration, Feed)>>;

/// Every feed waits for its next change; the clock starts when the sender returned is given the
/// send's start (all waiting tasks are spawned by then).
fn await_change_on_each(feeds: Vec<Feed>) -> (Vec<Arrival>, tokio::sync::watch::Sender<Option<Instant>>) {
    let mut arrivals = Vec::with_capacity(feeds.len());
    let (go, ready) = tokio::sync::watch::channel(None::<Instant>);
    for mut ws in feeds {
        let mut ready = ready.clone();
        arrivals.push(tokio::spawn(async move {
            wait_for(&mut ws, "change").await?;
            let arrived = Instant::now();
            let started = *ready.wait_for(Option::is_some).await?;
            anyhow::Ok((arrived - started.expect("set"), ws))
        }));
    }
    (arrivals, go)
}

/// Makes `count` users with the role `everyone-here` through the admin API; returns their tokens.
async fn create_users(client: &reqwest::Client, base: &str, admin: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, base, admin, next) = (client.clone(), base.to_owned(), admin.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut tokens = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= count {
                    return anyhow::Ok(tokens);
                }
                let name = format!("user{i:05}");
                let res = client
                    .post(format!("{base}/v1/admin/users"))
                    .bearer_auth(&admin)
                    .json(&json!({"name": name}))
                    .send()
                    .await?;
                let created: serde_json::Value = res.json().await?;
                let token = created["token"].as_str().context("no token in the answer")?.to_owned();
                let res = client
                    .put(format!("{base}/v1/admin/users/{name}/roles/everyone-here"))
                    .bearer_auth(&admin)
                    .send()
                    .await?;
                if !res.status().is_success() {
                    bail!("granting the role failed: {}", res.status());
                }
                tokens.push(token);
            }
        }));
    }
    let mut tokens = Vec::with_capacity(count);
    for task in tasks {
        tokens.extend(task.await??);
    }
    Ok(tokens)
}

type Feed = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Waits for a frame of type `kind`. Only the frame's opening is looked at: the bench shares the
/// machine's two cores with the hub, so its own work per frame is kept to a minimum.
async fn wait_for(ws: &mut Feed, kind: &str) -> anyhow::Result<()> {
    let deadline = Duration::from_secs(120);
    let opening = format!("{{\"type\":\"{kind}\"");
    loop {
        let message = tokio::time::timeout(deadline, ws.next())
            .await
            .context("feed silent for 120 s")?
            .context("feed closed")??;
        if let Message::Text(text) = message {
            if text.starts_with(&opening) {
                return Ok(());
            }
            if text.starts_with("{\"type\":\"error\"") {
                bail!("the hub refused the feed: {text}");
            }
        }
    }
}
