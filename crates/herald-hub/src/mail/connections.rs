//! Connections to the SMTP server, opened with `TCP_NODELAY` and kept between mails.
//!
//! Why not lettre's pooled transport: lettre 0.11.23 writes a mail's `\r\n.\r\n` apart from its
//! body and leaves Nagle's algorithm on, so the terminator waits for the server's delayed ACK:
//! 40 ms per mail and connection (measured here: 8 connections, 174 mails/s, 6 % CPU). lettre's
//! PR #1159 fixes it upstream, unreleased as of 0.11.23; its SMTP conversation is used as it is
//! (`AsyncSmtpConnection` over a socket of ours).
//!
//! A kept connection that has idled for a while is asked `NOOP` before a mail goes down it, as
//! lettre's pool does: a server that closed it meanwhile costs a reconnect, not a failed try.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use tokio::net::TcpStream;

use super::smtp::{Security, SmtpUrl, SEND_TIMEOUT, SMTP_TIMEOUT};
use crate::retry::with_causes;

/// A kept connection idle longer than this is checked with NOOP before use.
const CHECK_AFTER: Duration = Duration::from_secs(5);
/// A kept connection idle longer than this is closed instead (servers drop idle ones).
const KEEP_FOR: Duration = Duration::from_secs(60);

/// Why a mail was not handed over.
#[derive(Debug)]
pub enum SendError {
    /// The server refused it for good (a 5xx): not worth another try.
    Permanent(String),
    /// The server is unreachable, slow, or said "later" (a 4xx).
    Transient(String),
}

fn from_lettre(what: &str, e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(format!("the SMTP server refused it: {e}"))
    } else {
        SendError::Transient(format!("{what}: {}", with_causes(&e)))
    }
}

/// The connections to one SMTP server.
pub struct Connections {
    url: SmtpUrl,
    hello: ClientId,
    /// For `smtps://`: TLS from the first byte, with the system's root certificates.
    implicit_tls: Option<tokio_rustls::TlsConnector>,
    /// PEM certificates trusted besides the system's (`--smtp-ca`).
    extra_ca: Option<Vec<u8>>,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl Connections {
    pub fn new(url: &SmtpUrl, extra_ca: Option<&[u8]>) -> Result<Self, String> {
        let implicit_tls = match url.security {
            Security::Tls => Some(tls_connector(extra_ca)?),
            Security::None | Security::StartTls => None,
        };
        Ok(Self {
            url: url.clone(),
            hello: ClientId::default(),
            implicit_tls,
            extra_ca: extra_ca.map(<[u8]>::to_vec),
            idle: Mutex::default(),
        })
    }

    /// Hands `message` to the server: on a kept connection if one is there, else a new one.
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let mut connection = match self.kept().await {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        let sent = tokio::time::timeout(SMTP_TIMEOUT, connection.send(message.envelope(), &message.formatted())).await;
        match sent {
            Ok(Ok(_)) => {
                self.keep(connection);
                Ok(())
            }
            Ok(Err(e)) => {
                // After a refusal the conversation is in an unknown state: start afresh.
                connection.abort().await;
                Err(from_lettre("the SMTP server did not take it", e))
            }
            Err(_) => {
                connection.abort().await;
                Err(SendError::Transient(format!("the SMTP server did not answer in {} s", SEND_TIMEOUT.as_secs())))
            }
        }
    }

    /// A kept connection that still works, if any.
    async fn kept(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut connection, since) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()?;
            let idle = since.elapsed();
            if idle > KEEP_FOR {
                tokio::spawn(async move { connection.abort().await });
                continue;
            }
            if idle <= CHECK_AFTER {
                return Some(connection);
            }
            match tokio::time::timeout(SMTP_TIMEOUT, connection.test_connected()).await {
                Ok(true) => return Some(connection),
                _ => connection.abort().await,
            }
        }
    }

    fn keep(&self, connection: AsyncSmtpConnection) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push((connection, Instant::now()));
    }

    /// A new connection: TCP without Nagle, TLS as the URL says, EHLO, and AUTH if it has
    /// credentials.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let unreachable =
            |e: String| SendError::Transient(format!("could not reach the SMTP server {}: {e}", self.url));
        let tcp = tokio::time::timeout(SMTP_TIMEOUT, TcpStream::connect((self.url.host.as_str(), self.url.port)))
            .await
            .map_err(|_| unreachable(format!("no answer in {} s", SMTP_TIMEOUT.as_secs())))?
            .map_err(|e| unreachable(e.to_string()))?;
        tcp.set_nodelay(true).map_err(|e| unreachable(e.to_string()))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit_tls {
            None => Box::new(tcp),
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(self.url.host.clone())
                    .map_err(|e| unreachable(format!("{:?} is no TLS server name: {e}", self.url.host)))?;
                let tls = tokio::time::timeout(SMTP_TIMEOUT, tls.connect(name, tcp))
                    .await
                    .map_err(|_| unreachable("no TLS handshake in time".into()))?
                    .map_err(|e| unreachable(format!("TLS: {e}")))?;
                Box::new(TlsTcp(tls))
            }
        };
        let conversation = async {
            let mut connection = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
                .await
                .map_err(|e| from_lettre("the SMTP server did not greet", e))?;
            if self.url.security == Security::StartTls {
                let mut parameters = TlsParameters::builder(self.url.host.clone());
                if let Some(pem) = &self.extra_ca {
                    let ca = Certificate::from_pem(pem).map_err(|e| SendError::Permanent(format!("--smtp-ca: {e}")))?;
                    parameters = parameters.add_root_certificate(ca);
                }
                let parameters =
                    parameters.build().map_err(|e| SendError::Permanent(format!("TLS for {}: {e}", self.url.host)))?;
                connection
                    .starttls(parameters, &self.hello)
                    .await
                    .map_err(|e| from_lettre("STARTTLS with the SMTP server failed", e))?;
            }
            if let Some((user, password)) = self.url.credentials() {
                connection
                    .auth(
                        &[Mechanism::Plain, Mechanism::Login],
                        &Credentials::new(user.to_owned(), password.to_owned()),
                    )
                    .await
                    .map_err(|e| from_lettre("the SMTP server did not take the credentials", e))?;
            }
            Ok(connection)
        };
        tokio::time::timeout(SMTP_TIMEOUT, conversation)
            .await
            .map_err(|_| unreachable(format!("no greeting in {} s", SMTP_TIMEOUT.as_secs())))?
    }
}

/// The certificates in a PEM file; an error if it has none.
pub fn certificates(pem: &[u8]) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certificates.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(certificates)
}

/// rustls with ring and the system's root certificates (those lettre's STARTTLS trusts too),
/// and `extra_ca`'s.
fn tls_connector(extra_ca: Option<&[u8]>) -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    for certificate in extra_ca.map(certificates).transpose()?.unwrap_or_default() {
        roots.add(certificate).map_err(|e| format!("--smtp-ca: {e}"))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS for --smtp: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// A TLS stream as lettre takes one.
#[derive(Debug)]
struct TlsTcp(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl tokio::io::AsyncRead for TlsTcp {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
