//! Why a sync session ended: what the tray and the inbox say, and whether to retry soon. A
//! failure to reach the hub is told apart when the hub's certificate is the reason.

use herald_proto::ApiError;

use crate::mirror::MirrorError;

/// `Display` is what the tray and the inbox show a person; the log gets the `Debug` detail.
#[derive(Debug, thiserror::Error)]
pub(super) enum SyncError {
    #[error("the hub rejected the sign-in token")]
    Unauthorized,
    #[error("cannot reach the hub")]
    Connect(String),
    /// The hub's certificate does not chain to a trusted root (set `HERALD_CA_FILE` for a
    /// private CA), or names another host.
    #[error("the hub's certificate is not trusted")]
    Untrusted(String),
    #[error("lost the connection to the hub")]
    Lost(String),
    #[error("the hub refused: {}", .0.message)]
    Refused(ApiError),
    #[error("cannot write the local inbox")]
    Mirror(#[from] MirrorError),
    /// The mirror was reset (another hub or user); connect again from 0 at once.
    #[error("starting over")]
    StartOver,
    /// The machine slept: the link is surely dead; connect again at once.
    #[error("resumed from sleep")]
    Resumed,
}

impl SyncError {
    /// A failure to reach the hub, told apart when it is the hub's certificate.
    pub(super) fn connect(e: &(dyn std::error::Error + 'static)) -> Self {
        // An io::Error's `source()` skips the error it wraps (and io::Errors nest), so each is
        // opened instead.
        let chain: Vec<&(dyn std::error::Error + 'static)> =
            std::iter::successors(Some(e), |&c| inside_io_error(c).or_else(|| c.source())).collect();
        let certificate = chain.iter().find_map(|c| match c.downcast_ref::<rustls::Error>() {
            Some(rustls::Error::InvalidCertificate(why)) => Some(why),
            _ => None,
        });
        match certificate {
            Some(why) => SyncError::Untrusted(format!("{why:?}")),
            None => SyncError::Connect(chain.iter().map(ToString::to_string).collect::<Vec<_>>().join(": ")),
        }
    }

    /// A rejected token will not fix itself quickly: retry only at the slowest pace.
    pub(super) fn is_permanent(&self) -> bool {
        matches!(self, SyncError::Unauthorized)
    }
}

/// The error an io::Error wraps.
fn inside_io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn std::error::Error + 'static)> {
    Some(e.downcast_ref::<std::io::Error>()?.get_ref()?)
}
