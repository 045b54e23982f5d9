//! Notification rows, one per recipient, and their read state.

use herald_db::notification_row::{self, JsonColumns, AWAITS_CONFIRMATION, COLUMNS, PLACEHOLDERS};
use herald_proto::{Button, ChangeKind, Notification, ObjectRef, Priority, Reply, DEFAULT_KIND};
use rusqlite::{params, Connection, OptionalExtension};

use super::changes::append;
use super::preferences::SwitchesByUser;
use super::writer::Announcements;
use super::{now_rfc3339, Store, StoreError};
use crate::preferences::{channels_on, resolve};
use crate::types::ChannelRule;

/// What a sender supplies; the store adds id, time and read state.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub tag: Option<String>,
    pub sub_tag: Option<String>,
    pub priority: Priority,
    pub object: Option<ObjectRef>,
    /// The sending user's name, for a personal notification.
    pub sender: Option<String>,
    /// The sending app, for a system notification: answers go to its callback URL.
    pub sender_app: Option<String>,
    pub buttons: Vec<Button>,
    pub reply: Option<Reply>,
    /// The type's channels from the schema; each recipient's preferences apply on top.
    pub rule: ChannelRule,
    /// RFC 3339 UTC in the store's format (see [`super::normalize_time`]).
    pub expires_at: Option<String>,
}

impl NewNotification {
    /// A plain notification with only a subject; set the other fields as needed.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            kind: DEFAULT_KIND.to_owned(),
            subject: subject.into(),
            body: String::new(),
            link: None,
            tag: None,
            sub_tag: None,
            priority: Priority::Normal,
            object: None,
            sender: None,
            sender_app: None,
            buttons: Vec::new(),
            reply: None,
            rule: ChannelRule::default(),
            expires_at: None,
        }
    }

    fn for_recipient(&self, created_at: &str) -> Notification {
        Notification {
            id: 0,
            kind: self.kind.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            link: self.link.clone(),
            tag: self.tag.clone(),
            sub_tag: self.sub_tag.clone(),
            priority: self.priority,
            object: self.object.clone(),
            sender: self.sender.clone(),
            buttons: self.buttons.clone(),
            reply: self.reply.clone(),
            answer: None,
            channels: Vec::new(),
            expires_at: self.expires_at.clone(),
            created_at: created_at.to_owned(),
            read: false,
        }
    }
}

/// Deletes the recipient's notifications with `tag` from the same sender (a new one replaces
/// them) and logs it. Only the same sender: nobody can wipe another sender's notifications by
/// reusing their tag. A sender is a user (`sender`), an app (`sender_app`), or neither (an
/// admin's send): three namespaces, an app's apart from every other app's.
fn replace_tagged(
    tx: &Connection,
    user_id: i64,
    tag: &str,
    sender: Option<&str>,
    sender_app: Option<&str>,
) -> Result<Option<herald_proto::Change>, StoreError> {
    let replaced: Vec<i64> = {
        let mut stmt = tx.prepare_cached(
            "DELETE FROM notifications WHERE user_id = ?1 AND tag = ?2 AND sender IS ?3 AND sender_app IS ?4
             RETURNING id",
        )?;
        let rows = stmt.query_map(params![user_id, tag, sender, sender_app], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    if replaced.is_empty() {
        return Ok(None);
    }
    Ok(Some(append(tx, user_id, ChangeKind::Deleted { ids: replaced })?))
}

/// One recipient's new notification and the log entries it made (a replaced one's deletion too).
pub(super) type Delivered = (i64, Notification, Vec<herald_proto::Change>);

/// Inserts `new` for each recipient inside `tx` (replacing theirs with the same tag) and appends
/// the changes to their logs. The caller commits, then announces.
pub(super) fn insert_for_each(
    tx: &Connection,
    recipients: &[i64],
    new: &NewNotification,
) -> Result<Vec<Delivered>, StoreError> {
    let switches = SwitchesByUser::load(tx, &new.kind)?;
    insert_with(tx, recipients, new, &switches)
}

/// [`insert_for_each`] with the recipients' preference switches for `new.kind` already loaded.
pub(super) fn insert_with(
    tx: &Connection,
    recipients: &[i64],
    new: &NewNotification,
    switches: &SwitchesByUser,
) -> Result<Vec<Delivered>, StoreError> {
    let created_at = now_rfc3339();
    let mut delivered = Vec::with_capacity(recipients.len());
    // A new notification's id is 0, which becomes NULL, so SQLite assigns the next id.
    let values = PLACEHOLDERS.replacen("?1,", "NULLIF(?1, 0),", 1);
    let (user_param, app_param) = (notification_row::COUNT + 1, notification_row::COUNT + 2);
    let insert = format!(
        "INSERT INTO notifications (user_id, sender_app, {COLUMNS}) VALUES (?{user_param}, ?{app_param}, {values})"
    );
    let mut owed_mail = super::mail::OwedMail::default();
    for &user_id in recipients {
        let mut changes = Vec::new();
        if let Some(tag) = &new.tag {
            changes.extend(replace_tagged(tx, user_id, tag, new.sender.as_deref(), new.sender_app.as_deref())?);
        }
        let mut notification = new.for_recipient(&created_at);
        let (roles, own) = switches.of(user_id);
        notification.channels = channels_on(&resolve(&new.rule, &new.kind, roles, own));
        let json = JsonColumns::of(&notification);
        let mut values = notification_row::to_params(&notification, &json).to_vec();
        values.push(&user_id);
        values.push(&new.sender_app);
        tx.prepare_cached(&insert)?.execute(values.as_slice())?;
        notification.id = tx.last_insert_rowid();
        super::words::index(tx, notification.id, user_id, &notification.subject, &notification.body)?;
        if notification.channels.contains(&herald_proto::Channel::Email) {
            owed_mail.push(user_id, notification.id, switches.email_mode(user_id, &new.kind, new.rule.email));
        }
        changes.push(append(tx, user_id, ChangeKind::Created { notification: notification.clone() })?);
        delivered.push((user_id, notification, changes));
    }
    owed_mail.write(tx, &created_at)?;
    Ok(delivered)
}

/// `user_id`'s notification `id`, if it is theirs and still there.
pub(super) fn get_own(conn: &Connection, user_id: i64, id: i64) -> Result<Option<Notification>, StoreError> {
    let select = format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1 AND user_id = ?2");
    Ok(conn
        .prepare_cached(&select)?
        .query_row(rusqlite::params![id, user_id], notification_row::from_row)
        .optional()?)
}

/// Queues what [`insert_for_each`] logged for announcement once its group has committed.
pub(super) fn announce_delivered(out: &mut Announcements, delivered: Vec<Delivered>) -> Vec<Notification> {
    delivered
        .into_iter()
        .map(|(user_id, notification, changes)| {
            out.push(user_id, changes);
            notification
        })
        .collect()
}

impl Store {
    /// Stores one notification for each recipient (replacing any of theirs with the same tag),
    /// appends the changes to each recipient's log, and announces them — in one transaction.
    pub async fn deliver(&self, recipients: Vec<i64>, new: NewNotification) -> Result<Vec<Notification>, StoreError> {
        self.write(move |tx, out| {
            let delivered = insert_for_each(tx, &recipients, &new)?;
            Ok(announce_delivered(out, delivered))
        })
        .await
    }

    /// `user_id`'s notification `id`, if it is theirs.
    pub async fn notification(&self, user_id: i64, id: i64) -> Result<Option<Notification>, StoreError> {
        self.with(move |conn| get_own(conn, user_id, id)).await
    }

    /// A page of `user_id`'s notifications, newest first, starting below id `before`.
    /// Returns the page and whether more follow.
    pub async fn list(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<Notification>, bool), StoreError> {
        self.search(user_id, before, limit, super::ListFilter::default()).await
    }

    /// Marks those of `ids` that belong to `user_id` read or unread. Ids of other users are ignored
    /// exactly like ids that do not exist, so nobody learns which ids exist. Returns how many changed.
    pub async fn mark_read(&self, user_id: i64, ids: Vec<i64>, read: bool) -> Result<u32, StoreError> {
        self.write(move |tx, out| {
            let mut changed = Vec::new();
            {
                // Reading never answers a confirm-type notification: it stays unread until answered.
                let mut update = tx.prepare_cached(&format!(
                    "UPDATE notifications SET read = ?1 WHERE id = ?2 AND user_id = ?3 AND read != ?1
                     AND (?1 = 0 OR NOT {AWAITS_CONFIRMATION})"
                ))?;
                for id in ids {
                    if update.execute(params![read, id, user_id])? == 1 {
                        changed.push(id);
                    }
                }
            }
            if changed.is_empty() {
                return Ok(0);
            }
            let count = changed.len() as u32;
            let change = append(tx, user_id, ChangeKind::ReadChanged { ids: changed, read })?;
            out.push(user_id, vec![change]);
            Ok(count)
        })
        .await
    }
}

impl Store {
    /// Marks `id` read and, unless `only_current`, every newer notification of the user too
    /// (seed 003's `im.notify.read`). Returns how many changed.
    pub async fn read_from(&self, user_id: i64, id: i64, only_current: bool) -> Result<u32, StoreError> {
        let ids = if only_current { vec![id] } else { self.unread_ids(user_id, id).await? };
        self.mark_read(user_id, ids, true).await
    }

    /// Marks every notification of the user read. Returns how many changed.
    pub async fn read_all(&self, user_id: i64) -> Result<u32, StoreError> {
        let ids = self.unread_ids(user_id, i64::MIN).await?;
        self.mark_read(user_id, ids, true).await
    }

    /// The user's unread ids from `from_id` up.
    async fn unread_ids(&self, user_id: i64, from_id: i64) -> Result<Vec<i64>, StoreError> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM notifications WHERE user_id = ?1 AND read = 0 AND id >= ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![user_id, from_id], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The user's notification ids with `tag` and/or `sub_tag` (None matches any).
    pub async fn tagged_ids(
        &self,
        user_id: i64,
        tag: Option<String>,
        sub_tag: Option<String>,
    ) -> Result<Vec<i64>, StoreError> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM notifications WHERE user_id = ?1
                 AND (?2 IS NULL OR tag = ?2) AND (?3 IS NULL OR sub_tag = ?3) ORDER BY id",
            )?;
            let rows = stmt.query_map(params![user_id, tag, sub_tag], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Deletes those of `ids` that belong to the user and logs a `deleted` change. Returns the
    /// ids actually deleted (others' ids are ignored, as if they did not exist).
    pub async fn delete(&self, user_id: i64, ids: Vec<i64>) -> Result<Vec<i64>, StoreError> {
        self.write(move |tx, out| {
            let mut deleted = Vec::new();
            {
                let mut delete = tx.prepare_cached("DELETE FROM notifications WHERE id = ?1 AND user_id = ?2")?;
                for id in ids {
                    if delete.execute(params![id, user_id])? == 1 {
                        deleted.push(id);
                    }
                }
            }
            if deleted.is_empty() {
                return Ok(deleted);
            }
            let change = append(tx, user_id, ChangeKind::Deleted { ids: deleted.clone() })?;
            out.push(user_id, vec![change]);
            Ok(deleted)
        })
        .await
    }
}

impl Store {
    /// Deletes every notification whose `expires_at` has passed, logging a `deleted` change for
    /// each user, so clients drop them (and their toasts). Returns how many went.
    pub async fn delete_expired(&self) -> Result<usize, StoreError> {
        self.write(|tx, out| {
            let expired: Vec<(i64, i64)> = {
                let mut stmt = tx.prepare_cached(
                    "DELETE FROM notifications WHERE expires_at IS NOT NULL AND expires_at <= ?1 RETURNING user_id, id",
                )?;
                let rows = stmt.query_map([now_rfc3339()], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            if expired.is_empty() {
                return Ok(0);
            }
            let mut by_user: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
            for &(user_id, id) in &expired {
                by_user.entry(user_id).or_default().push(id);
            }
            let mut changes = Vec::with_capacity(by_user.len());
            for (user_id, mut ids) in by_user {
                ids.sort_unstable();
                changes.push((user_id, append(tx, user_id, ChangeKind::Deleted { ids })?));
            }
            for (user_id, change) in changes {
                out.push(user_id, vec![change]);
            }
            Ok(expired.len())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(subject: &str) -> NewNotification {
        NewNotification { body: "body".into(), ..NewNotification::new(subject) }
    }

    #[tokio::test]
    async fn delivery_logs_a_change_per_recipient_and_announces_it() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let (bob, _) = store.add_user("bob").await.unwrap();
        let mut bus = store.subscribe(alice.id);
        let delivered = store.deliver(vec![alice.id, bob.id], note("Task due")).await.unwrap();
        assert_eq!(delivered.len(), 2);
        assert_ne!(delivered[0].id, delivered[1].id, "one row per recipient");

        let first = bus.recv().await.unwrap();
        let alice_log = store.changes_since(alice.id, 0, 100).await.unwrap();
        assert_eq!(alice_log.len(), 1);
        assert_eq!(alice_log[0], *first, "alice's channel carries alice's change");
        assert!(
            matches!(&alice_log[0].kind, ChangeKind::Created { notification } if notification.subject == "Task due")
        );
    }

    #[tokio::test]
    async fn list_pages_newest_first_and_only_own() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let (bob, _) = store.add_user("bob").await.unwrap();
        for i in 0..5 {
            store.deliver(vec![alice.id], note(&format!("a{i}"))).await.unwrap();
        }
        store.deliver(vec![bob.id], note("b")).await.unwrap();

        let (page, more) = store.list(alice.id, None, 3).await.unwrap();
        assert!(more);
        assert_eq!(page.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["a4", "a3", "a2"]);
        let (rest, more) = store.list(alice.id, Some(page[2].id), 3).await.unwrap();
        assert!(!more);
        assert_eq!(rest.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["a1", "a0"]);
    }

    #[tokio::test]
    async fn read_from_an_id_reads_it_and_everything_newer_unless_only_current() {
        let store = Store::open_in_memory().unwrap();
        let (ann, _) = store.add_user("ann").await.unwrap();
        let mut ids = Vec::new();
        for i in 0..4 {
            ids.push(store.deliver(vec![ann.id], note(&format!("n{i}"))).await.unwrap()[0].id);
        }
        assert_eq!(store.read_from(ann.id, ids[1], true).await.unwrap(), 1);
        assert_eq!(store.read_from(ann.id, ids[2], false).await.unwrap(), 2);
        let (page, _) = store.list(ann.id, None, 10).await.unwrap();
        assert_eq!(page.iter().map(|n| n.read).collect::<Vec<_>>(), [true, true, true, false], "newest first");
        assert_eq!(store.read_all(ann.id).await.unwrap(), 1);
        assert_eq!(store.read_all(ann.id).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn delete_removes_own_rows_and_logs_it() {
        let store = Store::open_in_memory().unwrap();
        let (ann, _) = store.add_user("ann").await.unwrap();
        let (bob, _) = store.add_user("bob").await.unwrap();
        let a = store.deliver(vec![ann.id], note("a")).await.unwrap()[0].id;
        let b = store.deliver(vec![bob.id], note("b")).await.unwrap()[0].id;
        assert_eq!(store.delete(ann.id, vec![a, b]).await.unwrap(), [a]);
        assert!(store.list(ann.id, None, 10).await.unwrap().0.is_empty());
        assert_eq!(store.list(bob.id, None, 10).await.unwrap().0.len(), 1, "bob's is not ann's to delete");
        let log = store.changes_since(ann.id, 0, 10).await.unwrap();
        assert_eq!(log.last().unwrap().kind, ChangeKind::Deleted { ids: vec![a] });
    }

    #[tokio::test]
    async fn mark_read_changes_only_own_and_only_real_changes() {
        let store = Store::open_in_memory().unwrap();
        let (alice, _) = store.add_user("alice").await.unwrap();
        let (bob, _) = store.add_user("bob").await.unwrap();
        let a = store.deliver(vec![alice.id], note("a")).await.unwrap()[0].id;
        let b = store.deliver(vec![bob.id], note("b")).await.unwrap()[0].id;

        assert_eq!(store.mark_read(alice.id, vec![a, b], true).await.unwrap(), 1, "bob's is not alice's to read");
        assert_eq!(store.mark_read(alice.id, vec![a], true).await.unwrap(), 0, "already read");
        let (bobs, _) = store.list(bob.id, None, 10).await.unwrap();
        assert!(!bobs[0].read);
        let log = store.changes_since(alice.id, 0, 100).await.unwrap();
        assert_eq!(log.last().unwrap().kind, ChangeKind::ReadChanged { ids: vec![a], read: true });
    }
}
