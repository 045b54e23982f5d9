//! Answers kept for `Idempotency-Key` requests.
//!
//! A request's first write records, in its own transaction, that the request was applied
//! ([`APPLYING`], status [`ANSWER_PENDING`]); its answer replaces that record once it is known.
//! A hub that stops in between (kill -9, found by the chaos test) thus never applies the request
//! a second time: the retry learns that it was applied and that its answer was lost.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Store, StoreError};

tokio::task_local! {
    /// The `Idempotency-Key` request the current task is running, if any.
    pub static APPLYING: Applying;
}

/// Who sent which key for which request.
#[derive(Debug, Clone)]
pub struct Applying {
    pub principal: String,
    pub key: String,
    pub request_hash: Vec<u8>,
}

/// The status of a request that was applied and whose answer is not kept (yet).
pub const ANSWER_PENDING: u16 = 0;

/// Inside a write's transaction: the request this task runs was applied.
pub(super) fn record_applied(conn: &rusqlite::Connection, applying: &Applying) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
         VALUES (?1, ?2, ?3, ?4, x'', ?5)",
        params![applying.principal, applying.key, applying.request_hash, ANSWER_PENDING, now_rfc3339()],
    )?;
    Ok(())
}

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
                "INSERT INTO idempotency_keys (principal, key, request_hash, status, response, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (principal, key) DO UPDATE SET status = excluded.status, response = excluded.response
                 WHERE idempotency_keys.status = 0",
                params![principal, key, response.request_hash, response.status, response.body, now_rfc3339()],
            )?;
            Ok(())
        })
        .await
    }

    /// Forgets that a request was applied when it failed after all (its writes were rolled back,
    /// or it is partial and may be completed by a retry, as before this record existed).
    pub async fn forget_pending(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        let (principal, key) = (principal.to_owned(), key.to_owned());
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM idempotency_keys WHERE principal = ?1 AND key = ?2 AND status = 0",
                params![principal, key],
            )?;
            Ok(())
        })
        .await
    }
}
