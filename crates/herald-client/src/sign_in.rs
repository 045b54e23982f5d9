//! Signing this desktop in to a hub with a user name and password: `POST /v1/devices` with HTTP
//! Basic makes a user token for this one device, which the hub lists and its user can revoke.
//! The password is sent once and kept nowhere; the token goes to the keyring like a pasted one.

use std::time::Duration;

use herald_proto::{ApiError, ErrorCode};
use url::Url;

use crate::tls::Tls;

/// How long a sign-in may take (argon2 on the hub is tens of milliseconds; a slow link more).
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("wrong user name or password")]
    WrongPassword,
    #[error("too many failed sign-ins; try again in {0} s")]
    RateLimited(u64),
    #[error("the hub refused: {0}")]
    Refused(ApiError),
    #[error("the hub at {server} could not be reached: {message}")]
    Unreachable { server: String, message: String },
    #[error("the hub answered {status} without a token")]
    BadAnswer { status: u16 },
    #[error("{0} is plain http on another machine: the password would cross the network unencrypted; use https")]
    Insecure(String),
}

/// Whether a password may go to `server`: over https, or over http only to this machine.
fn password_may_go_to(server: &Url) -> bool {
    match (server.scheme(), server.host()) {
        ("https", _) => true,
        ("http", Some(url::Host::Domain(name))) => name.eq_ignore_ascii_case("localhost"),
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    }
}

/// What the hub made for this device: its id (to revoke it with) and its token.
#[derive(Debug, serde::Deserialize)]
pub struct CreatedDevice {
    pub id: i64,
    pub token: String,
}

/// This machine's name, to tell its device apart in the hub's list.
pub fn device_name() -> String {
    let host = gethostname::gethostname().to_string_lossy().trim().to_owned();
    if host.is_empty() {
        "Herald desktop".to_owned()
    } else {
        format!("Herald desktop on {host}")
    }
}

/// A new device token for `user` at `server`, named `device`.
pub async fn device_token(
    server: &Url,
    tls: &Tls,
    user: &str,
    password: &str,
    device: &str,
) -> Result<CreatedDevice, SignInError> {
    device_token_with(&tls.http_client(SIGN_IN_TIMEOUT), server, user, password, device).await
}

/// [`device_token`] over a client already made (the agent's, with its TLS settings).
pub async fn device_token_with(
    http: &reqwest::Client,
    server: &Url,
    user: &str,
    password: &str,
    device: &str,
) -> Result<CreatedDevice, SignInError> {
    if !password_may_go_to(server) {
        return Err(SignInError::Insecure(server.to_string()));
    }
    let url = server
        .join("v1/devices")
        .map_err(|e| SignInError::Unreachable { server: server.to_string(), message: e.to_string() })?;
    let answer = http
        .post(url)
        .basic_auth(user, Some(password))
        .json(&serde_json::json!({ "name": device }))
        .send()
        .await
        .map_err(|e| SignInError::Unreachable { server: server.to_string(), message: e.to_string() })?;
    let status = answer.status().as_u16();
    let retry_after = answer
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let body = answer.bytes().await.unwrap_or_default();
    if (200..300).contains(&status) {
        return serde_json::from_slice::<CreatedDevice>(&body).map_err(|_| SignInError::BadAnswer { status });
    }
    match serde_json::from_slice::<ApiError>(&body) {
        Ok(error) if error.code == ErrorCode::InvalidCredentials => Err(SignInError::WrongPassword),
        Ok(error) if error.code == ErrorCode::RateLimited => Err(SignInError::RateLimited(retry_after)),
        Ok(error) => Err(SignInError::Refused(error)),
        Err(_) => Err(SignInError::BadAnswer { status }),
    }
}

/// Signs this device out on the hub (`DELETE /v1/devices/current` with its own token): a token
/// that is no longer kept here (a sign-in that could not be saved, an account replaced or
/// removed) must not stay valid there. Best effort: a plain user token (pasted, not a device's)
/// is left alone by the hub, and an unreachable hub leaves it for the user to revoke in the web
/// inbox.
pub async fn sign_out_device(http: &reqwest::Client, server: &Url, token: &str) {
    let Ok(url) = server.join("v1/devices/current") else { return };
    match http.delete(url).bearer_auth(token).send().await {
        Ok(answer) if answer.status().is_success() => tracing::info!(%server, "signed this device out on the hub"),
        Ok(answer) if answer.status() == reqwest::StatusCode::NOT_FOUND => {}
        Ok(answer) => tracing::warn!(%server, status = %answer.status(), "the hub did not sign this device out"),
        Err(e) => tracing::warn!(%server, error = %e, "could not sign this device out on the hub"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_goes_over_https_or_to_this_machine_only() {
        let may = |url: &str| password_may_go_to(&Url::parse(url).unwrap());
        assert!(may("https://hub.example.org/"));
        assert!(may("http://127.0.0.1:8470/") && may("http://localhost:8470/") && may("http://[::1]:8470/"));
        assert!(!may("http://hub.example.org/"));
        assert!(!may("http://192.168.1.10:8470/"));
    }
}
