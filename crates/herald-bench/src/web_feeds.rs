//! `herald-bench web-feeds [--users N] [--runs R]`: the hub's memory per open browser feed (the
//! web inbox's WebSocket, authenticated by the session cookie and checked for its Origin),
//! beside a desktop feed (a bearer token) measured on a hub of its own in the same run, each
//! with N feeds. A browser opens one feed however many tabs it shows (the leader tab's), so this
//! is the cost of one signed-in browser while idle; the page's own requests are short-lived.
//!
//! Each run starts two fresh hubs: N users with a password and N bearer tokens are made first,
//! then the hub's resident memory is read before and after the N feeds connect.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::hub::Hub;

const PASSWORD: &str = "bench-password-1";

pub async fn run(binary: &std::path::Path, users: usize, runs: u32) -> anyhow::Result<()> {
    println!("# herald-bench web-feeds: {users} feeds per hub, {runs} runs\n");
    println!("| run | browser feed (cookie) | desktop feed (token) | ratio |");
    println!("|---|---|---|---|");
    for run in 1..=runs {
        let browser = per_feed(binary, users, How::Cookie).await?;
        let desktop = per_feed(binary, users, How::Token).await?;
        println!("| {run} | {browser:.1} KiB | {desktop:.1} KiB | {:.2} |", browser / desktop);
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum How {
    Cookie,
    Token,
}

/// KiB of the hub's resident memory per feed, `users` feeds of one kind.
async fn per_feed(binary: &std::path::Path, users: usize, how: How) -> anyhow::Result<f64> {
    let hub = Hub::start(binary, 256).await?;
    let client = reqwest::Client::new();
    let base = hub.base.clone();
    let admin = hub.admin().to_owned();
    let started = Instant::now();
    // Each feed's credential: a session cookie (signed in with the password, as the page does)
    // or the user's token. Eight at a time: the hub hashes passwords on two threads.
    let credentials: Vec<String> = stream::iter(0..users)
        .map(|i| {
            let (client, base, admin) = (client.clone(), base.clone(), admin.clone());
            async move {
                let name = format!("user{i:05}");
                let made = client
                    .post(format!("{base}/v1/admin/users"))
                    .bearer_auth(&admin)
                    .json(&json!({"name": name, "password": PASSWORD}))
                    .send()
                    .await?;
                let made: serde_json::Value = made.error_for_status()?.json().await?;
                if how == How::Token {
                    return anyhow::Ok(made["token"].as_str().context("no token")?.to_owned());
                }
                let signed_in = client
                    .post(format!("{base}/v1/session"))
                    .header("origin", &base)
                    .json(&json!({"user": name, "password": PASSWORD}))
                    .send()
                    .await?;
                if !signed_in.status().is_success() {
                    bail!("sign-in: {}", signed_in.status());
                }
                let cookie = signed_in
                    .headers()
                    .get("set-cookie")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .context("no session cookie")?;
                Ok(cookie.to_owned())
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    eprintln!("(set-up: {users} users in {:.1} s)", started.elapsed().as_secs_f64());
    // Let the sign-ins' allocations settle before the first reading.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let before = hub.rss_kib()?;
    let ws_base = base.replace("http://", "ws://");
    let mut feeds = Vec::with_capacity(users);
    // In waves of 48: one address may hold 64 connections not yet signed in.
    for chunk in credentials.chunks(48) {
        let mut wave = Vec::new();
        for credential in chunk {
            let mut request = format!("{ws_base}/v1/feed?since=0").into_client_request()?;
            let headers = request.headers_mut();
            match how {
                How::Cookie => {
                    headers.insert("cookie", credential.parse()?);
                    headers.insert("origin", base.parse()?);
                }
                How::Token => {
                    headers.insert("authorization", format!("Bearer {credential}").parse()?);
                }
            }
            wave.push(tokio::spawn(async move {
                let config = WebSocketConfig::default().read_buffer_size(4096);
                let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
                crate::wait_for(&mut ws, "caught_up").await?;
                anyhow::Ok(ws)
            }));
        }
        for feed in wave {
            feeds.push(feed.await??);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = hub.rss_kib()?;
    drop(feeds);
    hub.stop();
    Ok(after.saturating_sub(before) as f64 / users as f64)
}
