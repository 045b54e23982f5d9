//! `herald-hub demo`: the kind of traffic a business system sends (seeds 000–004: replies,
//! approvals, due tasks, calls, shutdown warnings, mentions, orders), one every few seconds,
//! through the public HTTP API like any other sender.

use std::time::Duration;

use serde_json::json;

/// What one step of the demo sends: a stored notification or a live event.
enum Step {
    Notification(serde_json::Value),
    Live(serde_json::Value),
}

/// The demo's traffic, in order; it cycles. Fields are those of `POST /v1/notifications` and
/// `POST /v1/events` without `to`.
fn catalogue() -> Vec<Step> {
    use Step::{Live, Notification};
    vec![
        Notification(json!({
            "type": "community.comment", "subject": "Ann Lee replied to your comment",
            "body": "“Agreed — let's move the launch to Thursday.” on Q4 launch plan",
            "link": "/posts/q4-launch#c-118", "reply": {"placeholder": "Reply to Ann"},
        })),
        Notification(json!({
            "type": "purchase.approval", "subject": "PO-2026-0042 needs your approval",
            "body": "Purchase order from Globex Ltd, 12 400.00 EUR, requested by Finance.",
            "link": "/purchase/orders/2026-0042", "tag": "po-2026-0042", "priority": "high",
            "object": {"type": "purchase.order", "id": "2026-0042"},
            "buttons": [{"value": "approve", "label": "Approve", "style": "accept"},
                        {"value": "reject", "label": "Reject", "style": "cancel"}],
        })),
        Notification(json!({
            "type": "task.due", "subject": "Task due in 15 minutes",
            "body": "Send the signed contract to Acme Corp.", "link": "/tasks/5521", "tag": "task-5521",
        })),
        Live(json!({
            "kind": "call", "ttl_seconds": 30, "title": "Incoming call from +1 555 0134",
            "body": "Mark Chen, Initech — about the renewal quote.",
            "actions": [{"value": "answer", "label": "Answer", "style": "accept"},
                        {"value": "decline", "label": "Decline", "style": "cancel"}],
            "notification": {"type": "phone.missed_call", "subject": "Call from Mark Chen, Initech",
                             "body": "+1 555 0134 — about the renewal quote.", "tag": "call-mark-chen"},
        })),
        Notification(json!({
            "type": "community.mention", "subject": "Mark Chen mentioned you",
            "body": "@you can you double-check the figures in ‘Release notes 4.2’?", "link": "/docs/release-notes-4-2",
        })),
        Live(json!({
            "kind": "shutdown", "ttl_seconds": 600, "title": "System shutdown in 10 minutes",
            "body": "Herald ERP goes down for maintenance. Save your work.",
        })),
        Notification(json!({
            "type": "crm.order_changed", "subject": "New order #10482",
            "body": "Globex Ltd ordered 40 × Widget Pro. Delivery requested for Friday.", "link": "/orders/10482",
        })),
        Notification(json!({
            "type": "crm.order_changed", "subject": "Invoice INV-3391 was paid",
            "body": "Acme Corp paid 3 150.00 EUR by bank transfer.", "link": "/invoices/3391", "priority": "low",
        })),
        Notification(json!({
            "type": "task.assigned", "subject": "Meeting invitation: Sprint review",
            "body": "Tomorrow 10:00–11:00, room Atlas.", "link": "/calendar/events/883",
            "buttons": [{"value": "Y", "label": "Accept", "style": "accept"}, {"value": "N", "label": "Decline", "style": "cancel"}],
        })),
        Notification(json!({
            "type": "community.moderation", "subject": "Your comment was hidden by a moderator",
            "body": "Reason: off-topic. You can edit it and ask for a review.", "link": "/community/posts/77#c-9",
        })),
    ]
}

pub async fn run(server: &str, token: &str, to: &str, every: Duration) -> anyhow::Result<()> {
    let base = server.trim_end_matches('/');
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let mut ticker = tokio::time::interval(every);
    // The first one waits a period too, so an agent started alongside is connected and shows it
    // as news rather than history.
    ticker.reset();
    for step in catalogue().iter().cycle() {
        ticker.tick().await;
        let (path, mut body) = match step {
            Step::Notification(fields) => ("notifications", fields.clone()),
            Step::Live(fields) => {
                let mut fields = fields.clone();
                if fields["kind"] == "shutdown" {
                    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
                    fields["at"] = json!(at.format(&time::format_description::well_known::Rfc3339)?);
                }
                ("events", fields)
            }
        };
        body["to"] = json!({"user": to});
        let response = http.post(format!("{base}/v1/{path}")).bearer_auth(token).json(&body).send().await;
        let what = body["subject"].as_str().or(body["title"].as_str()).unwrap_or_default().to_owned();
        match response {
            Ok(r) if r.status().is_success() => println!("sent to {to}: {what}"),
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
    fn the_catalogue_parses_as_the_requests_the_hub_takes() {
        for step in catalogue() {
            match step {
                Step::Notification(mut fields) => {
                    fields["to"] = json!({"user": "x"});
                    serde_json::from_value::<herald_proto::SendRequest>(fields).unwrap();
                }
                Step::Live(mut fields) => {
                    fields["to"] = json!({"user": "x"});
                    serde_json::from_value::<herald_proto::LiveEventRequest>(fields).unwrap();
                }
            }
        }
    }
}
