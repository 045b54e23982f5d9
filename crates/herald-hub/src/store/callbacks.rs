//! The callback queue: POSTs owed to apps (answers to their notifications, responses to their
//! live events). A row is written in the same transaction as what it reports, and deleted once
//! the app accepted it — at least once, never lost to a crash.

use rusqlite::{params, Connection, OptionalExtension};

use super::{now_rfc3339, Store, StoreError};

/// A callback whose time to be tried has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCallback {
    pub id: i64,
    pub app: String,
    pub url: String,
    pub payload: String,
    /// Tries so far.
    pub attempts: u32,
    /// The HMAC key the POST is signed with (the SHA-256 of the app's token).
    pub signing_key: Vec<u8>,
}

/// Queues `payload` for `app`'s callback URL (the newest of its tokens that has one). Returns
/// false when the app registered none: then there is nobody to tell.
pub(super) fn enqueue(tx: &Connection, app: &str, payload: &serde_json::Value) -> Result<bool, StoreError> {
    let found: Option<(String, Vec<u8>)> = tx
        .query_row(
            "SELECT callback_url, hash FROM tokens WHERE kind = 'app' AND app = ?1 AND callback_url IS NOT NULL
             ORDER BY created_at DESC LIMIT 1",
            [app],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((url, signing_key)) = found else { return Ok(false) };
    let now = now_rfc3339();
    tx.execute(
        "INSERT INTO callbacks (app, url, payload, next_attempt_at, created_at, signing_key) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![app, url, payload.to_string(), now, signing_key],
    )?;
    Ok(true)
}

impl Store {
    /// [`enqueue`] in a transaction of its own.
    pub async fn enqueue_callback(&self, app: &str, payload: serde_json::Value) -> Result<bool, StoreError> {
        let app = app.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let queued = enqueue(&tx, &app, &payload)?;
            tx.commit()?;
            Ok(queued)
        })
        .await
    }

    /// Up to `limit` callbacks due now, oldest first, of apps other than `except`.
    pub async fn due_callbacks(&self, limit: u32, except: Vec<String>) -> Result<Vec<DueCallback>, StoreError> {
        let except = serde_json::to_string(&except).expect("names serialise");
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, app, url, payload, attempts, coalesce(signing_key, x'') FROM callbacks
                 WHERE failed_at IS NULL AND next_attempt_at <= ?1
                   AND app NOT IN (SELECT value FROM json_each(?3))
                 ORDER BY next_attempt_at, id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now_rfc3339(), limit, except], |r| {
                Ok(DueCallback {
                    id: r.get(0)?,
                    app: r.get(1)?,
                    url: r.get(2)?,
                    payload: r.get(3)?,
                    attempts: r.get(4)?,
                    signing_key: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// When the next pending callback of an app other than `except` is due, if any is pending.
    pub async fn next_callback_at(&self, except: Vec<String>) -> Result<Option<String>, StoreError> {
        let except = serde_json::to_string(&except).expect("names serialise");
        self.with(move |conn| {
            Ok(conn.query_row(
                "SELECT min(next_attempt_at) FROM callbacks WHERE failed_at IS NULL
                   AND app NOT IN (SELECT value FROM json_each(?1))",
                [except],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// The app accepted it.
    pub async fn callback_delivered(&self, id: i64) -> Result<(), StoreError> {
        self.with(move |conn| {
            conn.execute("DELETE FROM callbacks WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    /// Why `app`'s queued callbacks failed so far, oldest first: (tries, the last try's error).
    pub async fn callback_failures(&self, app: &str) -> Result<Vec<(u32, Option<String>)>, StoreError> {
        let app = app.to_owned();
        self.with(move |conn| {
            let mut stmt = conn.prepare("SELECT attempts, last_error FROM callbacks WHERE app = ?1 ORDER BY id")?;
            let rows = stmt.query_map([app], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A try failed with `error`: try again at `retry_at`, or give up if None.
    pub async fn callback_failed(&self, id: i64, error: String, retry_at: Option<String>) -> Result<(), StoreError> {
        self.with(move |conn| {
            let now = now_rfc3339();
            conn.execute(
                "UPDATE callbacks SET attempts = attempts + 1, last_error = ?2,
                 next_attempt_at = coalesce(?3, next_attempt_at), failed_at = CASE WHEN ?3 IS NULL THEN ?4 END
                 WHERE id = ?1",
                params![id, error, retry_at, now],
            )?;
            Ok(())
        })
        .await
    }
}
