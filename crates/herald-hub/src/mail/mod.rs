//! Email, the third channel (seeds 001, 002; issue 19): where mail goes (`--smtp`, `--mail-from`,
//! `--public-url`), what a mail says ([`compose`]), and the worker that sends the durable queue
//! the store fills in the same transaction as each notification ([`worker`]).
//!
//! - [`smtp`]: the SMTP URL (`smtp://`, `smtp+starttls://`, `smtps://`).
//! - [`connections`]: connections to that server, without Nagle, kept between mails.
//! - [`compose`]: a notification as a multipart text and HTML mail, every field escaped.
//! - [`worker`]: sends what is due, retries transient failures with backoff, records the rest.
//! - [`digest`]: the daily digest runs, at each user's digest hour.
//! - [`digest_schedule`]: when each user's daily digest is due, in their own time zone.
//! - [`links`]: the signed links in mail (one-click unsubscribe, the answer page).
//! - [`pages`]: the pages those links open on the hub.

pub mod compose;
pub mod connections;
pub mod digest;
pub mod digest_schedule;
pub mod links;
pub mod pages;
pub mod smtp;
pub mod worker;

use lettre::message::Mailbox;
use url::Url;

/// How this hub sends mail; absent (no `--smtp`), it sends none.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp: smtp::SmtpUrl,
    /// The `From:` of every mail.
    pub from: Mailbox,
    /// The base of every link in mail (the web inbox at its root).
    pub public_url: Url,
    /// When daily digests go out.
    pub digest: digest::DigestSchedule,
    /// PEM certificates trusted for the SMTP server's TLS besides the system's (`--smtp-ca`:
    /// a relay with a certificate from the organisation's own CA).
    pub smtp_ca: Option<Vec<u8>>,
}

impl MailConfig {
    /// Checks the three settings together; the error says which one is wrong.
    pub fn new(smtp: &str, from: &str, public_url: &str) -> Result<Self, String> {
        let smtp = smtp::SmtpUrl::parse(smtp)?;
        let from: Mailbox = from.parse().map_err(|e| format!("--mail-from {from:?}: {e}"))?;
        let mut public_url = Url::parse(public_url).map_err(|e| format!("--public-url {public_url:?}: {e}"))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host_str().is_none() {
            return Err(format!("--public-url {public_url}: use an http:// or https:// address"));
        }
        // Links are joined onto it, so it names a folder.
        if !public_url.path().ends_with('/') {
            public_url.set_path(&format!("{}/", public_url.path()));
        }
        Ok(Self { smtp, from, public_url, digest: digest::DigestSchedule::default(), smtp_ca: None })
    }

    /// Trusts the certificates in `pem` for the SMTP server, besides the system's.
    pub fn with_smtp_ca(self, pem: Vec<u8>) -> Result<Self, String> {
        connections::certificates(&pem).map_err(|e| format!("--smtp-ca: {e}"))?;
        Ok(Self { smtp_ca: Some(pem), ..self })
    }

    /// Digests at `digest` instead of 8 o'clock UTC.
    pub fn with_digest(self, digest: digest::DigestSchedule) -> Self {
        Self { digest, ..self }
    }
}
