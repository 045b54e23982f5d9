//! A notification as a mail: multipart text and HTML, the subject line from the notification,
//! a link to it in the web inbox, and a `Message-ID` derived from the hub and the notification,
//! so a mail sent twice (the one case: a crash between the server's acceptance and the queue's
//! mark) is recognisably the same mail. Every field is untrusted text: the HTML part escapes
//! each one and carries no markup of the sender's.

use herald_proto::Notification;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::links::Link;
use super::MailConfig;

/// At most this many notifications are listed in one digest; the rest are counted.
pub const DIGEST_LISTED: usize = 50;

/// Who a mail is for, and what signs its links.
pub struct Recipient<'a> {
    pub user_id: i64,
    pub address: &'a str,
    /// The hub's mail key (`Store::mail_key`).
    pub key: &'a [u8],
}

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
    to: &Recipient,
    notification: &Notification,
) -> Result<Message, ComposeError> {
    let link = inbox_link(config, notification.id);
    let answers = answer_links(config, to, notification);
    let text = text_part(notification, &link, &answers);
    let html = html_part(notification, &link, &answers);
    let unsubscribe = Link::Unsubscribe { user_id: to.user_id, kinds: vec![notification.kind.clone()] };
    build(
        config,
        to,
        &one_line(&notification.subject),
        message_id(config, hub_id, notification.id),
        &unsubscribe,
        text,
        html,
    )
}

/// One daily digest to `to`: `items` (still unread, newest first), at most [`DIGEST_LISTED`]
/// of them listed and the rest counted.
pub fn digest_mail(
    config: &MailConfig,
    hub_id: &str,
    to: &Recipient,
    mail_id: i64,
    items: &[Notification],
) -> Result<Message, ComposeError> {
    let subject = match items.len() {
        1 => "1 unread notification in Herald".to_owned(),
        n => format!("{n} unread notifications in Herald"),
    };
    let listed = &items[..items.len().min(DIGEST_LISTED)];
    let more = items.len() - listed.len();
    let inbox = config.public_url.to_string();

    let mut text = format!("{subject}\n\n");
    for n in listed {
        text.push_str(&format!("- {}\n", one_line(&n.subject)));
        if let Some(sender) = &n.sender {
            text.push_str(&format!("  From {}\n", one_line(sender)));
        }
        text.push_str(&format!("  {}\n", inbox_link(config, n.id)));
    }
    if more > 0 {
        text.push_str(&format!("\n… and {more} more: {inbox}\n"));
    }
    text.push_str(&format!("\nOpen Herald: {inbox}\n"));

    let mut rows = String::new();
    for n in listed {
        let sender = n
            .sender
            .as_deref()
            .map(|s| format!("<br><span style=\"color:#5f6673\">From {}</span>", escape(s)))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<li style=\"margin:0 0 12px\"><a href=\"{}\" style=\"color:#1d4ed8\">{}</a>{sender}</li>",
            escape(&inbox_link(config, n.id)),
            escape(&one_line(&n.subject)),
        ));
    }
    let more_html = if more > 0 {
        format!("<p>… and {more} more in <a href=\"{}\">Herald</a>.</p>", escape(&inbox))
    } else {
        String::new()
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#111827;max-width:560px\">\
         <h1 style=\"font-size:18px;margin:0 0 12px\">{subject}</h1><ul style=\"padding-left:20px\">{rows}</ul>{more_html}\
         <p><a href=\"{inbox}\">Open Herald</a></p></body></html>",
        subject = escape(&subject),
        inbox = escape(&inbox),
    );
    // Unsubscribing from a digest stops mail of every type it lists (kept with the digest).
    let unsubscribe = Link::UnsubscribeDigest { user_id: to.user_id, mail_id };
    build(config, to, &subject, digest_message_id(config, hub_id, mail_id), &unsubscribe, text, html)
}

/// `<herald.digest{mail}.{hub}@{host}>`: one per digest mail, the same on a resend.
pub fn digest_message_id(config: &MailConfig, hub_id: &str, mail_id: i64) -> String {
    message_id(config, hub_id, mail_id).replacen("herald.n", "herald.digest", 1)
}

/// Where a signed link leads: `v1/email/{what}/{token}` under the public URL.
pub fn signed_url(config: &MailConfig, what: &str, link: &Link, key: &[u8]) -> String {
    format!("{}v1/email/{what}/{}", config.public_url, link.sign(key))
}

/// Each button of a confirm-type notification as (label, link to the page that asks once more).
fn answer_links(config: &MailConfig, to: &Recipient, n: &Notification) -> Vec<(String, String)> {
    if n.buttons.is_empty() || n.answer.is_some() {
        return Vec::new();
    }
    let page = signed_url(config, "answer", &Link::Answer { user_id: to.user_id, notification_id: n.id }, to.key);
    n.buttons
        .iter()
        .map(|b| {
            let value: String = url::form_urlencoded::byte_serialize(b.value.as_bytes()).collect();
            (b.label.clone(), format!("{page}?value={value}"))
        })
        .collect()
}

fn build(
    config: &MailConfig,
    to: &Recipient,
    subject: &str,
    message_id: String,
    unsubscribe: &Link,
    text: String,
    html: String,
) -> Result<Message, ComposeError> {
    let address: Mailbox = to
        .address
        .parse()
        .map_err(|e: lettre::address::AddressError| ComposeError::BadAddress(to.address.to_owned(), e.to_string()))?;
    Message::builder()
        .from(config.from.clone())
        .to(address)
        .subject(subject)
        .message_id(Some(message_id))
        .header(ListUnsubscribe(signed_url(config, "unsubscribe", unsubscribe, to.key)))
        .header(ListUnsubscribePost)
        .header(AutoSubmitted)
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

/// `List-Unsubscribe: <URL>` (RFC 2369), one HTTPS link, with [`ListUnsubscribePost`] for
/// one-click (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().trim_start_matches('<').trim_end_matches('>').to_owned()))
    }

    fn display(&self) -> HeaderValue {
        // Pre-encoded: the URL is ASCII without spaces, and must not be folded or encoded.
        let value = format!("<{}>", self.0);
        HeaderValue::dangerous_new_pre_encoded(Self::name(), value.clone(), value)
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies are not sent to it.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
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

fn text_part(n: &Notification, link: &str, answers: &[(String, String)]) -> String {
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
    for (label, url) in answers {
        text.push_str(&format!("{}: {url}\n", one_line(label)));
    }
    if !answers.is_empty() {
        text.push('\n');
    }
    text.push_str("Open it in Herald:\n");
    text.push_str(link);
    text.push('\n');
    text
}

fn html_part(n: &Notification, link: &str, answers: &[(String, String)]) -> String {
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
    let buttons: String = answers
        .iter()
        .map(|(label, url)| {
            format!(
                "<a href=\"{}\" style=\"display:inline-block;margin:0 8px 8px 0;padding:8px 16px;background:#2563eb;color:#ffffff;border-radius:6px;text-decoration:none\">{}</a>",
                escape(url),
                escape(label)
            )
        })
        .collect();
    let buttons = if buttons.is_empty() { String::new() } else { format!("<p>{buttons}</p>") };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#111827;max-width:560px\">\
         <h1 style=\"font-size:18px;margin:0 0 12px\">{subject}</h1>{body}{sender}{buttons}\
         <p><a href=\"{link}\" style=\"color:#1d4ed8\">Open in Herald</a></p>\
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
        let html = html_part(
            &n,
            "https://hub.example.org/#n=42",
            &[("<b>Yes</b>".into(), "https://x/?value=\"><script>".into())],
        );
        assert!(!html.contains("<script>") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(html.contains("&lt;b&gt;Yes&lt;/b&gt;") && html.contains("value=&quot;&gt;&lt;script&gt;"), "{html}");
    }

    #[test]
    fn the_mail_links_to_the_web_inbox_and_its_id_is_the_notifications() {
        let to = Recipient { user_id: 3, address: "ann@example.org", key: b"key" };
        let mail = notification_mail(&config(), "hub-1234", &to, &note("PO 42\r\nBcc: x@evil", "b")).unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <herald.n42.hub1234@hub.example.org>"), "{raw}");
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.contains("\r\nBcc:"), "a line break in the subject makes no header: {headers}");
        assert!(headers.contains("Subject: PO 42  Bcc: x@evil"), "{headers}");
        assert!(raw.contains("https://hub.example.org/#n=42"));
        assert!(raw.contains("multipart/alternative"));
        assert!(headers.contains("\r\nList-Unsubscribe: <https://hub.example.org/v1/email/unsubscribe/"), "{headers}");
        assert!(headers.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{headers}");
        assert!(headers.contains("\r\nAuto-Submitted: auto-generated"), "{headers}");
    }

    #[test]
    fn a_digest_lists_fifty_newest_first_and_counts_the_rest() {
        let items: Vec<Notification> = (1..=53).rev().map(|i| note(&format!("item {i}"), "")).collect();
        let to = Recipient { user_id: 3, address: "ann@example.org", key: b"key" };
        let mail = digest_mail(&config(), "hub", &to, 9, &items).unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(raw.contains("Subject: 53 unread notifications in Herald"), "{raw}");
        assert!(raw.contains("Message-ID: <herald.digest9.hub@hub.example.org>"), "{raw}");
        assert!(raw.contains("item 53") && raw.contains("item 4\r\n") && !raw.contains("item 3\r\n"), "{raw}");
        assert!(raw.contains("and 3 more"), "{raw}");
    }

    #[test]
    fn confirm_buttons_become_signed_links_to_the_answer_page() {
        let mut n = note("Approve PO-42?", "");
        n.buttons = vec![herald_proto::Button {
            label: "Approve".into(),
            value: "yes & go".into(),
            style: herald_proto::ButtonStyle::default(),
        }];
        let to = Recipient { user_id: 3, address: "ann@example.org", key: b"key" };
        let links = answer_links(&config(), &to, &n);
        let (label, url) = &links[0];
        assert_eq!(label, "Approve");
        let token = url.strip_prefix("https://hub.example.org/v1/email/answer/").unwrap();
        let (token, value) = token.split_once("?value=").unwrap();
        assert_eq!(value, "yes+%26+go");
        assert_eq!(Link::verify(b"key", token), Some(Link::Answer { user_id: 3, notification_id: 42 }));
    }

    #[test]
    fn a_bad_address_is_a_permanent_error() {
        let to = Recipient { user_id: 3, address: "not an address", key: b"key" };
        assert!(matches!(notification_mail(&config(), "h", &to, &note("s", "")), Err(ComposeError::BadAddress(..))));
    }
}
