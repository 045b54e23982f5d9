//! The accounts in the mirror — one per hub and user — each with the `seq` of the last change
//! applied (its cursor), whose inbox it is, and its do-not-disturb.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::ids::{self, AccountId, MAX_ACCOUNTS};
use super::{Mirror, MirrorError};

/// An account as the CLI and the settings window list it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Account {
    #[ts(type = "number")]
    pub id: AccountId,
    pub name: String,
    /// The hub's base URL; None until set.
    pub server: Option<String>,
    /// Whose inbox: set by the first feed that said hello.
    pub hub_id: Option<String>,
    #[ts(type = "number | null")]
    pub user_id: Option<i64>,
    #[ts(type = "number")]
    pub cursor: i64,
    pub unread: u32,
}

const ACCOUNT_COLUMNS: &str = "id, name, server, hub_id, user_id, cursor, \
     (SELECT coalesce(sum(unread), 0) FROM unread_counts WHERE account = accounts.id)";

fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        server: r.get(2)?,
        hub_id: r.get(3)?,
        user_id: r.get(4)?,
        cursor: r.get(5)?,
        unread: r.get(6)?,
    })
}

impl Mirror {
    pub fn accounts(&self) -> Result<Vec<Account>, MirrorError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"))?;
        let rows = stmt.query_map([], account_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn account_named(&self, name: &str) -> Result<Option<Account>, MirrorError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = ?1");
        Ok(self.conn.query_row(&sql, [name], account_from_row).optional()?)
    }

    /// Adds an account, or points the one of that name at `server`. A new server means a new
    /// inbox: the next feed's hello tells whether it is the same hub and user, and resets if not.
    pub fn upsert_account(&mut self, name: &str, server: &str) -> Result<AccountId, MirrorError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(MirrorError::Account(format!("{name:?} is not a usable account name (1 to 64 characters)")));
        }
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(id) = tx.query_row("SELECT id FROM accounts WHERE name = ?1", [name], |r| r.get(0)).optional()? {
            tx.execute("UPDATE accounts SET server = ?2 WHERE id = ?1", params![id, server])?;
            tx.commit()?;
            return Ok(id);
        }
        // Ids are never reused (AUTOINCREMENT): see migration 6.
        let next: AccountId = tx.query_row(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'accounts'), 0) + 1",
            [],
            |r| r.get(0),
        )?;
        if next > MAX_ACCOUNTS {
            return Err(MirrorError::Account(format!("a mirror gives out at most {MAX_ACCOUNTS} account ids")));
        }
        tx.execute("INSERT INTO accounts (name, server) VALUES (?1, ?2)", params![name, server])?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Removes an account with its notifications and queued actions.
    pub fn remove_account(&mut self, account: AccountId) -> Result<(), MirrorError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        empty(&tx, account)?;
        tx.execute("DELETE FROM outbox WHERE account = ?1", [account])?;
        tx.execute("DELETE FROM accounts WHERE id = ?1", [account])?;
        tx.commit()?;
        Ok(())
    }

    pub fn cursor(&self, account: AccountId) -> Result<i64, MirrorError> {
        self.account_field(account, "cursor")
    }

    /// Every account's do-not-disturb (see [`Self::do_not_disturb`]), by account.
    pub fn each_do_not_disturb(&self) -> Result<Vec<(AccountId, herald_proto::DoNotDisturb)>, MirrorError> {
        self.accounts()?.into_iter().map(|a| Ok((a.id, self.do_not_disturb(a.id)?))).collect()
    }

    /// The quiet hours and do-not-disturb the account's hub last announced (none yet: nothing
    /// is quiet).
    pub fn do_not_disturb(&self, account: AccountId) -> Result<herald_proto::DoNotDisturb, MirrorError> {
        do_not_disturb_in(&self.conn, account)
    }

    pub fn set_do_not_disturb(
        &mut self,
        account: AccountId,
        settings: &herald_proto::DoNotDisturb,
    ) -> Result<(), MirrorError> {
        set_do_not_disturb_in(&self.conn, account, settings)
    }

    /// Records that `account` was in step with its hub at `at` (RFC 3339 UTC).
    pub fn mark_synced(&mut self, account: AccountId, at: &str) -> Result<(), MirrorError> {
        self.conn.execute("UPDATE accounts SET synced_at = ?2 WHERE id = ?1", rusqlite::params![account, at])?;
        Ok(())
    }

    /// The last time every account was in step with its hub: the oldest of their
    /// [`Self::mark_synced`] times (None while any account has never synced). What an offline
    /// inbox shows is at least this fresh.
    pub fn synced_at(&self) -> Result<Option<String>, MirrorError> {
        Ok(self.conn.query_row(
            "SELECT CASE WHEN count(*) = count(synced_at) THEN min(synced_at) END FROM accounts",
            [],
            |r| r.get(0),
        )?)
    }

    /// Whether a catch-up has ever completed. Until then, arriving notifications are history.
    pub fn has_caught_up_once(&self, account: AccountId) -> Result<bool, MirrorError> {
        self.account_field(account, "caught_up_once")
    }

    fn account_field<T: rusqlite::types::FromSql>(&self, account: AccountId, column: &str) -> Result<T, MirrorError> {
        let sql = format!("SELECT {column} FROM accounts WHERE id = ?1");
        self.conn
            .query_row(&sql, [account], |r| r.get(0))
            .optional()?
            .ok_or_else(|| MirrorError::Account(format!("no account {account} in the mirror")))
    }
}

/// Why an account's inbox starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// The same hub lost part of its log (restored from a backup): keep queued actions (the hub
    /// ignores ids it does not know) and keep treating new arrivals as news.
    HubRestored,
    /// Another hub or another user: nothing here belongs to them, queued actions included.
    OtherAccount,
}

/// Whether this account's inbox was filled from the feed that just said hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Yes (or it was empty and now belongs to it).
    Same,
    /// No: it must be reset before anything is applied.
    Different,
}

impl Mirror {
    /// Forgets everything synced for `account` so its next sync starts from 0. Returns the
    /// actions dropped.
    pub fn reset(&mut self, account: AccountId, why: Reset) -> Result<usize, MirrorError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        empty(&tx, account)?;
        let dropped = match why {
            Reset::HubRestored => {
                tx.execute("UPDATE accounts SET cursor = 0 WHERE id = ?1", [account])?;
                0
            }
            Reset::OtherAccount => {
                tx.execute(
                    "UPDATE accounts SET cursor = 0, caught_up_once = 0, hub_id = NULL, user_id = NULL WHERE id = ?1",
                    [account],
                )?;
                tx.execute("DELETE FROM outbox WHERE account = ?1", [account])?
            }
        };
        tx.commit()?;
        Ok(dropped)
    }

    /// Compares the feed's identity with the account's; an unclaimed account adopts it.
    pub fn identify(&mut self, account: AccountId, hub_id: &str, user_id: i64) -> Result<Identity, MirrorError> {
        let (known_hub, known_user): (Option<String>, Option<i64>) =
            self.conn.query_row("SELECT hub_id, user_id FROM accounts WHERE id = ?1", [account], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        match (known_hub, known_user) {
            (Some(hub), Some(user)) if hub == hub_id && user == user_id => Ok(Identity::Same),
            (None, None) => {
                self.conn.execute(
                    "UPDATE accounts SET hub_id = ?2, user_id = ?3 WHERE id = ?1",
                    params![account, hub_id, user_id],
                )?;
                Ok(Identity::Same)
            }
            _ => Ok(Identity::Different),
        }
    }
}

/// Deletes the account's notifications and whatever the triggers left of its counts.
fn empty(tx: &Transaction<'_>, account: AccountId) -> Result<(), MirrorError> {
    let (first, last) = ids::range(account);
    tx.execute("DELETE FROM notifications WHERE id BETWEEN ?1 AND ?2", [first, last])?;
    tx.execute("DELETE FROM unread_counts WHERE account = ?1", [account])?;
    Ok(())
}

pub(super) fn current_cursor(tx: &Transaction<'_>, account: AccountId) -> Result<i64, MirrorError> {
    tx.query_row("SELECT cursor FROM accounts WHERE id = ?1", [account], |r| r.get(0))
        .optional()?
        .ok_or_else(|| MirrorError::Account(format!("no account {account} in the mirror")))
}

pub(super) fn mark_caught_up(tx: &Transaction<'_>, account: AccountId) -> Result<(), MirrorError> {
    // The time in the format the hub writes (and `mark_synced` is given): three fraction digits.
    tx.execute(
        "UPDATE accounts SET caught_up_once = 1, synced_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        [account],
    )?;
    Ok(())
}

/// Moves the cursor inside the caller's transaction, never backwards.
pub(super) fn advance(tx: &Transaction<'_>, account: AccountId, cursor: i64) -> Result<(), MirrorError> {
    tx.execute("UPDATE accounts SET cursor = max(cursor, ?2) WHERE id = ?1", [account, cursor])?;
    Ok(())
}

/// The account's do-not-disturb as last heard from its hub (or set here since).
pub(super) fn do_not_disturb_in(
    conn: &Connection,
    account: AccountId,
) -> Result<herald_proto::DoNotDisturb, MirrorError> {
    let json: Option<String> = conn
        .query_row("SELECT do_not_disturb FROM accounts WHERE id = ?1", [account], |r| r.get(0))
        .optional()?
        .ok_or_else(|| MirrorError::Account(format!("no account {account} in the mirror")))?;
    match json {
        None => Ok(herald_proto::DoNotDisturb::default()),
        Some(json) => serde_json::from_str(&json).map_err(|e| MirrorError::Corrupt(format!("do_not_disturb: {e}"))),
    }
}

pub(super) fn set_do_not_disturb_in(
    conn: &Connection,
    account: AccountId,
    settings: &herald_proto::DoNotDisturb,
) -> Result<(), MirrorError> {
    let json = serde_json::to_string(settings).map_err(|e| MirrorError::Corrupt(e.to_string()))?;
    conn.execute("UPDATE accounts SET do_not_disturb = ?2 WHERE id = ?1", params![account, json])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Action;

    #[test]
    fn the_inbox_is_as_fresh_as_its_least_recently_synced_account() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert_eq!(mirror.synced_at().unwrap(), None, "never synced");
        mirror.mark_synced(1, "2026-11-21T10:00:00.000Z").unwrap();
        assert_eq!(mirror.synced_at().unwrap().as_deref(), Some("2026-11-21T10:00:00.000Z"));
        let work = mirror.upsert_account("work", "http://work.example").unwrap();
        assert_eq!(mirror.synced_at().unwrap(), None, "one account has never synced");
        mirror.mark_synced(work, "2026-11-21T11:00:00.000Z").unwrap();
        assert_eq!(mirror.synced_at().unwrap().as_deref(), Some("2026-11-21T10:00:00.000Z"));
    }

    #[test]
    fn do_not_disturb_is_kept_for_an_offline_start() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert_eq!(mirror.do_not_disturb(1).unwrap(), herald_proto::DoNotDisturb::default());
        let dnd = herald_proto::DoNotDisturb { quiet_hours: None, dnd_until: Some("2026-11-21T12:00:00.000Z".into()) };
        mirror.set_do_not_disturb(1, &dnd).unwrap();
        assert_eq!(mirror.do_not_disturb(1).unwrap(), dnd);
    }

    #[test]
    fn an_account_belongs_to_the_first_hub_and_user_it_meets() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert_eq!(mirror.identify(1, "hub-a", 1).unwrap(), Identity::Same);
        assert_eq!(mirror.identify(1, "hub-a", 1).unwrap(), Identity::Same);
        assert_eq!(mirror.identify(1, "hub-a", 2).unwrap(), Identity::Different);
        assert_eq!(mirror.identify(1, "hub-b", 1).unwrap(), Identity::Different);
        mirror.reset(1, Reset::OtherAccount).unwrap();
        assert_eq!(mirror.identify(1, "hub-b", 1).unwrap(), Identity::Same);
    }

    #[test]
    fn a_restored_hub_keeps_queued_actions_another_account_does_not() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        mirror.record_action(&Action::MarkRead { ids: vec![1], read: true }).unwrap();
        assert_eq!(mirror.reset(1, Reset::HubRestored).unwrap(), 0);
        assert_eq!(mirror.pending_actions(1, 10).unwrap().len(), 1);
        assert_eq!(mirror.reset(1, Reset::OtherAccount).unwrap(), 1);
        assert!(mirror.pending_actions(1, 10).unwrap().is_empty());
    }

    #[test]
    fn accounts_are_added_renamed_to_a_new_server_and_removed() {
        let mut mirror = Mirror::open_in_memory().unwrap();
        assert_eq!(mirror.accounts().unwrap().iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["default"]);
        let work = mirror.upsert_account("work", "http://work:1/").unwrap();
        let club = mirror.upsert_account("club", "http://club:1/").unwrap();
        assert_eq!((work, club), (2, 3));
        assert_eq!(mirror.upsert_account("work", "http://work:2/").unwrap(), work, "same name, same account");
        assert_eq!(mirror.account_named("work").unwrap().unwrap().server.as_deref(), Some("http://work:2/"));
        mirror.remove_account(club).unwrap();
        assert_eq!(
            mirror.upsert_account("home", "http://home:1/").unwrap(),
            4,
            "a removed account's id is never given again"
        );
        assert!(matches!(mirror.upsert_account(" ", "http://x/"), Err(MirrorError::Account(_))));
        assert!(matches!(mirror.cursor(99), Err(MirrorError::Account(_))));
    }
}
