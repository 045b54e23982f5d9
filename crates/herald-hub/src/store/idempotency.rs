//! Answers kept for `Idempotency-Key` requests.
//!
//! A request's first write records, in its own transaction, that the request was applied
//! ([`APPLYING`], status [`ANSWER_PENDING`]); its answer replaces that record once it is known.
//! A hub that stops in between (kill -9, found by the chaos test) thus never applies the request
//! a second time: the retry learns that it was applied and that its answer was lost.
//!
//! Bounded, and no secret at rest: records expire after [`IDEMPOTENCY_RETENTION`] (a retry is a
//! matter of minutes or of a laptop's night offline), a caller keeps at most
//! [`MAX_KEYS_PER_PRINCIPAL`] ([`MAX_KEYS_PER_APP`] for an app; the oldest go), an answer above [`MAX_KEPT_ANSWER`] bytes is kept as
//! "applied" only, and a `token` in an answer is never kept (its replay says it was shown once).

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
/// How long a key's record is kept.
pub const IDEMPOTENCY_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// Records one user or admin may hold; beyond it the oldest are forgotten.
pub const MAX_KEYS_PER_PRINCIPAL: i64 = 10_000;
/// Records one app may hold: all its instances share one principal, and send far more.
pub const MAX_KEYS_PER_APP: i64 = 1_000_000;
/// The largest answer kept whole.
pub const MAX_KEPT_ANSWER: usize = 8 * 1024;

/// What is kept of an answer: never a token (a stolen database would hold working
/// credentials, and another admin could replay the key to receive it), and nothing large.
fn kept_answer(body: &[u8]) -> Vec<u8> {
    if let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_slice::<serde_json::Value>(body) {
        if fields.get("token").is_some_and(serde_json::Value::is_string) {
            fields.insert("token".into(), serde_json::Value::Null);
            fields.insert("note".into(), "applied once; the token was shown only in the first answer".into());
            return serde_json::to_vec(&fields).expect("JSON serialises");
        }
    }
    if body.len() > MAX_KEPT_ANSWER {
        let note = serde_json::json!({"applied": true, "note": "applied once; its answer was too large to keep: read the current state instead"});
        return serde_json::to_vec(&note).expect("JSON serialises");
    }
    body.to_vec()
}

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
                params![
                    principal,
                    key,
                    response.request_hash,
                    response.status,
                    kept_answer(&response.body),
                    now_rfc3339()
                ],
            )?;
            // The caller's oldest records beyond the cap.
            conn.execute(
                "DELETE FROM idempotency_keys WHERE principal = ?1 AND key IN (
                     SELECT key FROM idempotency_keys WHERE principal = ?1
                     ORDER BY created_at DESC LIMIT -1 OFFSET ?2)",
                params![
                    principal,
                    if principal.starts_with("app:") { MAX_KEYS_PER_APP } else { MAX_KEYS_PER_PRINCIPAL }
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes the records made before `cutoff` (the store's time format). Returns how many.
    pub async fn expire_idempotency(&self, cutoff: String) -> Result<usize, StoreError> {
        self.with(move |conn| Ok(conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?1", [cutoff])?)).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: &[u8]) -> StoredResponse {
        StoredResponse { request_hash: vec![1], status: 201, body: body.to_vec() }
    }

    #[tokio::test]
    async fn no_token_and_nothing_large_is_kept_and_old_records_expire() {
        let store = Store::open_in_memory().unwrap();
        store.store_response("admin:1", "k1", stored(br#"{"token":"hrld_secret"}"#)).await.unwrap();
        let kept = store.stored_response("admin:1", "k1").await.unwrap().unwrap();
        let body = String::from_utf8(kept.body).unwrap();
        assert!(!body.contains("hrld_secret") && body.contains("shown only in the first answer"), "{body}");
        let big = format!("{{\"items\":\"{}\"}}", "x".repeat(100_000));
        store.store_response("user:1", "k2", stored(big.as_bytes())).await.unwrap();
        let kept = store.stored_response("user:1", "k2").await.unwrap().unwrap();
        assert!(kept.body.len() <= MAX_KEPT_ANSWER && kept.status == 201, "{} bytes kept", kept.body.len());
        store.store_response("user:1", "k3", stored(b"{}")).await.unwrap();
        assert_eq!(
            store.expire_idempotency(super::super::rfc3339_in(1)).await.unwrap(),
            3,
            "all made before the cutoff"
        );
        assert!(store.stored_response("user:1", "k3").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn one_caller_keeps_a_bounded_number_of_records() {
        let store = Store::open_in_memory().unwrap();
        for i in 0..MAX_KEYS_PER_PRINCIPAL + 20 {
            store.store_response("user:1", &format!("k{i:05}"), stored(b"{}")).await.unwrap();
        }
        store.store_response("user:2", "other", stored(b"{}")).await.unwrap();
        let count = store
            .with(|conn| {
                Ok::<i64, StoreError>(conn.query_row(
                    "SELECT count(*) FROM idempotency_keys WHERE principal = 'user:1'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(count, MAX_KEYS_PER_PRINCIPAL);
        assert!(store.stored_response("user:2", "other").await.unwrap().is_some(), "others' are untouched");
        let last = format!("k{:05}", MAX_KEYS_PER_PRINCIPAL + 19);
        assert!(store.stored_response("user:1", &last).await.unwrap().is_some(), "the newest is kept");
    }
}
