//! Email through `herald-hub serve` processes (issue 19): mail queued while the SMTP server is
//! down survives a kill -9 of the hub and arrives once when both are back; `herald-hub digest
//! send` run beside a serving hub gets the pending digest sent.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::smtp::*;
use serde_json::{json, Value};

const TYPES: &str = r#"
[defaults]
channels = ["inbox", "email"]
[[types]]
type = "ops.alert"
title = "Alerts"
[[types]]
type = "community.comment"
title = "Comments"
email = "digest"
"#;

fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-hub")).args(args).arg("--data").arg(data).output().unwrap();
    assert!(out.status.success(), "herald-hub {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A `herald-hub serve` process mailing through 127.0.0.1:`smtp_port`; killed (SIGKILL) when
/// dropped.
struct Serving {
    child: Child,
    base: String,
}

impl Serving {
    fn start(data: &Path, smtp_port: u16) -> Self {
        let types = data.join("types.toml");
        std::fs::write(&types, TYPES).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--types")
            .arg(&types)
            .args(["--smtp", &format!("smtp://127.0.0.1:{smtp_port}"), "--public-url", "https://hub.example.org"])
            .env("HERALD_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let addr = first.trim().strip_prefix("herald-hub listening on ").unwrap_or_else(|| panic!("{first:?}"));
        Self { child, base: addr.to_owned() }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> Value {
    let response =
        reqwest::Client::new().post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.unwrap()
}

async fn mail_counts(base: &str, admin: &str) -> Value {
    let response =
        reqwest::Client::new().get(format!("{base}/v1/admin/stats")).bearer_auth(admin).send().await.unwrap();
    response.json::<Value>().await.unwrap()["mail"].clone()
}

async fn wait_for_counts(base: &str, admin: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let counts = mail_counts(base, admin).await;
            if check(&counts) {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_survives_a_kill_of_the_hub_and_arrives_once_and_digest_send_sends_the_digest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    std::fs::create_dir_all(&data).unwrap();
    cli(&data, &["user", "add", "bob", "--email", "bob@example.org"]);
    let app = cli(&data, &["token", "add", "--app", "erp"]).trim().to_owned();
    let admin = cli(&data, &["token", "add", "--admin"]).trim().to_owned();
    let port = free_port();

    // Five alerts while the mail server is down: each tried, failed, kept.
    let hub = Serving::start(&data, port);
    for i in 1..=5 {
        let body = json!({"to": {"users": ["bob"]}, "type": "ops.alert", "subject": format!("Alert {i}")});
        post(&hub.base, &app, "/v1/notifications", body).await;
    }
    wait_for_counts(&hub.base, &admin, "five tried and queued", |c| c["queued"] == 5).await;
    // kill -9: no shutdown, no flush.
    drop(hub);

    let sinks = tempfile::tempdir().unwrap();
    let sink = Sink::start(sinks.path(), port);
    let hub = Serving::start(&data, port);
    let mails = sink.wait_for(5).await;
    wait_for_counts(&hub.base, &admin, "five sent", |c| c["sent"] == 5 && c["queued"] == 0).await;
    let mut ids: Vec<String> = sink.mails().iter().map(|m| header(m, "Message-ID").unwrap()).collect();
    assert_eq!(ids.len(), 5, "{mails:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "each alert once: {ids:?}");

    // Digest mail waits for the digest hour; `digest send` beside the serving hub sends it now.
    for subject in ["A comment", "Another comment"] {
        let body = json!({"to": {"users": ["bob"]}, "type": "community.comment", "subject": subject});
        post(&hub.base, &app, "/v1/notifications", body).await;
    }
    wait_for_counts(&hub.base, &admin, "two held", |c| c["held"] == 2).await;
    let said = cli(&data, &["digest", "send", "--user", "bob"]);
    assert!(said.contains("bob: a digest of 2 unread queued"), "{said}");
    let mails = sink.wait_for(6).await;
    let digest = mails.iter().find(|m| m.contains("Subject: 2 unread notifications in Herald")).expect("the digest");
    assert!(digest.contains("Another comment") && digest.contains("A comment"), "{digest}");
    wait_for_counts(&hub.base, &admin, "the digest sent", |c| c["sent"] == 6 && c["queued"] == 0).await;
    let again = cli(&data, &["digest", "send"]);
    assert!(again.contains("0 digest(s) queued"), "nothing more held: {again}");
    assert_eq!(sink.mails().len(), 6);
}
