//! Opening the feed's WebSocket: `GET /v1/feed?since=CURSOR` with the account's token, over TLS
//! with the engine's trust when the hub is https.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, handshake::client};
use url::Url;

use super::SyncError;
use crate::tls::Tls;

/// The feed's socket, as tungstenite gives it.
pub(super) type FeedSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the feed's WebSocket, over TLS with `tls`'s trust when the URL is wss.
pub(super) async fn connect(
    request: client::Request,
    tls: &Tls,
) -> Result<(FeedSocket, client::Response), tungstenite::Error> {
    tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(tls.connector())).await
}

/// The upgrade request for the feed from `cursor` on.
pub(super) fn feed_request(server: &Url, token: &str, cursor: i64) -> Result<client::Request, SyncError> {
    let mut url = server.join("v1/feed").map_err(|e| SyncError::Connect(e.to_string()))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme).map_err(|()| SyncError::Connect("cannot make a WebSocket URL".into()))?;
    url.query_pairs_mut().append_pair("since", &cursor.to_string());
    let mut request = url.as_str().into_client_request().map_err(|e| SyncError::Connect(e.to_string()))?;
    let auth = format!("Bearer {token}").parse().map_err(|_| SyncError::Unauthorized)?;
    request.headers_mut().insert("authorization", auth);
    Ok(request)
}
