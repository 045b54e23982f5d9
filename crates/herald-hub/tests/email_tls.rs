//! Mail over TLS to a real SMTP server (aiosmtpd, scripts/smtp-sink.py) with a certificate from
//! a private CA, requiring AUTH: `smtp+starttls://` and `smtps://`, each trusting the CA given
//! as `--smtp-ca`; without it the server's certificate is not trusted and nothing is sent.

mod common;

use std::path::Path;
use std::time::Duration;

use common::smtp::*;
use common::*;

/// A private CA and a certificate for 127.0.0.1 from it (`herald-hub tls-init`): ca.pem,
/// hub.pem, hub.key in `dir`.
fn certificates(dir: &Path) {
    herald_hub::tls::issue_private_ca(&["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .write_to(dir)
        .unwrap();
}

async fn hub_mailing(smtp: &str, ca: Option<&Path>) -> Hub {
    let mut mail =
        herald_hub::mail::MailConfig::new(smtp, "Herald <herald@example.org>", "https://hub.example.org").unwrap();
    if let Some(ca) = ca {
        mail = mail.with_smtp_ca(std::fs::read(ca).unwrap()).unwrap();
    }
    let config = herald_hub::HubConfig { mail: Some(mail), ..herald_hub::HubConfig::default() };
    let hub = start_configured(Store::open_in_memory().unwrap(), config).await;
    assert!(hub.store.set_email("bob", Some("bob@example.org".into())).await.unwrap());
    hub
}

async fn send(hub: &Hub, subject: &str) {
    let body = json!({"to": {"users": ["bob"]}, "type": "system.maintenance", "subject": subject});
    let (status, sent) = hub.post(&hub.app, "/v1/notifications", body.to_string()).await;
    assert_eq!(status, 200, "{sent}");
}

async fn tls_mail_arrives(mode: &str, scheme: &str) {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let (cert, key) = (dir.path().join("hub.pem"), dir.path().join("hub.key"));
    let mail_dir = dir.path().join("mail");
    let port = free_port();
    let sink = Sink::start_with(
        &mail_dir,
        port,
        &[
            "--tls",
            mode,
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--user",
            "herald",
            "--password",
            "p@ss w:rd",
        ],
    );
    // The password percent-encoded in the URL, as an administrator writes it.
    let smtp = format!("{scheme}://herald:p%40ss%20w%3Ard@127.0.0.1:{port}");
    let hub = hub_mailing(&smtp, Some(&dir.path().join("ca.pem"))).await;
    send(&hub, &format!("Over {mode}")).await;
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains(&format!("Subject: Over {mode}")), "{}", mails[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_auth_to_a_server_of_a_private_ca() {
    tls_mail_arrives("starttls", "smtp+starttls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_with_auth_to_a_server_of_a_private_ca() {
    tls_mail_arrives("implicit", "smtps").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_not_trusted_sends_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let (cert, key) = (dir.path().join("hub.pem"), dir.path().join("hub.key"));
    let port = free_port();
    let sink = Sink::start_with(
        &dir.path().join("mail"),
        port,
        &["--tls", "implicit", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()],
    );
    let hub = hub_mailing(&format!("smtps://127.0.0.1:{port}"), None).await;
    send(&hub, "Never over an untrusted TLS").await;
    let Some(herald_hub::auth::Caller::User(bob)) = hub.store.caller_for_token(&hub.bob).await.unwrap() else {
        panic!()
    };
    let error = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let outcomes = hub.store.mail_outcomes(bob.id).await.unwrap();
            if let Some((_, _, Some(error))) =
                outcomes.iter().find(|(state, tries, _)| state == "queued" && *tries >= 1)
            {
                return error.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a failed try recorded");
    assert!(error.contains("TLS") && error.to_lowercase().contains("certificate"), "{error}");
    assert!(sink.mails().is_empty());
}
