//! Users and their bearer tokens. Only a token's SHA-256 is stored.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Store, StoreError};
use crate::auth;
use crate::auth::Caller;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
}

impl Store {
    /// Creates a user and returns it with a new bearer token — the only time the token is seen.
    pub async fn add_user(&self, name: &str) -> Result<(User, String), StoreError> {
        self.add_user_with_password(name, None).await
    }

    /// [`Store::add_user`] with a password hash (`crate::passwords::hash`), in one transaction.
    pub async fn add_user_with_password(
        &self,
        name: &str,
        password_hash: Option<String>,
    ) -> Result<(User, String), StoreError> {
        if !valid_name(name) {
            return Err(StoreError::InvalidUserName(name.to_owned()));
        }
        let name = name.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let now = now_rfc3339();
            let inserted = tx.execute(
                "INSERT INTO users (name, created_at, password_hash) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
                params![name, now, password_hash],
            )?;
            if inserted == 0 {
                return Err(StoreError::UserExists(name));
            }
            let id = tx.last_insert_rowid();
            let token = auth::new_token();
            tx.execute(
                "INSERT INTO tokens (hash, kind, user_id, created_at) VALUES (?1, 'user', ?2, ?3)",
                params![auth::hash_token(&token).as_slice(), id, now],
            )?;
            tx.commit()?;
            Ok((User { id, name }, token))
        })
        .await
    }

    /// Who a bearer token belongs to, if anyone. A device's token also notes its last use.
    pub async fn caller_for_token(&self, token: &str) -> Result<Option<Caller>, StoreError> {
        let hash = auth::hash_token(token);
        let found = self
            .read(None, move |conn| {
                Ok(conn
                    .query_row(
                        "SELECT tokens.kind, users.id, users.name, tokens.app, devices.id, devices.last_used_at
                         FROM tokens
                         LEFT JOIN users ON users.id = tokens.user_id
                         LEFT JOIN devices ON devices.token_hash = tokens.hash
                         WHERE tokens.hash = ?1",
                        [hash.as_slice()],
                        |row| {
                            let kind: String = row.get(0)?;
                            let caller = match kind.as_str() {
                                "user" => Some(Caller::User(User { id: row.get(1)?, name: row.get(2)? })),
                                "app" => Some(Caller::App { name: row.get(3)? }),
                                "admin" => Some(Caller::Admin),
                                _ => None,
                            };
                            let device: Option<i64> = row.get(4)?;
                            Ok((caller, device.map(|_| row.get::<_, Option<String>>(5)).transpose()?))
                        },
                    )
                    .optional()?)
            })
            .await?;
        let Some((caller, device)) = found else { return Ok(None) };
        if let Some(last_used) = device {
            self.touch_device(hash, last_used).await?;
        }
        Ok(caller)
    }

    /// A new token for an app (system sends, live events, ingest), shown only this once. Its
    /// callback URL may not carry credentials or point at a link-local or cloud metadata address
    /// (see [`check_callback_url`]).
    pub async fn add_app_token(&self, app: &str, callback_url: Option<&str>) -> Result<String, StoreError> {
        self.add_app_token_with(app, callback_url, false).await
    }

    /// [`Store::add_app_token`]; `allow_private`: any http(s) callback URL (the admin said so).
    pub async fn add_app_token_with(
        &self,
        app: &str,
        callback_url: Option<&str>,
        allow_private: bool,
    ) -> Result<String, StoreError> {
        super::audiences::check_name("app", app)?;
        if let Some(url) = callback_url {
            check_callback_url(url, allow_private)?;
        }
        let (app, callback_url) = (app.to_owned(), callback_url.map(str::to_owned));
        self.with(move |conn| {
            let token = auth::new_token();
            conn.execute(
                "INSERT INTO tokens (hash, kind, app, callback_url, created_at) VALUES (?1, 'app', ?2, ?3, ?4)",
                params![auth::hash_token(&token).as_slice(), app, callback_url, now_rfc3339()],
            )?;
            Ok(token)
        })
        .await
    }

    /// A new admin token, shown only this once.
    pub async fn add_admin_token(&self) -> Result<String, StoreError> {
        self.with(|conn| {
            let token = auth::new_token();
            conn.execute(
                "INSERT INTO tokens (hash, kind, created_at) VALUES (?1, 'admin', ?2)",
                params![auth::hash_token(&token).as_slice(), now_rfc3339()],
            )?;
            Ok(token)
        })
        .await
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.with(move |conn| {
            Ok(conn
                .query_row("SELECT id, name FROM users WHERE id = ?1", [id], |row| {
                    Ok(User { id: row.get(0)?, name: row.get(1)? })
                })
                .optional()?)
        })
        .await
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.with(move |conn| {
            Ok(conn
                .query_row("SELECT id, name FROM users WHERE name = ?1", [name], |row| {
                    Ok(User { id: row.get(0)?, name: row.get(1)? })
                })
                .optional()?)
        })
        .await
    }
}

/// An app's callback URL: absolute http(s) with a host; unless `allow_private`, no user name or
/// password in it (they would sit in the database and in every log of a proxy) and no link-local
/// or cloud metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254, metadata.google.internal),
/// from where a hub on a cloud machine would hand its own credentials to whoever set the URL.
/// Loopback and private addresses stay allowed: an organisation's ERP is on its own network.
/// A host name is checked as written here, and what it resolves to at each delivery
/// (`callback_dns.rs`).
pub fn check_callback_url(url: &str, allow_private: bool) -> Result<(), StoreError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| StoreError::InvalidCallback(url.to_owned()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(StoreError::InvalidCallback(url.to_owned()));
    }
    if allow_private {
        return Ok(());
    }
    let refuse = |why: &'static str| Err(StoreError::CallbackRefused { url: url.to_owned(), why });
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("it carries a user name or password");
    }
    let metadata = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => is_link_local_or_metadata(ip.into()),
        Some(url::Host::Ipv6(ip)) => is_link_local_or_metadata(ip.into()),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "metadata.google.internal" || name == "metadata" || name == "instance-data"
        }
        None => false,
    };
    if metadata {
        return refuse("it points at a link-local or cloud metadata address");
    }
    Ok(())
}

/// A link-local or cloud metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254, and the
/// IPv4 ones mapped into IPv6): where a hub on a cloud machine finds its own credentials.
pub fn is_link_local_or_metadata(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(ip) => ip.is_link_local(),
        std::net::IpAddr::V6(ip) => {
            (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_token_finds_its_user_and_is_not_stored_in_clear() {
        let store = Store::open_in_memory().unwrap();
        let (alice, token) = store.add_user("alice").await.unwrap();
        assert_eq!(store.caller_for_token(&token).await.unwrap(), Some(Caller::User(alice)));
        assert_eq!(store.caller_for_token("not-a-token").await.unwrap(), None);
        let stored: Vec<u8> = store
            .with(|conn| Ok::<_, StoreError>(conn.query_row("SELECT hash FROM tokens", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_ne!(stored, token.as_bytes());
        assert_eq!(stored.len(), 32, "a SHA-256 digest");
    }

    #[tokio::test]
    async fn app_and_admin_tokens_say_who_they_are() {
        let store = Store::open_in_memory().unwrap();
        let app = store.add_app_token("erp", Some("https://erp.example/herald")).await.unwrap();
        let admin = store.add_admin_token().await.unwrap();
        assert_eq!(store.caller_for_token(&app).await.unwrap(), Some(Caller::App { name: "erp".into() }));
        assert_eq!(store.caller_for_token(&admin).await.unwrap(), Some(Caller::Admin));
    }

    #[tokio::test]
    async fn names_are_unique_and_checked() {
        let store = Store::open_in_memory().unwrap();
        store.add_user("bob").await.unwrap();
        assert!(matches!(store.add_user("bob").await, Err(StoreError::UserExists(_))));
        assert!(matches!(store.add_user("Bob Smith").await, Err(StoreError::InvalidUserName(_))));
        assert!(matches!(store.add_user("").await, Err(StoreError::InvalidUserName(_))));
    }
}
