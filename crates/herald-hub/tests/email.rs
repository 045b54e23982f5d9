//! Email (issue 19) through a real hub to a real SMTP server (aiosmtpd, scripts/smtp-sink.py,
//! receiving over TCP): immediate mail with its text and escaped HTML parts and a Message-ID of
//! the notification's; a recipient with no address counted, not mailed; an `unread` mail sent
//! only for what is still unread when it is due; the server down, then up: nothing lost,
//! nothing twice; a permanent refusal recorded and not retried.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// The SMTP server, with each accepted mail kept as a file.
struct Sink {
    port: u16,
    dir: PathBuf,
    child: Child,
}

fn python() -> PathBuf {
    let venv = std::env::var_os("HERALD_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/herald/venv"));
    venv.join("bin/python")
}

impl Sink {
    fn start(dir: &Path, port: u16) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("aiosmtpd in the test virtualenv (scripts/install-deps.sh installs it)");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert!(line.starts_with("listening"), "the SMTP server did not start: {line:?}");
        Self { port, dir: dir.to_owned(), child }
    }

    /// The mails received so far, oldest first.
    fn mails(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }

    async fn wait_for(&self, count: usize) -> Vec<String> {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let mails = self.mails();
                if mails.len() >= count {
                    return mails;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{count} mails did not arrive; got {}", self.mails().len()))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A quoted-printable body as text (RFC 2045: `=XX` bytes, `=` at a line's end joins lines).
fn quoted_printable(encoded: &str) -> String {
    let joined = encoded.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const TYPES: &str = r#"
[defaults]
channels = ["inbox", "web_push", "email"]
[[types]]
type = "ops.alert"
title = "Alerts"
[[types]]
type = "task.assigned"
title = "Tasks"
email = "unread"
email_after_minutes = 0.03
[[types]]
type = "community.comment"
title = "Comments"
email = "digest"
"#;

async fn hub_mailing_to(port: u16) -> Hub {
    let config = herald_hub::HubConfig {
        mail: Some(
            herald_hub::mail::MailConfig::new(
                &format!("smtp://127.0.0.1:{port}"),
                "Herald <herald@example.org>",
                "https://hub.example.org",
            )
            .unwrap(),
        ),
        types: std::sync::Arc::new(herald_hub::types::TypeRegistry::parse(TYPES).unwrap()),
        ..herald_hub::HubConfig::default()
    };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    assert!(hub.store.set_email("bob", Some("bob@example.org".into())).await.unwrap());
    hub
}

async fn send(hub: &Hub, kind: &str, subject: &str) -> i64 {
    let body =
        json!({"to": {"users": ["bob", "alice"]}, "type": kind, "subject": subject, "body": "<b>bold?</b> & more"});
    let (status, sent) = hub.post(&hub.app, "/v1/notifications", body.to_string()).await;
    assert_eq!(status, 200, "{sent}");
    sent["ids"][0].as_i64().unwrap()
}

async fn stats(hub: &Hub) -> Value {
    let admin = hub.store.add_admin_token().await.unwrap();
    hub.get(&admin, "/v1/admin/stats").await.1["mail"].clone()
}

async fn wait_for_stats(hub: &Hub, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let now = stats(hub).await;
            if check(&now) {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immediate_mail_arrives_as_text_and_escaped_html_and_nobody_without_an_address_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    let id = send(&hub, "ops.alert", "Disk <script>alert(1)</script> full").await;
    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert!(mail.contains("X-Envelope: from=herald@example.org to=bob@example.org"), "{mail}");
    assert!(mail.contains("Subject: Disk <script>alert(1)</script> full"), "the subject is the notification's");
    assert!(mail.contains(&format!("Message-ID: <herald.n{id}.")), "{mail}");
    assert!(mail.contains("multipart/alternative") && mail.contains("text/plain") && mail.contains("text/html"));
    let html = quoted_printable(mail.split("text/html").nth(1).unwrap());
    assert!(html.contains("Disk &lt;script&gt;alert(1)&lt;/script&gt; full"), "{html}");
    assert!(html.contains("&lt;b&gt;bold?&lt;/b&gt; &amp; more") && !html.contains("<b>"), "{html}");
    assert!(mail.contains(&format!("https://hub.example.org/#n={id}")), "a link to it in the web inbox");
    let counts = wait_for_stats(&hub, "the mail counted", |s| s["sent"] == 1).await;
    assert_eq!(counts["no_address"], 1, "alice has no address: {counts}");
    assert_eq!(counts["queued"], 0);
    assert_eq!(sink.mails().len(), 1, "one mail: bob's");

    // A digest-mode type is held for the daily digest, not sent now.
    send(&hub, "community.comment", "A comment on your post").await;
    wait_for_stats(&hub, "the comment held", |s| s["held"] == 1).await;
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_mail_goes_only_for_what_is_still_unread_when_it_is_due() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    let read_in_time = send(&hub, "task.assigned", "Read before its mail is due").await;
    let (status, body) = hub.post(&hub.bob, &format!("/v1/notifications/{read_in_time}/read"), "").await;
    assert_eq!(status, 200, "{body}");
    send(&hub, "task.assigned", "Still unread").await;
    let counts = wait_for_stats(&hub, "both decided", |s| s["sent"] == 1 && s["skipped"] == 1).await;
    assert_eq!(counts["queued"], 0, "{counts}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Still unread"), "{}", mails[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_the_server_is_down_arrives_once_it_is_up_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let hub = hub_mailing_to(port).await;
    send(&hub, "ops.alert", "Sent while the mail server is down").await;
    let bob = hub.store.caller_for_token(&hub.bob).await.unwrap();
    let Some(herald_hub::auth::Caller::User(bob)) = bob else { panic!() };
    // Tried and failed at least once, and kept.
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let outcomes = hub.store.mail_outcomes(bob.id).await.unwrap();
            if outcomes.iter().any(|(state, tries, _)| state == "queued" && *tries >= 1) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a failed try recorded");
    let outcomes = hub.store.mail_outcomes(bob.id).await.unwrap();
    assert!(outcomes[0].2.as_deref().unwrap_or_default().contains("SMTP server"), "{outcomes:?}");

    let sink = Sink::start(dir.path(), port);
    sink.wait_for(1).await;
    wait_for_stats(&hub, "sent", |s| s["sent"] == 1 && s["queued"] == 0).await;
    assert_eq!(sink.mails().len(), 1, "once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_recorded_and_not_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refuse"), "bob@example.org\n").unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    send(&hub, "ops.alert", "To a mailbox that does not exist").await;
    let counts = wait_for_stats(&hub, "refused", |s| s["failed"] == 1).await;
    assert_eq!(counts["queued"], 0, "{counts}");
    let bob = match hub.store.caller_for_token(&hub.bob).await.unwrap() {
        Some(herald_hub::auth::Caller::User(bob)) => bob,
        other => panic!("{other:?}"),
    };
    let outcomes = hub.store.mail_outcomes(bob.id).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    let (state, tries, error) = &outcomes[0];
    assert_eq!((state.as_str(), *tries), ("failed", 1), "{error:?}");
    assert!(error.as_deref().unwrap_or_default().contains("550"), "{error:?}");
    assert!(sink.mails().is_empty());
}
