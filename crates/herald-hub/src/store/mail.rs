//! The mail queue (issue 19): one row per mail owed, written in the same transaction as the
//! notification it is about, so a crash never loses one; marked sent only once the SMTP server
//! accepted it. Users' addresses live here too.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{now_rfc3339, Store, StoreError};
use crate::types::EmailMode;

/// A mail whose time has come, with what it needs to be written.
#[derive(Debug, Clone)]
pub struct DueMail {
    pub id: i64,
    pub user_id: i64,
    pub user: String,
    /// None: the user's address was removed after the mail was queued.
    pub address: Option<String>,
    pub mode: String,
    pub attempts: u32,
    pub created_at: String,
    /// None: the notification was deleted meanwhile (or this is a digest).
    pub notification: Option<herald_proto::Notification>,
    /// A daily digest's notifications still unread, newest first; None: not a digest.
    pub digest: Option<Vec<herald_proto::Notification>>,
}

/// What became of one mail taken from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// The SMTP server accepted it.
    Sent(i64),
    /// Not to be sent: `state` is `skipped` or `no_address`, `why` says what happened.
    NotSent { id: i64, state: &'static str, why: String },
    /// A try failed with `error`: tried again at `retry_at`, or given up (`failed`) if None.
    Failed { id: i64, error: String, retry_at: Option<String> },
}

/// How many mails are in each state, for `/v1/admin/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MailCounts {
    /// Waiting to be sent (including retries after a transient failure).
    pub queued: u64,
    /// Kept for a daily digest.
    pub held: u64,
    /// Listed in a digest mail (which is counted itself as queued, sent, …).
    pub digested: u64,
    /// Accepted by the SMTP server.
    pub sent: u64,
    /// Refused for good (a permanent SMTP error, a bad address) or given up on.
    pub failed: u64,
    /// Not sent: the notification was read, answered or deleted before its mail was due.
    pub skipped: u64,
    /// Not sent: the recipient has no address.
    pub no_address: u64,
}

/// The mail one send owes, collected while its recipients are inserted and written as one
/// `mail_pending` row in the same transaction (see migration 15).
#[derive(Debug, Default)]
pub(super) struct OwedMail(Vec<(i64, i64, &'static str, f64)>);

impl OwedMail {
    pub(super) fn push(&mut self, user_id: i64, notification_id: i64, mode: EmailMode) {
        let after = match mode {
            EmailMode::Unread { after } => after.as_secs_f64(),
            _ => 0.0,
        };
        self.0.push((user_id, notification_id, mode.as_str(), after));
    }

    pub(super) fn write(self, tx: &Connection, now: &str) -> Result<(), StoreError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let entries = serde_json::to_string(&self.0).map_err(|e| StoreError::Task(e.to_string()))?;
        tx.prepare_cached("INSERT INTO mail_pending (created_at, entries) VALUES (?1, ?2)")?
            .execute(params![now, entries])?;
        Ok(())
    }
}

/// Turns every `mail_pending` row into `mail_queue` rows, in one transaction: a user without an
/// address gets a `no_address` row (counted, never sent), a digest one is held, an `unread` one
/// is due after its wait. Returns how many mails it queued.
fn expand_pending(conn: &mut Connection, settled: &str) -> Result<usize, StoreError> {
    // Immediate: it reads, then writes; a deferred one would fail, not wait, when another process
    // (`digest send`) wrote in between.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let pending: Vec<(i64, String, String)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, created_at, entries FROM mail_pending WHERE created_at <= ?1 ORDER BY id LIMIT 64",
        )?;
        let rows = stmt.query_map([settled], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut queued = 0;
    for (id, created_at, entries) in pending {
        let entries: Vec<(i64, i64, String, f64)> =
            serde_json::from_str(&entries).map_err(|e| StoreError::Task(format!("pending mail unreadable: {e}")))?;
        for (user_id, notification_id, mode, after) in entries {
            let mode = match mode.as_str() {
                "unread" => EmailMode::Unread { after: std::time::Duration::from_secs_f64(after.max(0.0)) },
                "digest" => EmailMode::Digest,
                _ => EmailMode::Immediate,
            };
            queue(&tx, user_id, notification_id, mode, &created_at)?;
            queued += 1;
        }
        tx.prepare_cached("DELETE FROM mail_pending WHERE id = ?1")?.execute([id])?;
    }
    tx.commit()?;
    Ok(queued)
}

/// Queues the mail `mode` owes for `notification_id` to `user_id`, due from `created_at` (when
/// the notification was sent).
fn queue(tx: &Connection, user_id: i64, notification_id: i64, mode: EmailMode, now: &str) -> Result<(), StoreError> {
    let has_address: Option<bool> = tx
        .prepare_cached("SELECT email IS NOT NULL FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?;
    // A user removed since the send (their notifications went with them): nothing owed.
    let Some(has_address) = has_address else { return Ok(()) };
    let (state, due_at) = match mode {
        _ if !has_address => ("no_address", now.to_owned()),
        EmailMode::Immediate => ("queued", now.to_owned()),
        EmailMode::Unread { after } => ("queued", later(now, after)),
        EmailMode::Digest => ("held", now.to_owned()),
    };
    tx.prepare_cached(
        "INSERT INTO mail_queue (user_id, notification_id, mode, state, due_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![user_id, notification_id, mode.as_str(), state, due_at, now])?;
    Ok(())
}

/// `now` plus `wait`, in the store's time format.
fn later(now: &str, wait: std::time::Duration) -> String {
    let Ok(at) = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339) else {
        return now.to_owned();
    };
    super::stored_time(at + wait).unwrap_or_else(|| now.to_owned())
}

/// An address as the hub keeps it: trimmed, one `@` with something on each side, no spaces or
/// angle brackets (the SMTP library checks the rest when it sends).
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    address.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

impl Store {
    /// Turns the mail sends owe into queue rows (see [`expand_pending`]), those of sends at
    /// least `settle` old: the mail worker gives a send's live feeds that long first (a
    /// 10,000-recipient fan-out takes ~0.4 s here), `digest send` takes everything. How many
    /// mails it queued.
    pub async fn expand_pending_mail(&self, settle: std::time::Duration) -> Result<usize, StoreError> {
        self.with(move |conn| {
            let settled = super::stored_time_before(settle).unwrap_or_else(now_rfc3339);
            let mut total = 0;
            loop {
                match expand_pending(conn, &settled)? {
                    0 => return Ok(total),
                    n => total += n,
                }
            }
        })
        .await
    }

    /// Sets (or with None removes) `name`'s address. False if there is no such user.
    pub async fn set_email(&self, name: &str, email: Option<String>) -> Result<bool, StoreError> {
        if let Some(address) = &email {
            if !valid_address(address) {
                return Err(StoreError::InvalidEmail(address.clone()));
            }
        }
        let name = name.to_owned();
        self.with(move |conn| {
            Ok(conn.execute("UPDATE users SET email = ?2 WHERE name = ?1", params![name, email])? == 1)
        })
        .await
    }

    /// `user_id`'s address, if they have one.
    pub async fn email_of(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        self.with(move |conn| {
            Ok(conn.query_row("SELECT email FROM users WHERE id = ?1", [user_id], |r| r.get(0)).optional()?.flatten())
        })
        .await
    }

    /// Takes up to `limit` queued mails due now, oldest first, claiming each for `lease`: no
    /// later call returns them until their outcome is recorded or the lease has run out (a
    /// worker that died with them).
    pub async fn due_mail(&self, limit: u32, lease: std::time::Duration) -> Result<Vec<DueMail>, StoreError> {
        self.with(move |conn| {
            let now = now_rfc3339();
            let claimed_until = later(&now, lease);
            // Each due mail, and the notification it is about (read below, as it is now).
            let due: Vec<(DueMail, Option<i64>, Option<String>)> = {
                let mut stmt = conn.prepare_cached(
                    "SELECT q.id, q.user_id, u.name, u.email, q.mode, q.attempts, q.created_at, q.notification_id, q.items
                     FROM mail_queue q JOIN users u ON u.id = q.user_id
                     WHERE q.state = 'queued' AND q.due_at <= ?1 AND (q.claimed_until IS NULL OR q.claimed_until <= ?1)
                     ORDER BY q.due_at, q.id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now, limit], |r| {
                    let mail = DueMail {
                        id: r.get(0)?,
                        user_id: r.get(1)?,
                        user: r.get(2)?,
                        address: r.get(3)?,
                        mode: r.get(4)?,
                        attempts: r.get(5)?,
                        created_at: r.get(6)?,
                        notification: None,
                        digest: None,
                    };
                    Ok((mail, r.get(7)?, r.get(8)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            // Claimed in the same call that read them (the store's one writer connection makes
            // the two one step), in one commit.
            let tx = conn.unchecked_transaction()?;
            {
                let mut claim = tx.prepare_cached("UPDATE mail_queue SET claimed_until = ?2 WHERE id = ?1")?;
                for (mail, ..) in &due {
                    claim.execute(params![mail.id, claimed_until])?;
                }
            }
            tx.commit()?;
            let mut mails = Vec::with_capacity(due.len());
            for (mut mail, notification_id, items) in due {
                if let Some(id) = notification_id {
                    mail.notification = super::notifications::get_own(conn, mail.user_id, id)?;
                }
                if let Some(items) = items {
                    mail.digest = Some(Store::digest_items(conn, mail.user_id, &items)?);
                }
                mails.push(mail);
            }
            Ok(mails)
        })
        .await
    }

    /// When the next queued mail is due (or its claim runs out), if any is queued.
    pub async fn next_mail_at(&self) -> Result<Option<String>, StoreError> {
        self.with(|conn| {
            Ok(conn.query_row(
                "SELECT min(coalesce(max(due_at, claimed_until), due_at)) FROM mail_queue WHERE state = 'queued'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Releases every claim: at a hub's start, those of a process that died mid-send (only one
    /// hub sends from one database). Returns how many were released.
    pub async fn release_mail_claims(&self) -> Result<usize, StoreError> {
        self.with(|conn| {
            Ok(conn.execute("UPDATE mail_queue SET claimed_until = NULL WHERE claimed_until IS NOT NULL", [])?)
        })
        .await
    }

    /// Records what became of mails taken with [`Store::due_mail`], all in one transaction (one
    /// commit for many sends), and releases their claims.
    pub async fn record_mail_outcomes(&self, outcomes: Vec<MailOutcome>) -> Result<(), StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let now = now_rfc3339();
            for outcome in &outcomes {
                match outcome {
                    MailOutcome::Sent(id) => tx.prepare_cached(
                        "UPDATE mail_queue SET state = 'sent', sent_at = ?2, attempts = attempts + 1, claimed_until = NULL
                         WHERE id = ?1 AND state = 'queued'",
                    )?
                    .execute(params![id, now])?,
                    MailOutcome::NotSent { id, state, why } => tx
                        .prepare_cached(
                            "UPDATE mail_queue SET state = ?2, last_error = ?3, claimed_until = NULL
                             WHERE id = ?1 AND state = 'queued'",
                        )?
                        .execute(params![id, state, why])?,
                    MailOutcome::Failed { id, error, retry_at } => tx
                        .prepare_cached(
                            "UPDATE mail_queue SET attempts = attempts + 1, last_error = ?2, claimed_until = NULL,
                             due_at = coalesce(?3, due_at), state = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'queued' END
                             WHERE id = ?1 AND state = 'queued'",
                        )?
                        .execute(params![id, error, retry_at])?,
                };
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Why mails to `user_id` were not sent, oldest first: (state, tries, the last error).
    pub async fn mail_outcomes(&self, user_id: i64) -> Result<Vec<(String, u32, Option<String>)>, StoreError> {
        self.with(move |conn| {
            let mut stmt =
                conn.prepare("SELECT state, attempts, last_error FROM mail_queue WHERE user_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn mail_counts(&self) -> Result<MailCounts, StoreError> {
        self.with(|conn| {
            let mut counts = MailCounts::default();
            // Owed by a send and not yet in the queue: counted as queued.
            let pending: u64 =
                conn.query_row("SELECT coalesce(sum(json_array_length(entries)), 0) FROM mail_pending", [], |r| {
                    r.get(0)
                })?;
            let mut stmt = conn.prepare("SELECT state, count(*) FROM mail_queue GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
            for row in rows {
                let (state, n) = row?;
                match state.as_str() {
                    "queued" => counts.queued += n,
                    "held" => counts.held = n,
                    "digested" => counts.digested = n,
                    "sent" => counts.sent = n,
                    "failed" => counts.failed = n,
                    "skipped" => counts.skipped = n,
                    "no_address" => counts.no_address = n,
                    _ => {}
                }
            }
            counts.queued += pending;
            Ok(counts)
        })
        .await
    }
}
