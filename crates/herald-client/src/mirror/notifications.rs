//! Mirrored notifications: applying the hub's changes, and the queries the inbox reads.

use herald_db::notification_row::{self, from_row, JsonColumns, AWAITS_CONFIRMATION, COLUMNS, PLACEHOLDERS};
use herald_proto::{Change, ChangeKind, Notification};
use rusqlite::{params, Transaction};

use super::accounts::{advance, current_cursor, mark_caught_up};
use super::ids::{self, AccountId};
use super::search::Before;
use super::{Mirror, MirrorError};

/// What one [`Mirror::apply`] did, for the UI and for toast decisions. Ids are mirror ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Notifications that are new to this mirror, oldest first.
    pub created: Vec<Notification>,
    /// Whether read state changed.
    pub read_changed: bool,
    /// Notifications that became read (their toasts go).
    pub read: Vec<i64>,
    /// Notifications removed from this mirror.
    pub deleted: Vec<i64>,
    /// The cursor after applying.
    pub cursor: i64,
}

impl Applied {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && !self.read_changed && self.deleted.is_empty()
    }
}

impl Mirror {
    /// Applies `account`'s `changes` (in `seq` order, with the hub's ids) and moves its cursor to
    /// `cursor` in one transaction: after a crash the mirror holds either all of them with the
    /// new cursor or none with the old. Changes at or below the current cursor were applied
    /// before and are skipped. `caught_up` records that this write completes a catch-up.
    pub fn apply(
        &mut self,
        account: AccountId,
        changes: &[Change],
        cursor: i64,
        caught_up: bool,
    ) -> Result<Applied, MirrorError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = current_cursor(&tx, account)?;
        let mut applied = Applied::default();
        let mut new_unread = NewUnread::new(account);
        for change in changes.iter().filter(|c| c.seq > current) {
            apply_one(&tx, account, &change.kind, &mut applied, &mut new_unread)?;
        }
        new_unread.record(&tx)?;
        advance(&tx, account, cursor)?;
        if caught_up {
            mark_caught_up(&tx, account)?;
        }
        applied.cursor = current_cursor(&tx, account)?;
        tx.commit()?;
        Ok(applied)
    }

    /// A page of the inbox (every account), newest first, after `before`.
    pub fn list(&self, before: Option<&Before>, limit: u32) -> Result<Vec<Notification>, MirrorError> {
        self.search(&super::Query { before: before.cloned(), limit, ..super::Query::default() })
    }

    pub fn get(&self, id: i64) -> Result<Option<Notification>, MirrorError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1"))?;
        let mut rows = stmt.query_map([id], from_row)?;
        Ok(rows.next().transpose()?)
    }

    /// Unread notifications of every account, from the counts the triggers keep (no scan of
    /// the rows).
    pub fn unread_count(&self) -> Result<u32, MirrorError> {
        Ok(self.conn.query_row("SELECT coalesce(sum(unread), 0) FROM unread_counts", [], |r| r.get(0))?)
    }

    /// Unread notifications per type (every account), most first.
    pub fn unread_by_type(&self) -> Result<Vec<(String, u32)>, MirrorError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT type, sum(unread) AS n FROM unread_counts GROUP BY type HAVING n > 0 ORDER BY n DESC, type",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every type in the inbox, in order: one step of the type index per type, not a scan of
    /// the rows (the inbox window's type filter).
    pub fn types(&self) -> Result<Vec<String>, MirrorError> {
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE next(type) AS (
                 SELECT min(type) FROM notifications
                 UNION ALL
                 SELECT (SELECT min(type) FROM notifications WHERE type > next.type) FROM next WHERE type IS NOT NULL
             )
             SELECT type FROM next WHERE type IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn is_empty(&self) -> Result<bool, MirrorError> {
        Ok(self.conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM notifications)", [], |r| r.get(0))?)
    }
}

pub(super) fn set_read(tx: &Transaction<'_>, ids: &[i64], read: bool) -> Result<bool, MirrorError> {
    // The hub's rule too: reading never answers a confirm-type notification. Built once: this
    // runs for every id of every read change.
    static UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "UPDATE notifications SET read = ?1 WHERE id = ?2 AND read != ?1 AND (?1 = 0 OR NOT {AWAITS_CONFIRMATION})"
        )
    });
    let mut stmt = tx.prepare_cached(&UPDATE)?;
    let mut changed = false;
    for id in ids {
        changed |= stmt.execute(params![read, id])? > 0;
    }
    Ok(changed)
}

/// Unread rows inserted in one batch, by type: added to `unread_counts` once per type at the end
/// (reads and deletes are counted by triggers; see migrations 5 and 6).
struct NewUnread(AccountId, std::collections::HashMap<String, i64>);

impl NewUnread {
    fn new(account: AccountId) -> Self {
        Self(account, std::collections::HashMap::new())
    }

    fn inserted(&mut self, n: &Notification) {
        if !n.read {
            *self.1.entry(n.kind.clone()).or_default() += 1;
        }
    }

    fn record(self, tx: &Transaction<'_>) -> Result<(), MirrorError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO unread_counts (account, type, unread) VALUES (?1, ?2, ?3)
             ON CONFLICT (account, type) DO UPDATE SET unread = unread + excluded.unread",
        )?;
        for (kind, count) in self.1 {
            upsert.execute(params![self.0, kind, count])?;
        }
        Ok(())
    }
}

/// The hub's notification with its mirror id, or `None` for an id no hub gives (see [`holdable`]).
fn localised(account: AccountId, n: &Notification) -> Option<Notification> {
    Some(Notification { id: holdable(account, n.id)?, ..n.clone() })
}

/// The mirror id of `hub_id`, or `None` (logged) for an id no hub gives: negative or beyond 2^40.
/// Such a change is skipped rather than failing its batch: a failed write would drop the
/// connection and meet the same change on every reconnect, so one bad id would stop all sync.
fn holdable(account: AccountId, hub_id: i64) -> Option<i64> {
    match ids::local(account, hub_id) {
        Ok(id) => Some(id),
        Err(error) => {
            tracing::warn!(account, "skipped a change the mirror cannot hold: {error}");
            None
        }
    }
}

fn apply_one(
    tx: &Transaction<'_>,
    account: AccountId,
    kind: &ChangeKind,
    applied: &mut Applied,
    new_unread: &mut NewUnread,
) -> Result<(), MirrorError> {
    match kind {
        ChangeKind::Created { notification } => {
            // Built once: a catch-up runs this 100,000 times.
            static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!("INSERT INTO notifications ({COLUMNS}) VALUES ({PLACEHOLDERS}) ON CONFLICT (id) DO NOTHING")
            });
            let Some(n) = localised(account, notification) else { return Ok(()) };
            let json = JsonColumns::of(&n);
            let inserted = tx.prepare_cached(&INSERT)?.execute(notification_row::to_params(&n, &json).as_slice())?;
            if inserted > 0 {
                new_unread.inserted(&n);
                applied.created.push(n);
            }
        }
        ChangeKind::ReadChanged { ids: hub_ids, read } => {
            for id in hub_ids.iter().filter_map(|&hub_id| holdable(account, hub_id)) {
                if set_read(tx, &[id], *read)? {
                    applied.read_changed = true;
                    if *read {
                        applied.read.push(id);
                    }
                }
            }
        }
        ChangeKind::Updated { notification } => {
            // An UPDATE, not INSERT OR REPLACE: a replace deletes without firing the triggers that
            // keep the unread counts and the search index.
            let Some(n) = &localised(account, notification) else { return Ok(()) };
            let json = JsonColumns::of(n);
            let params = notification_row::to_params(n, &json);
            static UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "UPDATE notifications SET ({}) = ({}) WHERE id = ?1",
                    COLUMNS.trim_start_matches("id, "),
                    PLACEHOLDERS.trim_start_matches("?1, ")
                )
            });
            if tx.prepare_cached(&UPDATE)?.execute(params.as_slice())? == 0 {
                let insert = format!("INSERT INTO notifications ({COLUMNS}) VALUES ({PLACEHOLDERS})");
                tx.prepare_cached(&insert)?.execute(params.as_slice())?;
                new_unread.inserted(n);
            }
            applied.read_changed = true;
            // Answered (on this device or another): its toast has done its job.
            if n.read {
                applied.read.push(n.id);
            }
        }
        ChangeKind::Deleted { ids: hub_ids } => {
            let mut delete = tx.prepare_cached("DELETE FROM notifications WHERE id = ?1")?;
            for id in hub_ids.iter().filter_map(|&hub_id| holdable(account, hub_id)) {
                if delete.execute([id])? > 0 {
                    applied.deleted.push(id);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn created(seq: i64, id: i64, subject: &str) -> Change {
        Change {
            seq,
            kind: ChangeKind::Created { notification: Notification::plain(id, subject, "2026-11-21T10:00:00.000Z") },
        }
    }

    #[test]
    fn ids_no_hub_gives_are_skipped_and_the_rest_of_the_batch_applies() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let read = |seq, ids: Vec<i64>| Change { seq, kind: ChangeKind::ReadChanged { ids, read: true } };
        let changes = [
            created(1, -10, "negative"),
            created(2, 1 << 40, "too big"),
            created(3, 7, "fine"),
            created(4, 8, "also fine"),
            read(5, vec![-1, 7, i64::MAX]),
            Change { seq: 6, kind: ChangeKind::Deleted { ids: vec![i64::MIN, 8] } },
            Change {
                seq: 7,
                kind: ChangeKind::Updated { notification: Notification::plain(-3, "x", "2026-11-21T10:00:00.000Z") },
            },
        ];
        let applied = mirror.apply(1, &changes, 7, true).expect("a bad id does not fail the batch");
        assert_eq!(mirror.cursor(1).unwrap(), 7, "the cursor moves past the skipped changes");
        assert_eq!(applied.created.iter().map(|n| n.id).collect::<Vec<_>>(), [7, 8]);
        let listed = mirror.list(None, 10).unwrap();
        assert_eq!(listed.iter().map(|n| (n.id, n.read)).collect::<Vec<_>>(), [(7, true)]);
        assert_eq!(mirror.unread_count().unwrap(), 0);
    }

    #[test]
    fn applying_stores_rows_and_cursor_together() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let applied = mirror.apply(1, &[created(3, 10, "a"), created(5, 11, "b")], 5, false).unwrap();
        assert_eq!(applied.created.len(), 2);
        assert_eq!(mirror.cursor(1).unwrap(), 5);
        assert!(!mirror.has_caught_up_once(1).unwrap());
        assert_eq!(mirror.synced_at().unwrap(), None, "half a catch-up is not in step");
        mirror.apply(1, &[], 5, true).unwrap();
        assert!(mirror.has_caught_up_once(1).unwrap());
        let synced = mirror.synced_at().unwrap().expect("a completed catch-up is in step");
        assert_eq!(synced.len(), "2026-11-21T10:00:00.000Z".len(), "{synced}: the hub's format");
        assert_eq!(mirror.unread_count().unwrap(), 2);
        assert_eq!(mirror.list(None, 10).unwrap().iter().map(|n| n.id).collect::<Vec<_>>(), [11, 10]);
    }

    #[test]
    fn the_types_are_listed_once_each_in_order() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert!(mirror.types().unwrap().is_empty());
        let of_type = |seq: i64, kind: &str| {
            let mut change = created(seq, seq, "x");
            if let ChangeKind::Created { notification } = &mut change.kind {
                notification.kind = kind.into();
            }
            change
        };
        let changes = [of_type(1, "task.due"), of_type(2, "crm.deal"), of_type(3, "task.due"), of_type(4, "call")];
        mirror.apply(1, &changes, 4, true).unwrap();
        assert_eq!(mirror.types().unwrap(), ["call", "crm.deal", "task.due"]);
    }

    #[test]
    fn replayed_changes_are_not_applied_twice() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        mirror.apply(1, &[created(3, 10, "a")], 3, false).unwrap();
        mirror
            .apply(1, &[Change { seq: 4, kind: ChangeKind::ReadChanged { ids: vec![10], read: true } }], 4, false)
            .unwrap();
        // The hub resends 3 (e.g. after a reconnect from an older cursor): it must not resurrect unread.
        let applied = mirror.apply(1, &[created(3, 10, "a"), created(6, 12, "c")], 6, false).unwrap();
        assert_eq!(applied.created.iter().map(|n| n.id).collect::<Vec<_>>(), [12]);
        assert!(mirror.get(10).unwrap().unwrap().read);
        assert_eq!(mirror.cursor(1).unwrap(), 6);
    }

    #[test]
    fn a_deleted_notification_leaves_the_inbox() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        mirror.apply(1, &[created(1, 10, "a"), created(2, 11, "b")], 2, false).unwrap();
        let applied =
            mirror.apply(1, &[Change { seq: 3, kind: ChangeKind::Deleted { ids: vec![10, 99] } }], 3, false).unwrap();
        assert_eq!(applied.deleted, [10], "only what was here counts");
        assert_eq!(mirror.list(None, 10).unwrap().iter().map(|n| n.id).collect::<Vec<_>>(), [11]);
        assert_eq!(mirror.unread_count().unwrap(), 1);
    }

    #[test]
    fn an_answer_replaces_the_copy_and_reading_skips_unanswered_confirms() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let button = herald_proto::Button { value: "Y".into(), label: "Accept".into(), style: Default::default() };
        let invite =
            Notification { buttons: vec![button], ..Notification::plain(10, "Invite", "2026-11-21T10:00:00Z") };
        mirror
            .apply(1, &[Change { seq: 1, kind: ChangeKind::Created { notification: invite.clone() } }], 1, false)
            .unwrap();
        let read = Change { seq: 2, kind: ChangeKind::ReadChanged { ids: vec![10], read: true } };
        assert!(!mirror.apply(1, &[read], 2, false).unwrap().read_changed, "not read while it waits for an answer");

        let answer = herald_proto::Answer { value: Some("Y".into()), text: None, at: "2026-11-21T10:05:00Z".into() };
        let answered = Notification { answer: Some(answer), read: true, ..invite };
        let update = Change { seq: 3, kind: ChangeKind::Updated { notification: answered.clone() } };
        assert!(mirror.apply(1, &[update], 3, false).unwrap().read_changed);
        assert_eq!(mirror.get(10).unwrap(), Some(answered));
        assert_eq!(mirror.unread_count().unwrap(), 0);
    }

    #[test]
    fn two_accounts_share_the_inbox_without_colliding() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let work = mirror.upsert_account("work", "http://work/").unwrap();
        let at = |day: u32, id: i64, subject: &str| Change {
            seq: id,
            kind: ChangeKind::Created {
                notification: Notification::plain(id, subject, format!("2026-11-{day:02}T10:00:00.000Z")),
            },
        };
        mirror.apply(1, &[at(10, 1, "home old"), at(12, 2, "home new")], 2, true).unwrap();
        // The same hub ids from another hub, in between in time.
        let applied = mirror.apply(work, &[at(11, 1, "work old"), at(13, 2, "work new")], 2, true).unwrap();
        let work_ids: Vec<i64> = applied.created.iter().map(|n| n.id).collect();
        assert!(work_ids.iter().all(|&id| ids::account_of(id) == work && id > 2), "{work_ids:?}");

        let subjects = |m: &Mirror| m.list(None, 10).unwrap().into_iter().map(|n| n.subject).collect::<Vec<_>>();
        assert_eq!(subjects(&mirror), ["work new", "home new", "work old", "home old"], "in the order it happened");
        let page = mirror.list(None, 2).unwrap();
        let next = mirror.list(Some(&Before::after(page.last().unwrap())), 10).unwrap();
        assert_eq!(next.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["work old", "home old"]);
        let only_work = mirror.search(&super::super::Query { account: Some(work), limit: 10, ..Default::default() });
        assert_eq!(only_work.unwrap().len(), 2);

        // Each account has its own cursor and counts; a read from one hub touches only its row.
        assert_eq!((mirror.cursor(1).unwrap(), mirror.cursor(work).unwrap()), (2, 2));
        let read = Change { seq: 3, kind: ChangeKind::ReadChanged { ids: vec![1], read: true } };
        assert_eq!(mirror.apply(work, &[read], 3, false).unwrap().read, [work_ids[0]]);
        assert!(!mirror.get(1).unwrap().unwrap().read, "home's #1 is another notification");
        let unread: Vec<(i64, u32)> = mirror.accounts().unwrap().iter().map(|a| (a.id, a.unread)).collect();
        assert_eq!(unread, [(1, 2), (work, 1)]);
        assert_eq!(mirror.unread_count().unwrap(), 3);

        // Starting one account over leaves the other alone.
        mirror.reset(work, crate::mirror::Reset::OtherAccount).unwrap();
        assert_eq!(subjects(&mirror), ["home new", "home old"]);
        assert_eq!((mirror.cursor(1).unwrap(), mirror.cursor(work).unwrap()), (2, 0));
        assert_eq!(mirror.unread_count().unwrap(), 2);
    }

    #[test]
    fn the_cursor_never_moves_back() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        mirror.apply(1, &[created(9, 1, "a")], 9, false).unwrap();
        mirror.apply(1, &[], 2, false).unwrap();
        assert_eq!(mirror.cursor(1).unwrap(), 9);
    }

    #[test]
    fn a_failed_apply_keeps_the_old_cursor_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        let mut mirror = Mirror::open(&path).unwrap();
        mirror.apply(1, &[created(1, 1, "kept")], 1, false).unwrap();
        // Hold a write lock from another connection so the next apply cannot commit.
        let blocker = rusqlite::Connection::open(&path).unwrap();
        blocker.busy_timeout(std::time::Duration::ZERO).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        mirror.conn.busy_timeout(std::time::Duration::from_millis(10)).unwrap();
        assert!(mirror.apply(1, &[created(2, 2, "lost?")], 2, false).is_err());
        blocker.execute_batch("ROLLBACK").unwrap();
        assert_eq!(mirror.cursor(1).unwrap(), 1);
        assert!(mirror.get(2).unwrap().is_none());
        // …and the same changes apply cleanly on the retry.
        mirror.apply(1, &[created(2, 2, "lost?")], 2, false).unwrap();
        assert!(mirror.get(2).unwrap().is_some());
    }

    #[test]
    fn a_reader_sees_what_the_writer_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite3");
        let mut writer = Mirror::open(&path).unwrap();
        let reader = Mirror::open_read_only(&path).unwrap();
        writer.apply(1, &[created(1, 7, "hello")], 1, false).unwrap();
        assert_eq!(reader.list(None, 10).unwrap()[0].subject, "hello");
    }
}
