//! The outbox table: user actions waiting for the hub, each with its local effect, the key it is
//! sent with, and what undoes the effect if the hub refuses it.

use herald_db::notification_row::AWAITS_CONFIRMATION;
use herald_proto::Answer;
use rand::RngCore;
use rusqlite::{params, OptionalExtension, Transaction};

use herald_proto::MAX_IDS_PER_REQUEST;

use super::ids::{self, AccountId};
use super::notifications::set_read;
use super::{Mirror, MirrorError};
use crate::outbox::{Action, Undo};

/// An action in the outbox, as the sender takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    /// Sent as `Idempotency-Key` on every try.
    pub key: String,
    pub action: Action,
}

impl Mirror {
    /// Applies `action` to the mirror and queues it for the hub(s), in one transaction. Returns
    /// the notifications it visibly changed (their toasts can go); empty when nothing changed.
    ///
    /// An action is queued as one entry per account and per at most [`MAX_IDS_PER_REQUEST`] ids,
    /// each with its own key and its own undo: one request each, so a refused part takes back
    /// only itself.
    pub fn record_action(&mut self, action: &Action) -> Result<Vec<i64>, MirrorError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut touched = Vec::new();
        for part in parts(&tx, action)? {
            let undo = apply_locally(&tx, part.account, &part.action)?;
            touched.extend(match &undo {
                Undo::Nothing => Vec::new(),
                Undo::Read { ids, .. } => ids.clone(),
                Undo::Answered { id, .. } => vec![*id],
                Undo::Gone => match &part.action {
                    Action::Delete { ids } => ids.clone(),
                    _ => Vec::new(),
                },
            });
            // "Read all" and "read from here" mean what the user saw: the hub is told those ids,
            // not whatever is unread there by the time a queued action arrives.
            let queued = match (part.only_what_changed, &undo) {
                (false, _) => part.action,
                (true, Undo::Read { ids, read }) => Action::MarkRead { ids: ids.clone(), read: *read },
                (true, _) => continue,
            };
            tx.execute(
                "INSERT INTO outbox (account, action, idempotency_key, undo) VALUES (?1, ?2, ?3, ?4)",
                params![part.account, to_json(&queued)?, new_key(), to_json(&undo)?],
            )?;
        }
        tx.commit()?;
        Ok(touched)
    }

    /// Up to `limit` of `account`'s queued actions, oldest first (with mirror ids).
    pub fn pending_actions(&self, account: AccountId, limit: u32) -> Result<Vec<Queued>, MirrorError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, coalesce(idempotency_key, 'outbox-' || id), action FROM outbox
             WHERE account = ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![account, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut actions = Vec::new();
        for row in rows {
            let (id, key, json) = row?;
            let action =
                serde_json::from_str(&json).map_err(|e| MirrorError::Corrupt(format!("outbox entry {id}: {e}")))?;
            actions.push(Queued { id, key, action });
        }
        Ok(actions)
    }

    /// Removes an action the hub has taken.
    pub fn acknowledge_action(&mut self, id: i64) -> Result<(), MirrorError> {
        self.conn.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The hub refused the action for good: takes its local effect back (where nothing newer
    /// changed the same rows since) and removes it. Returns whether the inbox visibly changed.
    pub fn reject_action(&mut self, id: i64) -> Result<bool, MirrorError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let undo: Option<Option<String>> =
            tx.query_row("SELECT undo FROM outbox WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let undo: Undo = match undo.flatten() {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| MirrorError::Corrupt(format!("outbox undo {id}: {e}")))?
            }
            None => Undo::Nothing,
        };
        let changed = take_back(&tx, &undo)?;
        tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(changed)
    }
}

/// A delete is one request per id: an entry of at most this many stays well inside the hub's
/// burst allowance (200), so a rate-limited retry that starts the entry over can still finish.
const MAX_DELETES_PER_ENTRY: usize = 50;

/// One outbox entry's worth of an action.
struct Part {
    account: AccountId,
    action: Action,
    /// Queue the ids this changed here, not the action (read-all, read-from).
    only_what_changed: bool,
}

/// Splits an action by account and into requests of at most [`MAX_IDS_PER_REQUEST`] ids; turns
/// read-all and read-from into the reads of what is unread here.
fn parts(tx: &Transaction<'_>, action: &Action) -> Result<Vec<Part>, MirrorError> {
    let whole = |account, action| vec![Part { account, action, only_what_changed: false }];
    Ok(match action {
        Action::MarkRead { ids, read } => by_account(ids, MAX_IDS_PER_REQUEST, |account, ids| Part {
            account,
            action: Action::MarkRead { ids, read: *read },
            only_what_changed: false,
        }),
        Action::Delete { ids } => by_account(ids, MAX_DELETES_PER_ENTRY, |account, ids| Part {
            account,
            action: Action::Delete { ids },
            only_what_changed: false,
        }),
        Action::ReadAll => {
            let unread = ids_where(tx, "SELECT id FROM notifications WHERE read = 0 ORDER BY id", [])?;
            by_account(&unread, MAX_IDS_PER_REQUEST, |account, ids| Part {
                account,
                action: Action::MarkRead { ids, read: true },
                only_what_changed: true,
            })
        }
        Action::ReadFrom { id } => {
            let (_, last) = ids::range(ids::account_of(*id));
            let unread = ids_where(
                tx,
                "SELECT id FROM notifications WHERE read = 0 AND id BETWEEN ?1 AND ?2 ORDER BY id",
                [*id, last],
            )?;
            by_account(&unread, MAX_IDS_PER_REQUEST, |account, ids| Part {
                account,
                action: Action::MarkRead { ids, read: true },
                only_what_changed: true,
            })
        }
        Action::Confirm { id, .. } | Action::Answer { id, .. } => whole(ids::account_of(*id), action.clone()),
        Action::RespondToEvent { event_id, .. } => whole(ids::split_event(event_id).0, action.clone()),
        // The user's do-not-disturb is theirs on every hub.
        Action::SetDoNotDisturb { .. } => {
            let accounts = ids_where(tx, "SELECT id FROM accounts ORDER BY id", [])?;
            accounts.into_iter().flat_map(|account| whole(account, action.clone())).collect()
        }
    })
}

/// Groups `ids` by account (in order) and cuts each group into requests the hub takes.
fn by_account(ids: &[i64], per_entry: usize, part: impl Fn(AccountId, Vec<i64>) -> Part) -> Vec<Part> {
    let mut groups: std::collections::BTreeMap<AccountId, Vec<i64>> = Default::default();
    for &id in ids {
        groups.entry(ids::account_of(id)).or_default().push(id);
    }
    groups
        .into_iter()
        .flat_map(|(account, ids)| ids.chunks(per_entry).map(|c| part(account, c.to_vec())).collect::<Vec<_>>())
        .collect()
}

/// A fresh Idempotency-Key: 128 random bits.
fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Does to the mirror what the hub will do, and says how to take it back.
fn apply_locally(tx: &Transaction<'_>, account: AccountId, action: &Action) -> Result<Undo, MirrorError> {
    Ok(match action {
        Action::MarkRead { ids, read } => read_changed(tx, ids, *read)?,
        // Turned into reads of ids by `parts`.
        Action::ReadAll | Action::ReadFrom { .. } => Undo::Nothing,
        // A delete the hub refuses is one of a notification it no longer has: nothing to undo.
        Action::Delete { ids } => {
            let mut delete = tx.prepare_cached("DELETE FROM notifications WHERE id = ?1")?;
            let mut any = false;
            for id in ids {
                any |= delete.execute([id])? > 0;
            }
            if any {
                Undo::Gone
            } else {
                Undo::Nothing
            }
        }
        Action::Confirm { id, value } => {
            answered(tx, *id, Answer { value: Some(value.clone()), text: None, at: now() })?
        }
        Action::Answer { id, text } => answered(tx, *id, Answer { value: None, text: Some(text.clone()), at: now() })?,
        // Live events are not in the mirror.
        Action::RespondToEvent { .. } => Undo::Nothing,
        // Toasts hold back at once; a refusal is corrected by the hub's next word on it.
        Action::SetDoNotDisturb { until } => {
            let mut settings = super::accounts::do_not_disturb_in(tx, account)?;
            settings.dnd_until = until.clone();
            super::accounts::set_do_not_disturb_in(tx, account, &settings)?;
            Undo::Nothing
        }
    })
}

fn ids_where(tx: &Transaction<'_>, sql: &str, args: impl rusqlite::Params) -> Result<Vec<i64>, MirrorError> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets `read` on those of `ids` it changes, and remembers which they were.
fn read_changed(tx: &Transaction<'_>, ids: &[i64], read: bool) -> Result<Undo, MirrorError> {
    let mut changed = Vec::new();
    for &id in ids {
        if set_read(tx, &[id], read)? {
            changed.push(id);
        }
    }
    Ok(if changed.is_empty() { Undo::Nothing } else { Undo::Read { ids: changed, read } })
}

/// Records the user's answer on an unanswered notification (and reads it), as the hub will.
fn answered(tx: &Transaction<'_>, id: i64, answer: Answer) -> Result<Undo, MirrorError> {
    let was_read: Option<bool> = tx
        .query_row("SELECT read FROM notifications WHERE id = ?1 AND answer IS NULL", [id], |r| r.get(0))
        .optional()?;
    let Some(was_read) = was_read else { return Ok(Undo::Nothing) };
    let json = serde_json::to_string(&answer).map_err(|e| MirrorError::Corrupt(e.to_string()))?;
    tx.execute("UPDATE notifications SET answer = ?1, read = 1 WHERE id = ?2", params![json, id])?;
    Ok(Undo::Answered { id, answer: json, was_read })
}

/// Takes a local effect back, but never over something newer: a row the feed changed since keeps
/// what the feed says.
fn take_back(tx: &Transaction<'_>, undo: &Undo) -> Result<bool, MirrorError> {
    Ok(match undo {
        Undo::Nothing | Undo::Gone => false,
        Undo::Read { ids, read } => {
            let mut stmt = tx.prepare_cached(&format!(
                "UPDATE notifications SET read = ?1 WHERE id = ?2 AND read = ?3 AND (?1 = 0 OR NOT {AWAITS_CONFIRMATION})"
            ))?;
            let mut changed = false;
            for id in ids {
                changed |= stmt.execute(params![!read, id, read])? > 0;
            }
            changed
        }
        Undo::Answered { id, answer, was_read } => {
            tx.execute(
                "UPDATE notifications SET answer = NULL, read = ?3 WHERE id = ?1 AND answer = ?2",
                params![id, answer, was_read],
            )? > 0
        }
    })
}

/// Now, RFC 3339 UTC with milliseconds, as the hub writes times (the hub's own time replaces
/// it when the feed brings the answer back).
fn now() -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::now_utc().format(FORMAT).unwrap_or_default()
}

fn to_json(value: &impl serde::Serialize) -> Result<String, MirrorError> {
    serde_json::to_string(value).map_err(|e| MirrorError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use herald_proto::{Button, ButtonStyle, Change, ChangeKind, Notification};

    use super::*;

    fn mirror_with(notifications: Vec<Notification>) -> Mirror {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let changes: Vec<Change> = notifications
            .into_iter()
            .enumerate()
            .map(|(i, n)| Change { seq: i as i64 + 1, kind: ChangeKind::Created { notification: n } })
            .collect();
        let last = changes.len() as i64;
        mirror.apply(1, &changes, last, false).unwrap();
        mirror
    }

    fn invite(id: i64) -> Notification {
        let button = Button { value: "Y".into(), label: "Accept".into(), style: ButtonStyle::Accept };
        Notification { buttons: vec![button], ..Notification::plain(id, "Invite", "2026-11-21T10:00:00Z") }
    }

    #[test]
    fn an_action_shows_at_once_and_waits_for_the_hub_with_its_key() {
        let mut mirror = mirror_with(vec![Notification::plain(4, "s", "2026-01-01T00:00:00Z")]);
        let action = Action::MarkRead { ids: vec![4], read: true };
        assert_eq!(mirror.record_action(&action).unwrap(), [4]);
        assert!(mirror.get(4).unwrap().unwrap().read);
        let pending = mirror.pending_actions(1, 10).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].action, action);
        assert_eq!(pending[0].key.len(), 32);
        mirror.acknowledge_action(pending[0].id).unwrap();
        assert!(mirror.pending_actions(1, 10).unwrap().is_empty());
    }

    #[test]
    fn do_not_disturb_set_here_holds_on_every_account_and_goes_to_every_hub() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let work = mirror.upsert_account("work", "http://work/").unwrap();
        let until = Some("2026-11-21T18:00:00Z".to_owned());
        assert_eq!(mirror.record_action(&Action::SetDoNotDisturb { until: until.clone() }).unwrap(), Vec::<i64>::new());
        for account in [1, work] {
            assert_eq!(mirror.do_not_disturb(account).unwrap().dnd_until, until, "account {account}");
            let pending = mirror.pending_actions(account, 10).unwrap();
            assert_eq!(
                pending.iter().map(|q| q.action.clone()).collect::<Vec<_>>(),
                [Action::SetDoNotDisturb { until: until.clone() }]
            );
        }
        mirror.record_action(&Action::SetDoNotDisturb { until: None }).unwrap();
        assert_eq!(mirror.do_not_disturb(work).unwrap().dnd_until, None, "off again");
    }

    #[test]
    fn read_all_and_read_from_skip_unanswered_confirm_requests() {
        let mut mirror = mirror_with(
            (1..=4).map(|i| Notification::plain(i, "n", "2026-01-01T00:00:00Z")).chain([invite(5)]).collect(),
        );
        assert_eq!(mirror.record_action(&Action::ReadFrom { id: 3 }).unwrap(), [3, 4]);
        let read: Vec<bool> = (1..=5).map(|i| mirror.get(i).unwrap().unwrap().read).collect();
        assert_eq!(read, [false, false, true, true, false]);
        mirror.record_action(&Action::ReadAll).unwrap();
        let queued: Vec<Action> = mirror.pending_actions(1, 10).unwrap().into_iter().map(|q| q.action).collect();
        assert_eq!(
            queued,
            [Action::MarkRead { ids: vec![3, 4], read: true }, Action::MarkRead { ids: vec![1, 2], read: true }],
            "the hub is told the ids the user saw, not 'everything unread by then'"
        );
        assert!(!mirror.get(5).unwrap().unwrap().read, "still waits for its answer");
        assert!(mirror.get(1).unwrap().unwrap().read);
    }

    #[test]
    fn a_refused_action_is_taken_back_unless_something_newer_changed_the_row() {
        let mut mirror = mirror_with(vec![invite(1), invite(2)]);
        mirror.record_action(&Action::Confirm { id: 1, value: "Y".into() }).unwrap();
        mirror.record_action(&Action::Confirm { id: 2, value: "Y".into() }).unwrap();
        assert!(mirror.get(1).unwrap().unwrap().answer.is_some());
        // Meanwhile another device answered #2 differently, and the feed brought it.
        let other = Notification {
            answer: Some(Answer { value: Some("N".into()), text: None, at: "2026-11-21T11:00:00.000Z".into() }),
            read: true,
            ..invite(2)
        };
        mirror
            .apply(1, &[Change { seq: 10, kind: ChangeKind::Updated { notification: other.clone() } }], 10, false)
            .unwrap();

        let pending = mirror.pending_actions(1, 10).unwrap();
        assert!(mirror.reject_action(pending[0].id).unwrap());
        let first = mirror.get(1).unwrap().unwrap();
        assert_eq!((first.answer, first.read), (None, false), "taken back");
        assert!(!mirror.reject_action(pending[1].id).unwrap());
        assert_eq!(mirror.get(2).unwrap().unwrap(), other, "the feed's newer answer stays");
        assert!(mirror.pending_actions(1, 10).unwrap().is_empty());
    }

    #[test]
    fn an_action_is_queued_per_account_and_per_request_and_a_refused_part_undoes_only_itself() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let work = mirror.upsert_account("work", "http://work/").unwrap();
        let many = |from: i64, n: i64| -> Vec<Change> {
            (from..from + n)
                .map(|id| Change {
                    seq: id,
                    kind: ChangeKind::Created { notification: Notification::plain(id, "n", "2026-01-01T00:00:00Z") },
                })
                .collect()
        };
        mirror.apply(1, &many(1, 1500), 1500, true).unwrap();
        mirror.apply(work, &many(1, 2), 2, true).unwrap();
        assert_eq!(mirror.unread_count().unwrap(), 1502);

        mirror.record_action(&Action::ReadAll).unwrap();
        assert_eq!(mirror.unread_count().unwrap(), 0);
        let home = mirror.pending_actions(1, 10).unwrap();
        let sizes: Vec<usize> = home
            .iter()
            .map(|q| match &q.action {
                Action::MarkRead { ids, .. } => ids.len(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sizes, [1000, 500], "one request each");
        assert_ne!(home[0].key, home[1].key);
        let theirs = mirror.pending_actions(work, 10).unwrap();
        assert_eq!(theirs.len(), 1, "the other hub is told of its own");

        // The hub refuses the second part: only its 500 become unread again.
        assert!(mirror.reject_action(home[1].id).unwrap());
        assert_eq!(mirror.unread_count().unwrap(), 500);
        assert!(mirror.get(1).unwrap().unwrap().read, "the accepted part stays read");
    }

    #[test]
    fn local_times_are_rfc3339_utc() {
        let now = now();
        assert!(now.len() == 24 && now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }
}
