//! Sign-in state: users' password hashes, browser sessions and devices. Passwords are hashed
//! and checked outside the store (`crate::passwords`), so no argon2 work holds a connection.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, stored_time_before, Store, StoreError, User};
use crate::auth;

/// A session unused for this long is over.
pub const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
/// `last_used_at` of a session is rewritten at most this often (it only needs day precision).
const SESSION_TOUCH: std::time::Duration = std::time::Duration::from_secs(3600);
/// `last_used_at` of a device is rewritten at most this often.
const DEVICE_TOUCH: std::time::Duration = std::time::Duration::from_secs(60);
/// Devices one user may hold, so a script that signs in in a loop cannot grow the table forever.
pub const MAX_DEVICES: i64 = 200;

/// A device token's entry, as `GET /v1/devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Device {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    /// When its token was last used (minute precision); null: never.
    pub last_used_at: Option<String>,
}

fn stale(last_used: Option<&str>, every: std::time::Duration) -> bool {
    match (last_used, stored_time_before(every)) {
        (None, _) => true,
        (Some(last), Some(cutoff)) => last < cutoff.as_str(),
        (Some(_), None) => false,
    }
}

impl Store {
    /// Sets (or with `None` clears) `user`'s password hash.
    pub async fn set_password_hash(&self, user: &str, hash: Option<String>) -> Result<(), StoreError> {
        let user = user.to_owned();
        self.with(move |conn| {
            let changed = conn.execute("UPDATE users SET password_hash = ?1 WHERE name = ?2", params![hash, user])?;
            if changed == 0 {
                return Err(StoreError::UnknownUser(user));
            }
            Ok(())
        })
        .await
    }

    /// The user named `name` and their password hash (None: no password set); None: no such user.
    pub async fn password_hash_of(&self, name: &str) -> Result<Option<(User, Option<String>)>, StoreError> {
        let name = name.to_owned();
        self.read(None, move |conn| {
            Ok(conn
                .query_row("SELECT id, name, password_hash FROM users WHERE name = ?1", [name], |row| {
                    Ok((User { id: row.get(0)?, name: row.get(1)? }, row.get(2)?))
                })
                .optional()?)
        })
        .await
    }

    /// A new session for `user_id`: the cookie's value, shown only this once. Sessions over
    /// (unused for [`SESSION_IDLE`]) are deleted on the way.
    pub async fn add_session(&self, user_id: i64) -> Result<String, StoreError> {
        let cutoff = stored_time_before(SESSION_IDLE).unwrap_or_default();
        self.with(move |conn| {
            let token = auth::new_token();
            let now = now_rfc3339();
            conn.execute("DELETE FROM sessions WHERE last_used_at < ?1", [&cutoff])?;
            conn.execute(
                "INSERT INTO sessions (hash, user_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)",
                params![auth::hash_token(&token).as_slice(), user_id, now],
            )?;
            Ok(token)
        })
        .await
    }

    /// The user of a live session, refreshing its last use; None: unknown, ended or over.
    pub async fn user_for_session(&self, token: &str) -> Result<Option<User>, StoreError> {
        let hash = auth::hash_token(token);
        let cutoff = stored_time_before(SESSION_IDLE).unwrap_or_default();
        let found = self
            .read(None, move |conn| {
                Ok(conn
                    .query_row(
                        "SELECT users.id, users.name, sessions.last_used_at FROM sessions
                         JOIN users ON users.id = sessions.user_id
                         WHERE sessions.hash = ?1 AND sessions.last_used_at >= ?2",
                        params![hash.as_slice(), cutoff],
                        |row| Ok((User { id: row.get(0)?, name: row.get(1)? }, row.get::<_, String>(2)?)),
                    )
                    .optional()?)
            })
            .await?;
        let Some((user, last_used)) = found else { return Ok(None) };
        if stale(Some(&last_used), SESSION_TOUCH) {
            self.with(move |conn| {
                conn.execute(
                    "UPDATE sessions SET last_used_at = ?1 WHERE hash = ?2",
                    params![now_rfc3339(), hash.as_slice()],
                )?;
                Ok::<_, StoreError>(())
            })
            .await?;
        }
        Ok(Some(user))
    }

    /// Ends a session at once (signing out); an unknown one is already ended.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        let hash = auth::hash_token(token);
        self.with(move |conn| {
            conn.execute("DELETE FROM sessions WHERE hash = ?1", [hash.as_slice()])?;
            Ok(())
        })
        .await
    }

    /// A new user token for one named device of `user_id`: its entry and the token, shown only
    /// this once.
    pub async fn add_device(&self, user_id: i64, name: &str) -> Result<(Device, String), StoreError> {
        super::audiences::check_name("device name", name.trim())?;
        let name = name.trim().to_owned();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let held: i64 = tx.query_row("SELECT count(*) FROM devices WHERE user_id = ?1", [user_id], |r| r.get(0))?;
            if held >= MAX_DEVICES {
                return Err(StoreError::TooManyDevices);
            }
            let token = auth::new_token();
            let hash = auth::hash_token(&token);
            let now = now_rfc3339();
            tx.execute(
                "INSERT INTO tokens (hash, kind, user_id, created_at) VALUES (?1, 'user', ?2, ?3)",
                params![hash.as_slice(), user_id, now],
            )?;
            tx.execute(
                "INSERT INTO devices (user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![user_id, name, hash.as_slice(), now],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok((Device { id, name, created_at: now, last_used_at: None }, token))
        })
        .await
    }

    /// `user_id`'s devices, oldest first.
    pub async fn devices(&self, user_id: i64) -> Result<Vec<Device>, StoreError> {
        self.read(None, move |conn| {
            let mut statement =
                conn.prepare("SELECT id, name, created_at, last_used_at FROM devices WHERE user_id = ?1 ORDER BY id")?;
            let rows = statement.query_map([user_id], |row| {
                Ok(Device { id: row.get(0)?, name: row.get(1)?, created_at: row.get(2)?, last_used_at: row.get(3)? })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Revokes one of `user_id`'s devices: its token stops working now. The token's hash, so
    /// the caller can close the feeds it holds open.
    pub async fn revoke_device(&self, user_id: i64, id: i64) -> Result<[u8; 32], StoreError> {
        self.with(move |conn| {
            let hash: Option<Vec<u8>> = conn
                .query_row("SELECT token_hash FROM devices WHERE id = ?1 AND user_id = ?2", [id, user_id], |r| r.get(0))
                .optional()?;
            let hash = hash.ok_or(StoreError::UnknownDevice)?;
            // The device row goes with its token (ON DELETE CASCADE).
            conn.execute("DELETE FROM tokens WHERE hash = ?1", [&hash])?;
            hash.try_into().map_err(|_| StoreError::Task("a device's token hash is not 32 bytes".into()))
        })
        .await
    }

    /// Revokes `user_id`'s device whose token hashes to `hash`; false if that token is not a
    /// device's (a user's own token, which this does not touch).
    pub async fn revoke_device_by_token(&self, user_id: i64, hash: [u8; 32]) -> Result<bool, StoreError> {
        self.with(move |conn| {
            let mine: bool = conn.query_row(
                "SELECT count(*) > 0 FROM devices WHERE token_hash = ?1 AND user_id = ?2",
                params![hash.as_slice(), user_id],
                |r| r.get(0),
            )?;
            if mine {
                conn.execute("DELETE FROM tokens WHERE hash = ?1", [hash.as_slice()])?;
            }
            Ok(mine)
        })
        .await
    }

    /// Notes that the device token `hash` was used, at most once per [`DEVICE_TOUCH`].
    pub(super) async fn touch_device(&self, hash: [u8; 32], last_used: Option<String>) -> Result<(), StoreError> {
        if !stale(last_used.as_deref(), DEVICE_TOUCH) {
            return Ok(());
        }
        self.with(move |conn| {
            conn.execute(
                "UPDATE devices SET last_used_at = ?1 WHERE token_hash = ?2",
                params![now_rfc3339(), hash.as_slice()],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_finds_its_user_until_it_is_ended() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let session = store.add_session(alice.id).await.unwrap();
        assert_eq!(store.user_for_session(&session).await.unwrap(), Some(alice.clone()));
        store.end_session(&session).await.unwrap();
        assert_eq!(store.user_for_session(&session).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_session_unused_for_30_days_is_over() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let session = store.add_session(alice.id).await.unwrap();
        let long_ago = stored_time_before(SESSION_IDLE + std::time::Duration::from_secs(60)).unwrap();
        store
            .with(move |conn| {
                conn.execute("UPDATE sessions SET last_used_at = ?1", [long_ago])?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        assert_eq!(store.user_for_session(&session).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_revoked_device_token_finds_nobody_and_another_user_cannot_revoke_it() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let (bob, _) = store.add_user("bob").await.unwrap();
        let (device, token) = store.add_device(alice.id, "laptop").await.unwrap();
        assert!(store.caller_for_token(&token).await.unwrap().is_some());
        assert!(matches!(store.revoke_device(bob.id, device.id).await, Err(StoreError::UnknownDevice)));
        store.revoke_device(alice.id, device.id).await.unwrap();
        assert_eq!(store.caller_for_token(&token).await.unwrap(), None);
        assert!(store.devices(alice.id).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_device_records_when_it_was_last_used() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let (_, token) = store.add_device(alice.id, "phone").await.unwrap();
        assert_eq!(store.devices(alice.id).await.unwrap()[0].last_used_at, None);
        store.caller_for_token(&token).await.unwrap();
        assert!(store.devices(alice.id).await.unwrap()[0].last_used_at.is_some());
    }
}
