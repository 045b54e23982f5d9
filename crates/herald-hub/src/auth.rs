//! Bearer tokens: made from 32 random bytes, stored only as their SHA-256, checked per request.
//! A browser signed in with a password carries a session cookie instead (`herald_session`, the
//! same kind of random value, stored the same way), taken wherever a user's token is.
//!
//! Cookies are sent by the browser whoever made the page, so a request authenticated by the
//! cookie that changes something, or opens the feed, must come from the hub's own page: its
//! `Origin`, when the browser sends one, names the host the request went to. Otherwise it is
//! refused with `403 forbidden_origin` (CSRF, cross-site WebSocket hijacking). SameSite=Strict
//! on the cookie already keeps it off such requests in current browsers; this holds without it.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use herald_proto::ErrorCode;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::api::{AppState, Failure};
use crate::store::User;

/// Prefix that makes a leaked Herald token easy to recognise for secret scanners.
const TOKEN_PREFIX: &str = "hrld_";

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// Tokens carry 256 random bits, so a fast unsalted hash is enough: there is nothing to brute-force.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token of `Authorization: Bearer <token>`, as every check reads it.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "herald_session";

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// What identifies a session cookie's value without a lookup; never a token's key.
pub fn session_key(session: &str) -> [u8; 32] {
    hash_token(&format!("session {session}"))
}

/// What identifies the request's credential without a lookup (rate-limit buckets, a token's
/// open feeds): the hash of its bearer token, else of its session cookie.
pub fn credential_key(headers: &axum::http::HeaderMap) -> [u8; 32] {
    match (bearer_token(headers), session_cookie(headers)) {
        (Some(token), _) => hash_token(token),
        (None, Some(session)) => session_key(session),
        (None, None) => hash_token(""),
    }
}

/// Whether a request carrying the cookie may act: a read (GET, HEAD) that is not a WebSocket
/// upgrade, or one whose `Origin` is absent (not a browser) or names the host it was sent to.
pub fn origin_allowed(method: &axum::http::Method, headers: &axum::http::HeaderMap) -> bool {
    let upgrade = headers.contains_key(axum::http::header::UPGRADE);
    let reads = matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD);
    if reads && !upgrade {
        return true;
    }
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else { return true };
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()), host) {
        (Some(origin), Some(host)) => {
            let Some(origin_host) = origin.host_str() else { return false };
            let authority = match origin.port() {
                Some(port) => format!("{origin_host}:{port}"),
                None => origin_host.to_owned(),
            };
            matches!(origin.scheme(), "http" | "https") && authority.eq_ignore_ascii_case(host)
        }
        // `Origin: null` (a sandboxed frame, a file) or no Host to compare with.
        _ => false,
    }
}

pub fn forbidden_origin() -> Failure {
    Failure::new(
        ErrorCode::ForbiddenOrigin,
        "this request came from another site's page with your session cookie; it was not carried out",
    )
}

/// Who is calling, as proven by `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A person: their own inbox; sends are personal (they name the sender).
    User(User),
    /// A business system: system sends, live events, ingest.
    App { name: String },
    /// Manages the hub.
    Admin,
}

/// Any valid token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

/// A user's token: for the calls that act on the caller's own inbox.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

/// An admin token: for `/v1/admin/*`.
#[derive(Debug, Clone, Copy)]
pub struct AuthAdmin;

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer_token(&parts.headers) else {
            let session = session_cookie(&parts.headers).ok_or_else(|| {
                Failure::new(ErrorCode::Unauthorized, "send 'Authorization: Bearer <token>', or sign in")
            })?;
            if !origin_allowed(&parts.method, &parts.headers) {
                return Err(forbidden_origin());
            }
            return match state.store.user_for_session(session).await? {
                Some(user) => {
                    if let Some(conn) = parts.extensions.get::<std::sync::Arc<crate::serve::ClientConn>>() {
                        conn.authenticated();
                    }
                    Ok(Authenticated(Caller::User(user)))
                }
                None => Err(Failure::new(ErrorCode::Unauthorized, "your session has ended; sign in again")),
            };
        };
        match state.store.caller_for_token(token).await? {
            Some(caller) => {
                if let Some(conn) = parts.extensions.get::<std::sync::Arc<crate::serve::ClientConn>>() {
                    conn.authenticated();
                }
                Ok(Authenticated(caller))
            }
            None => Err(Failure::new(ErrorCode::Unauthorized, "unknown or revoked token")),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Authenticated::from_request_parts(parts, state).await?.0 {
            Caller::User(user) => Ok(AuthUser(user)),
            Caller::App { .. } | Caller::Admin => {
                Err(Failure::new(ErrorCode::Forbidden, "this call acts on a user's own inbox: use that user's token"))
            }
        }
    }
}

impl FromRequestParts<AppState> for AuthAdmin {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Authenticated::from_request_parts(parts, state).await?.0 {
            Caller::Admin => Ok(AuthAdmin),
            Caller::User(_) | Caller::App { .. } => {
                Err(Failure::new(ErrorCode::Forbidden, "this call manages the hub: use an admin token"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(parts: &Parts) -> bool {
        origin_allowed(&parts.method, &parts.headers)
    }

    fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = axum::http::Request::builder().method(method).uri("/v1/notifications/read");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_the_hubs_own_origin_may_act_with_the_cookie() {
        let host = ("host", "hub.example.org:8470");
        assert!(allowed(&parts("POST", &[host, ("origin", "http://hub.example.org:8470")])));
        assert!(allowed(&parts("POST", &[host, ("origin", "https://HUB.example.org:8470")])));
        assert!(allowed(&parts("POST", &[host])), "no Origin: not a browser");
        assert!(allowed(&parts("GET", &[host, ("origin", "https://evil.example")])), "a plain read");
        assert!(!allowed(&parts("POST", &[host, ("origin", "https://evil.example")])));
        assert!(!allowed(&parts("POST", &[host, ("origin", "http://hub.example.org")])), "another port");
        assert!(!allowed(&parts("DELETE", &[host, ("origin", "null")])));
        let upgrade = ("upgrade", "websocket");
        assert!(!allowed(&parts("GET", &[host, upgrade, ("origin", "https://evil.example")])));
        assert!(allowed(&parts("GET", &[host, upgrade, ("origin", "http://hub.example.org:8470")])));
        assert!(allowed(&parts("GET", &[("host", "hub.example.org"), ("origin", "https://hub.example.org")])));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let parts = parts("GET", &[("cookie", "theme=dark; herald_session=abc123 ; other=1")]);
        assert_eq!(session_cookie(&parts.headers), Some("abc123"));
        assert_ne!(credential_key(&parts.headers), hash_token("abc123"), "a session never shares a token's bucket");
    }

    #[test]
    fn tokens_are_unique_and_prefixed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
