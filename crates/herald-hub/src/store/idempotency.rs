//! Answers kept for `Idempotency-Key` requests.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Store, StoreError};

/// A first answer, as it will be given again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: Vec<u8>,
    pub status: u16,
    pub body: Vec<u8>,
}

impl Store {
    pub async fn stored_response(&self, principal: &str, key: &str) -> Result<Option<StoredResponse>, StoreError> {
        let (principal, key) = (principal.to_owned(), key.to_owned());
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT request_hash, status, response FROM idempotency_keys WHERE principal = ?1 AND key = ?2",
                    params![principal, key],
                    |r| Ok(StoredResponse { request_hash: r.get(0)?, status: r.get(1)?, body: r.get(2)? }),
                )
                .optional()?)
        })
        .await
    }

    pub async fn store_response(&self, principal: &str, key: &str, response: StoredResponse) -> Result<(), StoreError> {
        let (principal, key) = (principal.to_owned(), key.to_owned());
        self.with(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![principal, key, response.request_hash, response.status, response.body, now_rfc3339()],
            )?;
            Ok(())
        })
        .await
    }
}
