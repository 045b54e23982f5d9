//! `herald-hub demo`: the kind of traffic a business system sends (seeds 000–004: replies,
//! approvals, due tasks, calls, shutdown warnings, mentions, orders), one every few seconds,
//! through the public HTTP API like any other sender.

use std::time::Duration;

use serde_json::json;

/// (subject, body, link)
const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "Ann Lee replied to your comment",
        "“Agreed — let's move the launch to Thursday.” on Q4 launch plan",
        "/posts/q4-launch#c-118",
    ),
    (
        "PO-2026-0042 needs your approval",
        "Purchase order from Globex Ltd, 12 400.00 EUR, requested by Finance.",
        "/purchase/orders/2026-0042",
    ),
    ("Task due in 15 minutes", "Send the signed contract to Acme Corp.", "/tasks/5521"),
    ("Incoming call from +1 555 0134", "Mark Chen, Initech — about the renewal quote.", "/calls/live"),
    ("System shutdown in 10 minutes", "Herald ERP goes down for maintenance at 18:00 UTC. Save your work.", "/status"),
    (
        "Mark Chen mentioned you",
        "@you can you double-check the figures in ‘Release notes 4.2’?",
        "/docs/release-notes-4-2",
    ),
    ("New order #10482", "Globex Ltd ordered 40 × Widget Pro. Delivery requested for Friday.", "/orders/10482"),
    ("Invoice INV-3391 was paid", "Acme Corp paid 3 150.00 EUR by bank transfer.", "/invoices/3391"),
    (
        "Meeting invitation: Sprint review",
        "Tomorrow 10:00–11:00, room Atlas. Accept or decline.",
        "/calendar/events/883",
    ),
    (
        "Your comment was hidden by a moderator",
        "Reason: off-topic. You can edit it and ask for a review.",
        "/community/posts/77#c-9",
    ),
];

pub async fn run(server: &str, token: &str, to: &str, every: Duration) -> anyhow::Result<()> {
    let url = format!("{}/v1/notifications", server.trim_end_matches('/'));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let mut ticker = tokio::time::interval(every);
    // The first one waits a period too, so an agent started alongside is connected and shows it
    // as news rather than history.
    ticker.reset();
    for (subject, body, link) in CATALOGUE.iter().cycle() {
        ticker.tick().await;
        let response = http
            .post(&url)
            .bearer_auth(token)
            .json(&json!({"to": {"user": to}, "subject": subject, "body": body, "link": link}))
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => println!("sent to {to}: {subject}"),
            Ok(r) => eprintln!("the hub refused: {} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => eprintln!("cannot reach the hub: {e}"),
        }
    }
    unreachable!("the catalogue cycles forever")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_fits_what_the_hub_accepts() {
        for (subject, body, link) in CATALOGUE {
            assert!(!subject.trim().is_empty());
            assert!(
                json!({"to": {"user": "x"}, "subject": subject, "body": body, "link": link}).to_string().len()
                    < herald_proto::MAX_BODY_BYTES
            );
        }
    }
}
