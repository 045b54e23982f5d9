//! The daily digest in the store: who has mail held for one, and the run that turns what is held
//! into one digest mail (queued in the same transaction as the decision, like every mail).

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Store, StoreError};

/// A user with mail held for their digest.
#[derive(Debug, Clone)]
pub struct DigestCandidate {
    pub user_id: i64,
    pub user: String,
    /// When the oldest mail still held was queued.
    pub first_held_at: String,
    /// When their last digest ran, if one has.
    pub last_run: Option<String>,
    /// Their quiet hours' time zone, if they set quiet hours.
    pub zone: Option<String>,
}

/// What a digest mail lists (`mail_queue.items`): its notifications, newest first, and their
/// types.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct DigestItems {
    ids: Vec<i64>,
    types: Vec<String>,
}

/// What one digest run decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRun {
    /// The digest mail queued, if anything held was still unread.
    pub mail_id: Option<i64>,
    /// Notifications it lists.
    pub listed: usize,
    /// Held ones left out: read, answered or deleted since.
    pub skipped: usize,
}

impl Store {
    /// Every user with mail held for a digest (or only `user`), with their last run and zone.
    pub async fn digest_candidates(&self, user: Option<String>) -> Result<Vec<DigestCandidate>, StoreError> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT q.user_id, u.name, min(q.created_at), d.ran_at, p.quiet_hours
                 FROM mail_queue q JOIN users u ON u.id = q.user_id
                 LEFT JOIN digest_runs d ON d.user_id = q.user_id
                 LEFT JOIN user_quiet p ON p.user_id = q.user_id
                 WHERE q.state = 'held' AND (?1 IS NULL OR u.name = ?1)
                 GROUP BY q.user_id ORDER BY q.user_id",
            )?;
            let rows = stmt.query_map([user], |r| {
                let quiet: Option<String> = r.get(4)?;
                Ok(DigestCandidate {
                    user_id: r.get(0)?,
                    user: r.get(1)?,
                    first_held_at: r.get(2)?,
                    last_run: r.get(3)?,
                    zone: quiet
                        .and_then(|q| serde_json::from_str::<herald_proto::QuietHours>(&q).ok())
                        .map(|q| q.timezone),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Runs `user_id`'s digest now: the held mail whose notifications are still there, unread
    /// and unanswered becomes one digest mail (newest first), queued to be sent at once; the rest
    /// is skipped; the run is recorded, so the next digest lists only what comes after. Nothing
    /// still unread: no mail.
    pub async fn run_digest(&self, user_id: i64) -> Result<DigestRun, StoreError> {
        self.with(move |conn| {
            // Immediate: the hub and `digest send` may both run digests on one database.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = now_rfc3339();
            // (queue row, still unread, notification), newest first.
            let held: Vec<(i64, bool, i64)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT q.id, n.id IS NOT NULL AND n.read = 0 AND n.answer IS NULL, q.notification_id
                     FROM mail_queue q LEFT JOIN notifications n ON n.id = q.notification_id AND n.user_id = q.user_id
                     WHERE q.user_id = ?1 AND q.state = 'held' ORDER BY q.notification_id DESC, q.id DESC",
                )?;
                let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let unread: Vec<i64> = held.iter().filter(|(_, unread, _)| *unread).map(|(id, ..)| *id).collect();
            let mut run = DigestRun { mail_id: None, listed: unread.len(), skipped: held.len() - unread.len() };
            if !unread.is_empty() {
                // The notification ids, newest first, as the mail lists them.
                let ids: Vec<i64> = held.iter().filter(|(_, unread, _)| *unread).map(|(.., n)| *n).collect();
                // Its types too: what its unsubscribe link stops, even once the notifications
                // themselves are gone.
                let mut types: Vec<String> = {
                    let mut stmt = tx.prepare_cached("SELECT type FROM notifications WHERE id = ?1")?;
                    ids.iter().map(|id| stmt.query_row([id], |r| r.get(0))).collect::<Result<_, _>>()?
                };
                types.sort();
                types.dedup();
                let items = DigestItems { ids, types };
                tx.execute(
                    "INSERT INTO mail_queue (user_id, notification_id, mode, state, due_at, created_at, items)
                     VALUES (?1, NULL, 'digest', 'queued', ?2, ?2, ?3)",
                    params![user_id, now, serde_json::to_string(&items).expect("ids and names serialise")],
                )?;
                let digest_id = tx.last_insert_rowid();
                let mut listed =
                    tx.prepare_cached("UPDATE mail_queue SET state = 'digested', digest_id = ?2 WHERE id = ?1")?;
                for id in &unread {
                    listed.execute(params![id, digest_id])?;
                }
                run.mail_id = Some(digest_id);
            }
            {
                let mut skipped = tx.prepare_cached(
                    "UPDATE mail_queue SET state = 'skipped', last_error = 'read, answered or deleted before the digest'
                     WHERE id = ?1",
                )?;
                for (id, ..) in held.iter().filter(|(_, unread, _)| !*unread) {
                    skipped.execute([id])?;
                }
            }
            tx.execute(
                "INSERT INTO digest_runs (user_id, ran_at) VALUES (?1, ?2)
                 ON CONFLICT (user_id) DO UPDATE SET ran_at = excluded.ran_at",
                params![user_id, now],
            )?;
            tx.commit()?;
            Ok(run)
        })
        .await
    }

    /// The notifications digest mail `mail_id` lists, as they are now: those still there and
    /// unread, newest first.
    pub(crate) fn digest_items(
        conn: &rusqlite::Connection,
        user_id: i64,
        items: &str,
    ) -> Result<Vec<herald_proto::Notification>, StoreError> {
        let items: DigestItems =
            serde_json::from_str(items).map_err(|e| StoreError::Task(format!("a digest's items unreadable: {e}")))?;
        let mut listed = Vec::with_capacity(items.ids.len());
        for id in items.ids {
            if let Some(n) = super::notifications::get_own(conn, user_id, id)? {
                if !n.read && n.answer.is_none() {
                    listed.push(n);
                }
            }
        }
        Ok(listed)
    }

    /// The types digest mail `mail_id` of `user_id` lists (what its unsubscribe link stops);
    /// None if there is no such digest of theirs.
    pub async fn digest_types(&self, user_id: i64, mail_id: i64) -> Result<Option<Vec<String>>, StoreError> {
        self.with(move |conn| {
            let items: Option<Option<String>> = conn
                .query_row(
                    "SELECT items FROM mail_queue WHERE id = ?1 AND user_id = ?2 AND mode = 'digest'",
                    [mail_id, user_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(Some(items)) = items else { return Ok(None) };
            let items: DigestItems = serde_json::from_str(&items)
                .map_err(|e| StoreError::Task(format!("a digest's items unreadable: {e}")))?;
            Ok(Some(items.types))
        })
        .await
    }

    /// When `user_id`'s last digest ran.
    pub async fn last_digest_run(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        self.with(move |conn| {
            Ok(conn
                .query_row("SELECT ran_at FROM digest_runs WHERE user_id = ?1", [user_id], |r| r.get(0))
                .optional()?)
        })
        .await
    }
}
