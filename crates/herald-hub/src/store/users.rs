//! Users and their bearer tokens. Only a token's SHA-256 is stored.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Store, StoreError};
use crate::auth;

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
        if !valid_name(name) {
            return Err(StoreError::InvalidUserName(name.to_owned()));
        }
        let name = name.to_owned();
        self.with(move |conn, _| {
            let tx = conn.transaction()?;
            let now = now_rfc3339();
            let inserted = tx.execute(
                "INSERT INTO users (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, now],
            )?;
            if inserted == 0 {
                return Err(StoreError::UserExists(name));
            }
            let id = tx.last_insert_rowid();
            let token = auth::new_token();
            tx.execute(
                "INSERT INTO tokens (hash, user_id, created_at) VALUES (?1, ?2, ?3)",
                params![auth::hash_token(&token).as_slice(), id, now],
            )?;
            tx.commit()?;
            Ok((User { id, name }, token))
        })
        .await
    }

    /// The user a bearer token belongs to, if any.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let hash = auth::hash_token(token);
        self.with(move |conn, _| {
            Ok(conn
                .query_row(
                    "SELECT users.id, users.name FROM tokens JOIN users ON users.id = tokens.user_id WHERE tokens.hash = ?1",
                    [hash.as_slice()],
                    |row| Ok(User { id: row.get(0)?, name: row.get(1)? }),
                )
                .optional()?)
        })
        .await
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.with(move |conn, _| {
            Ok(conn
                .query_row("SELECT id, name FROM users WHERE name = ?1", [name], |row| {
                    Ok(User { id: row.get(0)?, name: row.get(1)? })
                })
                .optional()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_token_finds_its_user_and_is_not_stored_in_clear() {
        let store = Store::open_in_memory().unwrap();
        let (alice, token) = store.add_user("alice").await.unwrap();
        assert_eq!(store.user_for_token(&token).await.unwrap(), Some(alice));
        assert_eq!(store.user_for_token("not-a-token").await.unwrap(), None);
        let stored: Vec<u8> = store
            .with(|conn, _| Ok::<_, StoreError>(conn.query_row("SELECT hash FROM tokens", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_ne!(stored, token.as_bytes());
        assert_eq!(stored.len(), 32, "a SHA-256 digest");
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
