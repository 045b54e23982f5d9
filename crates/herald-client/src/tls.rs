//! Which hubs the client trusts over https/wss: the system's root certificates, plus the
//! organisation's own CA when one is configured (`ca_file`, `HERALD_CA_FILE`) — a hub inside a
//! company often has a certificate from a private CA that no system trusts by default.
//!
//! One rustls configuration serves both the HTTP calls (reqwest) and the feed (tungstenite), so
//! the two can never disagree about a hub.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading the CA file {path}: {message}")]
    CaFile { path: PathBuf, message: String },
    #[error("the CA file {0} holds no certificate")]
    EmptyCaFile(PathBuf),
    #[error("a certificate in {path} is not usable as a root: {message}")]
    BadRoot { path: PathBuf, message: String },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The client's TLS trust, cheap to clone.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// The system's roots, and those in the PEM file `ca_file` if given. A CA file that cannot be
    /// read is an error (rather than silently trusting less than the user asked).
    pub fn load(ca_file: Option<&Path>) -> Result<Self, TlsError> {
        let mut roots = system_roots();
        if let Some(path) = ca_file {
            let read_error = |e: &dyn std::fmt::Display| TlsError::CaFile { path: path.into(), message: e.to_string() };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| read_error(&e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| read_error(&e))?;
            if certs.is_empty() {
                return Err(TlsError::EmptyCaFile(path.into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| TlsError::BadRoot { path: path.into(), message: e.to_string() })?;
            }
        }
        let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { config: Arc::new(config) })
    }

    /// The system's roots only; what a client without a configured CA uses.
    pub fn system() -> Self {
        Self::load(None).expect("without a CA file, loading cannot fail")
    }

    /// An HTTP client that trusts exactly these roots.
    pub fn http_client(&self, timeout: Duration) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(timeout)
            .use_preconfigured_tls((*self.config).clone())
            .build()
            .expect("an HTTP client with a rustls configuration builds")
    }

    /// The same trust for the feed's WebSocket.
    pub fn connector(&self) -> tokio_tungstenite::Connector {
        tokio_tungstenite::Connector::Rustls(self.config.clone())
    }
}

/// The system's root certificates, read once per process: every engine and HTTP client starts
/// from them, and reading them means parsing a directory of some hundred files.
fn system_roots() -> RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            let system = rustls_native_certs::load_native_certs();
            for error in &system.errors {
                tracing::warn!(%error, "skipping a system root certificate");
            }
            let (added, ignored) = roots.add_parsable_certificates(system.certs);
            tracing::debug!(added, ignored, "system root certificates");
            roots
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(Tls::load(Some(&missing)), Err(TlsError::CaFile { .. })));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(matches!(Tls::load(Some(&empty)), Err(TlsError::EmptyCaFile(_))));
    }
}
