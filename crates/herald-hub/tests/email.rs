//! Email (issue 19) through a real hub to a real SMTP server (aiosmtpd, scripts/smtp-sink.py,
//! receiving over TCP): immediate mail with its text and escaped HTML parts and a Message-ID of
//! the notification's; a recipient with no address counted, not mailed; an `unread` mail sent
//! only for what is still unread when it is due; the server down, then up: nothing lost,
//! nothing twice; a permanent refusal recorded and not retried.

mod common;

use std::time::Duration;

use common::smtp::*;
use common::*;

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

/// An unauthenticated request, as a mail client or a browser opening a link makes it.
async fn open_link(
    hub: &Hub,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> (u16, String, reqwest::header::HeaderMap) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = hub.client.request(method, format!("{}{path}", hub.base));
    if let Some(form) = form {
        request = request.header("content-type", "application/x-www-form-urlencoded").body(form.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

fn email_of(preferences: &Value, kind: &str) -> Value {
    let row = preferences["types"].as_array().unwrap().iter().find(|t| t["type"] == kind).unwrap();
    row["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "email").unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_unsubscribe_by_post_stops_that_types_mail_and_a_get_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    send(&hub, "ops.alert", "First alert").await;
    let mails = sink.wait_for(1).await;
    assert_eq!(header(&mails[0], "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = header(&mails[0], "List-Unsubscribe").expect("a List-Unsubscribe header");
    let url = unsubscribe.strip_prefix('<').and_then(|u| u.strip_suffix('>')).expect("one <URL>");
    assert!(url.starts_with("https://hub.example.org/v1/email/unsubscribe/"), "{url}");
    let path = hub_path(url);

    // A link scanner's GET: a page with the button, and nothing changed.
    let (status, page, headers) = open_link(&hub, "GET", &path, None).await;
    assert_eq!(status, 200, "{page}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert!(page.contains("<form method=\"post\">") && page.contains("Alerts") && page.contains("bob"), "{page}");
    assert_eq!(email_of(&hub.get(&hub.bob, "/v1/preferences").await.1, "ops.alert")["on"], true);

    // A forged or altered token: refused, nothing changed.
    let altered = format!("{}x", path);
    for method in ["GET", "POST"] {
        let (status, page, _) = open_link(&hub, method, &altered, Some("List-Unsubscribe=One-Click")).await;
        assert_eq!(status, 403, "{method}: {page}");
    }
    let (status, _, _) = open_link(&hub, "POST", "/v1/email/unsubscribe/bm90LXNpZ25lZA.AAAA", None).await;
    assert_eq!(status, 403);
    assert_eq!(email_of(&hub.get(&hub.bob, "/v1/preferences").await.1, "ops.alert")["on"], true);

    // The mail client's one-click POST (RFC 8058): that type's mail is off for bob.
    let (status, page, _) = open_link(&hub, "POST", &path, Some("List-Unsubscribe=One-Click")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No more email about") && page.contains("Alerts"), "{page}");
    let email = email_of(&hub.get(&hub.bob, "/v1/preferences").await.1, "ops.alert");
    assert_eq!((email["on"].clone(), email["source"].clone()), (json!(false), json!("user")), "{email}");

    // The next alert reaches bob's inbox but not his mail; other mail still comes.
    send(&hub, "ops.alert", "Second alert").await;
    send(&hub, "ops.other", "Something else").await;
    let mails = sink.wait_for(2).await;
    assert!(mails[1].contains("Subject: Something else"), "{}", mails[1]);
    wait_for_stats(&hub, "the other mail sent", |s| s["sent"] == 2 && s["queued"] == 0).await;
    assert_eq!(sink.mails().len(), 2, "no mail of the second alert");
    let (_, listed) = hub.get(&hub.bob, "/v1/notifications").await;
    assert!(listed["items"].as_array().unwrap().iter().any(|n| n["subject"] == "Second alert"), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_mail_links_each_button_to_a_page_that_asks_once_and_records_the_answer_once() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    let body = json!({
        "to": {"users": ["bob"]}, "type": "ops.alert", "subject": "Approve PO-42?",
        "buttons": [{"value": "approve", "label": "Approve"}, {"value": "reject", "label": "Reject"}],
    });
    let (status, sent) = hub.post(&hub.app, "/v1/notifications", body.to_string()).await;
    assert_eq!(status, 200, "{sent}");
    let id = sent["ids"][0].as_i64().unwrap();
    let mail = &sink.wait_for(1).await[0];
    let text = text_part(mail);
    let approve = text
        .lines()
        .find_map(|l| l.strip_prefix("Approve: "))
        .unwrap_or_else(|| panic!("an Approve link in the text part: {text}"));
    assert!(approve.contains("/v1/email/answer/") && approve.ends_with("?value=approve"), "{approve}");
    let html = quoted_printable(mail.split("text/html").nth(1).unwrap());
    assert!(html.contains(">Approve</a>") && html.contains(">Reject</a>"), "{html}");
    let path = hub_path(approve);

    // Opening the link asks once more and records nothing.
    let (status, page, _) = open_link(&hub, "GET", &path, None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Answer <strong>Approve</strong>?") && page.contains("Approve PO-42?"), "{page}");
    assert!(page.contains("name=\"value\" value=\"approve\"") && !page.contains("value=\"reject\""), "{page}");
    let (_, now) = hub.get(&hub.bob, &format!("/v1/notifications/{id}")).await;
    assert!(now["answer"].is_null(), "{now}");

    // The page's button records the answer, as the API's confirm does.
    let page_path = path.split('?').next().unwrap();
    let (status, page, _) = open_link(&hub, "POST", page_path, Some("value=approve")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Answer recorded") && page.contains("<strong>Approve</strong>"), "{page}");
    let (_, now) = hub.get(&hub.bob, &format!("/v1/notifications/{id}")).await;
    assert_eq!((now["answer"]["value"].clone(), now["read"].clone()), (json!("approve"), json!(true)), "{now}");

    // A second use (another button, or the same again) shows the answer recorded.
    let (status, page, _) = open_link(&hub, "POST", page_path, Some("value=reject")).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Already answered") && page.contains("<strong>Approve</strong>"), "{page}");
    let (status, page, _) = open_link(&hub, "GET", &path, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Already answered") && !page.contains("<form"), "{page}");
    let (_, now) = hub.get(&hub.bob, &format!("/v1/notifications/{id}")).await;
    assert_eq!(now["answer"]["value"], "approve", "{now}");

    // A token of another notification's made up, or cut short: refused.
    let (status, _, _) = open_link(&hub, "POST", &page_path[..page_path.len() - 3], Some("value=reject")).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_lists_what_is_still_unread_newest_first_once() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    let first = send(&hub, "community.comment", "First comment").await;
    let read = send(&hub, "community.comment", "Read before the digest").await;
    let last = send(&hub, "community.comment", "Last comment").await;
    let (status, _) =
        hub.post(&hub.bob, "/v1/notifications/read", json!({"ids": [read], "read": true}).to_string()).await;
    assert_eq!(status, 200);
    wait_for_stats(&hub, "three held", |s| s["held"] == 3).await;

    // Before bob's digest hour nothing is due; a day later it is.
    let schedule = herald_hub::mail::digest::DigestSchedule::default();
    let now = jiff::Timestamp::now();
    let none =
        herald_hub::mail::digest::run_due(&hub.store, &schedule, None, Some(now - jiff::SignedDuration::from_secs(1)))
            .await
            .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let tomorrow = now + jiff::SignedDuration::from_hours(25);
    let runs = herald_hub::mail::digest::run_due(&hub.store, &schedule, None, Some(tomorrow)).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!((runs[0].1.listed, runs[0].1.skipped), (2, 1));

    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert!(mail.contains("Subject: 2 unread notifications in Herald"), "{mail}");
    assert!(mail.contains("X-Envelope: from=herald@example.org to=bob@example.org"), "{mail}");
    assert!(
        header(mail, "List-Unsubscribe").is_some() && header(mail, "Message-ID").unwrap().starts_with("<herald.digest")
    );
    let text = text_part(mail);
    let (at_last, at_first) = (text.find("Last comment").unwrap(), text.find("First comment").unwrap());
    assert!(at_last < at_first, "newest first: {text}");
    assert!(!text.contains("Read before the digest"), "{text}");
    assert!(text.contains(&format!("https://hub.example.org/#n={last}")) && text.contains(&format!("#n={first}")));
    let counts = wait_for_stats(&hub, "the digest sent", |s| s["sent"] == 1).await;
    assert_eq!(
        (counts["held"].clone(), counts["digested"].clone(), counts["skipped"].clone()),
        (json!(0), json!(2), json!(1)),
        "{counts}"
    );

    // Nothing held since: the next day's run sends nothing.
    let again = herald_hub::mail::digest::run_due(
        &hub.store,
        &schedule,
        None,
        Some(tomorrow + jiff::SignedDuration::from_hours(24)),
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "{again:?}");
    // Held and read before the digest: a run, but no mail.
    let only = send(&hub, "community.comment", "Read at once").await;
    hub.post(&hub.bob, "/v1/notifications/read", json!({"ids": [only], "read": true}).to_string()).await;
    let runs = herald_hub::mail::digest::run_due(&hub.store, &schedule, Some("bob".into()), None).await.unwrap();
    assert_eq!((runs.len(), runs[0].1.mail_id), (1, None), "{runs:?}");
    wait_for_stats(&hub, "skipped", |s| s["skipped"] == 2).await;
    let subjects: Vec<Option<String>> = sink.mails().iter().map(|m| header(m, "Subject")).collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");

    // The digest's unsubscribe link stops the types it listed, and what is still held of them.
    send(&hub, "community.comment", "Held when bob unsubscribes").await;
    wait_for_stats(&hub, "one held", |s| s["held"] == 1).await;
    let link = header(mail, "List-Unsubscribe").unwrap();
    let path = hub_path(link.trim_start_matches('<').trim_end_matches('>'));
    let (status, page, _) = open_link(&hub, "POST", &path, Some("List-Unsubscribe=One-Click")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Comments"), "{page}");
    let counts = stats(&hub).await;
    assert_eq!((counts["held"].clone(), counts["skipped"].clone()), (json!(0), json!(3)), "{counts}");
    assert_eq!(email_of(&hub.get(&hub.bob, "/v1/preferences").await.1, "community.comment")["on"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_removed_before_their_mail_is_queued_holds_up_nobody_elses() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(dir.path(), free_port());
    let hub = hub_mailing_to(sink.port).await;
    hub.store.add_user("carl").await.unwrap();
    assert!(hub.store.set_email("carl", Some("carl@example.org".into())).await.unwrap());
    let body = json!({"to": {"users": ["carl", "bob"]}, "type": "ops.alert", "subject": "To carl and bob"});
    let (status, sent) = hub.post(&hub.app, "/v1/notifications", body.to_string()).await;
    assert_eq!(status, 200, "{sent}");
    // Removed within the second a send's mail waits for its feeds.
    hub.store.remove_user("carl").await.unwrap();
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains("to=bob@example.org"), "{}", mails[0]);
    send(&hub, "ops.alert", "And the next one").await;
    let mails = sink.wait_for(2).await;
    assert!(mails.iter().all(|m| !m.contains("carl@")), "{mails:?}");
    wait_for_stats(&hub, "both sent", |s| s["sent"] == 2 && s["queued"] == 0).await;
}
