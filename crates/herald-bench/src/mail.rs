//! `herald-bench mail [--users N] [--runs R]`: a send to a role of N users whose type has
//! immediate email (issue 19). Each run starts two fresh hubs with N users, each with an
//! address, in the role and with a feed connected:
//! - mail on: `--smtp` to a real SMTP server (aiosmtpd, `scripts/smtp-sink.py`), the type's
//!   channels with email: the time until every feed has the notification, and until the SMTP
//!   server has accepted all N mails;
//! - mail off: no `--smtp`, the type without email: the time until every feed has it.
//!
//! The two fan-out times are compared as a ratio within the run (mail must not slow the feeds).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

use crate::hub::Hub;

/// The bench's type, with email or without.
fn types(email: bool) -> String {
    let channels = if email { r#"["inbox", "desktop", "email"]"# } else { r#"["inbox", "desktop"]"# };
    format!(
        "[defaults]\nchannels = [\"inbox\", \"desktop\"]\n\n[[types]]\ntype = \"bench.notice\"\ntitle = \"Bench notices\"\nchannels = {channels}\n"
    )
}

/// The SMTP server: aiosmtpd writing each accepted mail to a file in `dir`.
struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sink {
    fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = std::env::var_os("HERALD_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/herald/venv"))
            .join("bin/python");
        let mut child = Command::new(&python)
            .arg(root.join("scripts/smtp-sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| {
                format!("starting aiosmtpd with {} (scripts/install-deps.sh installs it)", python.display())
            })?;
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().context("no stdout")?),
            &mut line,
        )?;
        if !line.starts_with("listening") {
            bail!("the SMTP server did not start: {line:?}");
        }
        Ok(Self { child, dir, port })
    }

    fn accepted(&self) -> anyhow::Result<usize> {
        Ok(std::fs::read_dir(self.dir.path())?
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(binary: &Path, users: usize, runs: u32) -> anyhow::Result<()> {
    println!("# herald-bench mail: a send to a role of {users} with immediate email, {runs} runs\n");
    println!("| run | feeds, mail on | feeds, mail off | ratio on / off | all {users} mails accepted | mails/s |");
    println!("|---|---|---|---|---|---|");
    for run in 1..=runs {
        let on = one_send(binary, users, true).await?;
        let off = one_send(binary, users, false).await?;
        let mailed = on.mailed.context("mail on measures the mail")?;
        println!(
            "| {run} | {:.0} ms | {:.0} ms | {:.2} | {:.1} s | {:.0} |",
            on.feeds.as_secs_f64() * 1000.0,
            off.feeds.as_secs_f64() * 1000.0,
            on.feeds.as_secs_f64() / off.feeds.as_secs_f64(),
            mailed.as_secs_f64(),
            users as f64 / mailed.as_secs_f64(),
        );
    }
    Ok(())
}

struct Measured {
    /// From the POST until the last feed had the notification.
    feeds: Duration,
    /// From the POST until the SMTP server had accepted every mail.
    mailed: Option<Duration>,
}

async fn one_send(binary: &Path, users: usize, mail: bool) -> anyhow::Result<Measured> {
    let files = tempfile::tempdir()?;
    let types_file = files.path().join("types.toml");
    std::fs::write(&types_file, types(mail))?;
    let sink = if mail { Some(Sink::start()?) } else { None };
    let mut extra = vec!["--types".to_owned(), types_file.display().to_string()];
    if let Some(sink) = &sink {
        extra.extend([
            "--smtp".to_owned(),
            format!("smtp://127.0.0.1:{}", sink.port),
            "--public-url".to_owned(),
            "https://hub.example.org".to_owned(),
        ]);
    }
    let hub = Hub::start_with(binary, 256, &extra).await?;
    let app = hub.cli(&["token", "add", "--app", "bench"])?;
    let client = reqwest::Client::new();
    let (base, admin) = (hub.base.clone(), hub.admin().to_owned());
    let setup = Instant::now();
    let tokens: Vec<String> = stream::iter(0..users)
        .map(|i| {
            let (client, base, admin) = (client.clone(), base.clone(), admin.clone());
            async move {
                let name = format!("user{i:05}");
                let made = client
                    .post(format!("{base}/v1/admin/users"))
                    .bearer_auth(&admin)
                    .json(&json!({"name": name, "email": format!("{name}@example.org")}))
                    .send()
                    .await?;
                let made: serde_json::Value = made.error_for_status()?.json().await?;
                client
                    .put(format!("{base}/v1/admin/users/{name}/roles/everyone-here"))
                    .bearer_auth(&admin)
                    .send()
                    .await?
                    .error_for_status()?;
                anyhow::Ok(made["token"].as_str().context("no token")?.to_owned())
            }
        })
        .buffer_unordered(16)
        .try_collect()
        .await?;
    let feeds = crate::connect_feeds(&hub.base, &tokens).await?;
    eprintln!(
        "(set-up, mail {}: {users} users and feeds in {:.1} s)",
        if mail { "on" } else { "off" },
        setup.elapsed().as_secs_f64()
    );

    let (arrivals, go) = crate::await_change_on_each(feeds);
    let started = Instant::now();
    go.send_replace(Some(started));
    let res = client
        .post(format!("{}/v1/notifications", hub.base))
        .bearer_auth(&app)
        .json(&json!({"to": {"role": "everyone-here"}, "type": "bench.notice", "subject": "The system shuts down at 18:00"}))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("the send failed: {}", res.status());
    }
    let mut last = Duration::ZERO;
    let mut keep = Vec::with_capacity(users);
    for arrival in arrivals {
        let (at, ws) = arrival.await??;
        last = last.max(at);
        keep.push(ws);
    }
    let mailed = match &sink {
        None => None,
        Some(sink) => {
            let deadline = started + Duration::from_secs(900);
            loop {
                if sink.accepted()? >= users {
                    break Some(started.elapsed());
                }
                if Instant::now() > deadline {
                    bail!("only {} of {users} mails accepted in 15 minutes", sink.accepted()?);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    drop(keep);
    hub.stop();
    Ok(Measured { feeds: last, mailed })
}
