//! The SMTP server mail goes to: `smtp://host:port` (a local relay, no TLS), `smtp+starttls://
//! user:pass@host:587` (STARTTLS required) or `smtps://user:pass@host:465` (TLS from the first
//! byte). Credentials are percent-decoded; the URL itself is never logged with them.

use std::time::Duration;

use url::Url;

/// How long connecting, the greeting, TLS and AUTH may each take before the try counts as a
/// (transient) failure.
pub(super) const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long handing one mail over may take, the server's answer to the end of DATA included:
/// RFC 5321 (4.5.3.2) gives a server 10 minutes for that answer, and a try given up early while
/// the server was accepting would send the mail twice.
pub(super) const SEND_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    None,
    StartTls,
    Tls,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub security: Security,
    pub host: String,
    pub port: u16,
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    /// Without the password: a config dump or a log line must not carry it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self)
    }
}

impl std::fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.security {
            Security::None => "smtp",
            Security::StartTls => "smtp+starttls",
            Security::Tls => "smtps",
        };
        let user = self.credentials.as_ref().map(|(user, _)| format!("{user}:***@")).unwrap_or_default();
        write!(f, "{scheme}://{user}{}:{}", self.host, self.port)
    }
}

impl SmtpUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text).map_err(|e| format!("--smtp: {e}"))?;
        let (security, default_port) = match url.scheme() {
            "smtp" => (Security::None, 25),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            other => return Err(format!("--smtp: {other}:// is not smtp://, smtp+starttls:// or smtps://")),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("--smtp: the URL names no host")?;
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some((decode(user), decode(password.unwrap_or_default()))),
        };
        if credentials.is_some() && security == Security::None {
            return Err(
                "--smtp: a password over plain smtp:// would travel in clear text; use smtp+starttls:// or smtps://"
                    .into(),
            );
        }
        Ok(Self {
            security,
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: url.port().unwrap_or(default_port),
            credentials,
        })
    }

    /// The user and password, if the URL has them.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials.as_ref().map(|(user, password)| (user.as_str(), password.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_schemes_with_their_ports_and_credentials() {
        let relay = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (relay.security, relay.host.as_str(), relay.port, relay.credentials.is_none()),
            (Security::None, "127.0.0.1", 2525, true)
        );
        let starttls = SmtpUrl::parse("smtp+starttls://herald%40example.org:p%40ss@mail.example.org").unwrap();
        assert_eq!((starttls.security, starttls.port), (Security::StartTls, 587));
        assert_eq!(starttls.credentials, Some(("herald@example.org".into(), "p@ss".into())));
        assert_eq!(SmtpUrl::parse("smtps://u:p@mail.example.org").unwrap().port, 465);
    }

    #[test]
    fn the_password_never_shows_and_bad_urls_say_why() {
        let url = SmtpUrl::parse("smtps://herald:secret@mail.example.org:465").unwrap();
        assert_eq!(url.to_string(), "smtps://herald:***@mail.example.org:465");
        assert!(!format!("{url:?}").contains("secret"));
        assert!(SmtpUrl::parse("http://mail.example.org").unwrap_err().contains("not smtp://"));
        assert!(SmtpUrl::parse("smtp://u:p@relay").unwrap_err().contains("clear text"));
        assert!(SmtpUrl::parse("smtp://").is_err());
    }
}
