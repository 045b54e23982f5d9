//! A notification as a mail: multipart text and HTML, the subject line from the notification,
//! a link to it in the web inbox, and a `Message-ID` derived from the hub and the notification,
//! so a mail sent twice (the one case: a crash between the server's acceptance and the queue's
//! mark) is recognisably the same mail. Every field is untrusted text: the HTML part escapes
//! each one and carries no markup of the sender's.

use herald_proto::Notification;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::MailConfig;

/// Why a mail cannot be written (never worth a retry).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the address {0:?} cannot receive mail: {1}")]
    BadAddress(String, String),
    #[error("the mail could not be built: {0}")]
    Build(String),
}

/// The web inbox at notification `id`.
pub fn inbox_link(config: &MailConfig, id: i64) -> String {
    format!("{}#n={id}", config.public_url)
}

/// `<herald.n{id}.{hub}@{host}>`: the same for every send of one notification's mail.
pub fn message_id(config: &MailConfig, hub_id: &str, notification_id: i64) -> String {
    let host = config.public_url.host_str().unwrap_or("herald.invalid");
    let hub: String = hub_id.chars().filter(char::is_ascii_alphanumeric).take(32).collect();
    format!("<herald.n{notification_id}.{hub}@{host}>")
}

/// The mail for `notification` to `to`.
pub fn notification_mail(
    config: &MailConfig,
    hub_id: &str,
    to: &str,
    notification: &Notification,
) -> Result<Message, ComposeError> {
    let to: Mailbox = to
        .parse()
        .map_err(|e: lettre::address::AddressError| ComposeError::BadAddress(to.to_owned(), e.to_string()))?;
    let link = inbox_link(config, notification.id);
    let text = text_part(notification, &link);
    let html = html_part(notification, &link);
    Message::builder()
        .from(config.from.clone())
        .to(to)
        .subject(one_line(&notification.subject))
        .message_id(Some(message_id(config, hub_id, notification.id)))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

/// A subject on one line: a line break in it would end the header.
fn one_line(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let line = line.trim();
    if line.is_empty() {
        "(no subject)".to_owned()
    } else {
        line.to_owned()
    }
}

fn text_part(n: &Notification, link: &str) -> String {
    let mut text = String::new();
    text.push_str(n.subject.trim());
    text.push_str("\n\n");
    if !n.body.trim().is_empty() {
        text.push_str(n.body.trim());
        text.push_str("\n\n");
    }
    if let Some(sender) = &n.sender {
        text.push_str(&format!("From {sender}\n"));
    }
    if !n.buttons.is_empty() {
        let choices: Vec<&str> = n.buttons.iter().map(|b| b.label.as_str()).collect();
        text.push_str(&format!("Answer ({}) in Herald:\n", choices.join(" / ")));
    } else {
        text.push_str("Open it in Herald:\n");
    }
    text.push_str(link);
    text.push('\n');
    text
}

fn html_part(n: &Notification, link: &str) -> String {
    let body = if n.body.trim().is_empty() {
        String::new()
    } else {
        format!("<p style=\"white-space:pre-wrap;margin:0 0 16px\">{}</p>", escape(n.body.trim()))
    };
    let sender = n
        .sender
        .as_deref()
        .map(|s| format!("<p style=\"color:#5f6673;margin:0 0 16px\">From {}</p>", escape(s)))
        .unwrap_or_default();
    let action = if n.buttons.is_empty() {
        "Open in Herald".to_owned()
    } else {
        let labels: Vec<String> = n.buttons.iter().map(|b| escape(&b.label)).collect();
        format!("Answer in Herald ({})", labels.join(" / "))
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#111827;max-width:560px\">\
         <h1 style=\"font-size:18px;margin:0 0 12px\">{subject}</h1>{body}{sender}\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:8px 16px;background:#2563eb;color:#ffffff;border-radius:6px;text-decoration:none\">{action}</a></p>\
         </body></html>",
        subject = escape(n.subject.trim()),
        link = escape(link),
    )
}

/// Text as HTML text or attribute value: the five characters that could start markup or end a
/// quoted attribute, escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MailConfig {
        MailConfig::new("smtp://127.0.0.1:2525", "Herald <herald@example.org>", "https://hub.example.org").unwrap()
    }

    fn note(subject: &str, body: &str) -> Notification {
        let mut n = Notification::plain(42, subject, "2026-12-04T08:00:00.000Z");
        n.body = body.into();
        n
    }

    #[test]
    fn markup_in_any_field_arrives_as_text() {
        let n = note("<script>alert(1)</script> & \"quotes\"", "<img src=x onerror=alert(2)>");
        let html = html_part(&n, "https://hub.example.org/#n=42");
        assert!(!html.contains("<script>") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    }

    #[test]
    fn the_mail_links_to_the_web_inbox_and_its_id_is_the_notifications() {
        let mail =
            notification_mail(&config(), "hub-1234", "ann@example.org", &note("PO 42\r\nBcc: x@evil", "b")).unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <herald.n42.hub1234@hub.example.org>"), "{raw}");
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.contains("\r\nBcc:"), "a line break in the subject makes no header: {headers}");
        assert!(headers.contains("Subject: PO 42  Bcc: x@evil"), "{headers}");
        assert!(raw.contains("https://hub.example.org/#n=42"));
        assert!(raw.contains("multipart/alternative"));
    }

    #[test]
    fn a_bad_address_is_a_permanent_error() {
        assert!(matches!(
            notification_mail(&config(), "h", "not an address", &note("s", "")),
            Err(ComposeError::BadAddress(..))
        ));
    }
}
