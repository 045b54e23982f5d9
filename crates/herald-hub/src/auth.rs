//! Bearer tokens: made from 32 random bytes, stored only as their SHA-256, checked per request.

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
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "send 'Authorization: Bearer <token>'"))?;
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

    #[test]
    fn tokens_are_unique_and_prefixed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
