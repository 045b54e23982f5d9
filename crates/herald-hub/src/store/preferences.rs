//! Stored preference switches (per role, per user), quiet hours and do-not-disturb.

use std::collections::HashMap;

use herald_proto::{Channel, DoNotDisturb, QuietHours};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Store, StoreError};
use crate::preferences::Switch;
use crate::types::{module_of, EmailMode};

/// Each recipient's role switches and own switches that concern `kind` (its own and its module's),
/// and the email modes they chose for it.
#[derive(Debug, Default)]
pub(super) struct SwitchesByUser {
    switches: HashMap<i64, (Vec<Switch>, Vec<Switch>)>,
    /// (key, mode): the key is `kind` or its module.
    email_modes: HashMap<i64, Vec<(String, EmailMode)>>,
}

impl SwitchesByUser {
    /// Three indexed queries for the whole audience, not three per recipient.
    pub(super) fn load(conn: &Connection, kind: &str) -> Result<Self, StoreError> {
        let module = module_of(kind);
        let mut by_user: HashMap<i64, (Vec<Switch>, Vec<Switch>)> = HashMap::new();
        let queries = [
            "SELECT r.user_id, p.type, p.channel, p.enabled FROM role_preferences p
             JOIN user_roles r ON r.role = p.role WHERE p.type IN (?1, ?2)",
            "SELECT user_id, type, channel, enabled FROM user_preferences WHERE type IN (?1, ?2)",
        ];
        for (layer, sql) in queries.into_iter().enumerate() {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params![module, kind])?;
            while let Some(row) = rows.next()? {
                let entry = by_user.entry(row.get(0)?).or_default();
                let switch = switch_from(row.get(1)?, &row.get::<_, String>(2)?, row.get(3)?)?;
                if layer == 0 {
                    entry.0.push(switch)
                } else {
                    entry.1.push(switch)
                }
            }
        }
        let mut email_modes: HashMap<i64, Vec<(String, EmailMode)>> = HashMap::new();
        let mut stmt = conn
            .prepare_cached("SELECT user_id, type, mode, after_minutes FROM user_email_modes WHERE type IN (?1, ?2)")?;
        let mut rows = stmt.query(params![module, kind])?;
        while let Some(row) = rows.next()? {
            let mode = EmailMode::from_stored(&row.get::<_, String>(2)?, row.get(3)?).map_err(StoreError::Task)?;
            email_modes.entry(row.get(0)?).or_default().push((row.get(1)?, mode));
        }
        Ok(Self { switches: by_user, email_modes })
    }

    pub(super) fn of(&self, user_id: i64) -> (&[Switch], &[Switch]) {
        self.switches.get(&user_id).map_or((&[], &[]), |(roles, user)| (roles.as_slice(), user.as_slice()))
    }

    /// How `kind` reaches `user_id`'s mail: their own choice for the type, else for its module,
    /// else the type's `default`.
    pub(super) fn email_mode(&self, user_id: i64, kind: &str, default: EmailMode) -> EmailMode {
        let Some(chosen) = self.email_modes.get(&user_id) else { return default };
        EmailMode::chosen_for(chosen, kind).unwrap_or(default)
    }
}

fn switch_from(key: String, channel: &str, enabled: bool) -> Result<Switch, StoreError> {
    let channel = Channel::parse(channel)
        .ok_or_else(|| StoreError::Task(format!("stored preference has unknown channel {channel:?}")))?;
    Ok(Switch { key, channel, enabled })
}

fn switches(conn: &Connection, sql: &str, arg: impl rusqlite::ToSql) -> Result<Vec<Switch>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([arg])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(switch_from(row.get(0)?, &row.get::<_, String>(1)?, row.get(2)?)?);
    }
    Ok(found)
}

fn do_not_disturb(conn: &Connection, user_id: i64) -> Result<DoNotDisturb, StoreError> {
    let row: Option<(Option<String>, Option<String>)> = conn
        .query_row("SELECT quiet_hours, dnd_until FROM user_quiet WHERE user_id = ?1", [user_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((quiet_hours, dnd_until)) = row else { return Ok(DoNotDisturb::default()) };
    let quiet_hours = match quiet_hours {
        None => None,
        Some(text) => Some(
            serde_json::from_str::<QuietHours>(&text)
                .map_err(|e| StoreError::Task(format!("stored quiet hours unreadable: {e}")))?,
        ),
    };
    Ok(DoNotDisturb { quiet_hours, dnd_until })
}

fn email_modes(conn: &Connection, user_id: i64) -> Result<Vec<(String, EmailMode)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT type, mode, after_minutes FROM user_email_modes WHERE user_id = ?1 ORDER BY type")?;
    let mut rows = stmt.query([user_id])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let mode = EmailMode::from_stored(&row.get::<_, String>(1)?, row.get(2)?).map_err(StoreError::Task)?;
        found.push((row.get(0)?, mode));
    }
    Ok(found)
}

/// A user's own switches, the switches of all their roles, and their do-not-disturb.
#[derive(Debug, Clone, Default)]
pub struct StoredPreferences {
    pub roles: Vec<Switch>,
    pub user: Vec<Switch>,
    /// Their own email modes: (type or module, mode).
    pub email_modes: Vec<(String, EmailMode)>,
    /// Their address.
    pub email: Option<String>,
    pub do_not_disturb: DoNotDisturb,
}

/// What `PUT /v1/preferences` changes; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct PreferencesChange {
    pub overrides: Option<Vec<Switch>>,
    pub email_modes: Option<Vec<(String, EmailMode)>>,
    pub quiet_hours: Option<Option<QuietHours>>,
    pub dnd_until: Option<Option<String>>,
}

impl Store {
    pub async fn preferences(&self, user_id: i64) -> Result<StoredPreferences, StoreError> {
        self.with(move |conn| {
            Ok(StoredPreferences {
                roles: switches(
                    conn,
                    "SELECT p.type, p.channel, p.enabled FROM role_preferences p
                     JOIN user_roles r ON r.role = p.role WHERE r.user_id = ?1 ORDER BY p.type, p.channel",
                    user_id,
                )?,
                user: switches(
                    conn,
                    "SELECT type, channel, enabled FROM user_preferences WHERE user_id = ?1 ORDER BY type, channel",
                    user_id,
                )?,
                email_modes: email_modes(conn, user_id)?,
                email: conn
                    .query_row("SELECT email FROM users WHERE id = ?1", [user_id], |r| r.get(0))
                    .optional()?
                    .flatten(),
                do_not_disturb: do_not_disturb(conn, user_id)?,
            })
        })
        .await
    }

    /// Turns `channel` off (or on) for each of `kinds`, for `user_id`, leaving their other
    /// switches as they are (an unsubscribe link). Turning email off also skips the mail of those
    /// types still owed to them.
    pub async fn set_switches(
        &self,
        user_id: i64,
        kinds: Vec<String>,
        channel: Channel,
        enabled: bool,
    ) -> Result<(), StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut upsert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO user_preferences (user_id, type, channel, enabled) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for kind in &kinds {
                    upsert.execute(params![user_id, kind, channel.as_str(), enabled])?;
                }
            }
            if channel == Channel::Email && !enabled {
                // Mail of those types already owed (waiting to see if it is read, or held for the
                // digest) is not sent either. One on its way now is past stopping.
                let mut skip = tx.prepare_cached(
                    "UPDATE mail_queue SET state = 'skipped', last_error = 'unsubscribed'
                     WHERE user_id = ?1 AND state IN ('queued', 'held') AND claimed_until IS NULL
                       AND notification_id IN (SELECT id FROM notifications WHERE user_id = ?1 AND type = ?2)",
                )?;
                for kind in &kinds {
                    skip.execute(params![user_id, kind])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn do_not_disturb(&self, user_id: i64) -> Result<DoNotDisturb, StoreError> {
        self.with(move |conn| do_not_disturb(conn, user_id)).await
    }

    /// Applies `change` in one transaction; returns the do-not-disturb now in force.
    pub async fn set_preferences(&self, user_id: i64, change: PreferencesChange) -> Result<DoNotDisturb, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction()?;
            if let Some(overrides) = change.overrides {
                tx.execute("DELETE FROM user_preferences WHERE user_id = ?1", [user_id])?;
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO user_preferences (user_id, type, channel, enabled) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for s in overrides {
                    insert.execute(params![user_id, s.key, s.channel.as_str(), s.enabled])?;
                }
            }
            if let Some(modes) = change.email_modes {
                tx.execute("DELETE FROM user_email_modes WHERE user_id = ?1", [user_id])?;
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO user_email_modes (user_id, type, mode, after_minutes) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (key, mode) in modes {
                    insert.execute(params![user_id, key, mode.as_str(), mode.after_minutes()])?;
                }
            }
            if change.quiet_hours.is_some() || change.dnd_until.is_some() {
                let current = do_not_disturb(&tx, user_id)?;
                let quiet_hours = change.quiet_hours.unwrap_or(current.quiet_hours);
                let dnd_until = change.dnd_until.unwrap_or(current.dnd_until);
                let quiet_json = quiet_hours.as_ref().map(|q| serde_json::to_string(q).expect("serialisable"));
                tx.execute(
                    "INSERT INTO user_quiet (user_id, quiet_hours, dnd_until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id) DO UPDATE SET quiet_hours = excluded.quiet_hours, dnd_until = excluded.dnd_until",
                    params![user_id, quiet_json, dnd_until],
                )?;
            }
            let now = do_not_disturb(&tx, user_id)?;
            tx.commit()?;
            Ok(now)
        })
        .await
    }

    /// Replaces the switches every member of `role` inherits.
    pub async fn set_role_preferences(&self, role: &str, switches: Vec<Switch>) -> Result<(), StoreError> {
        super::audiences::check_name("role", role)?;
        let role = role.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM role_preferences WHERE role = ?1", [&role])?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO role_preferences (role, type, channel, enabled) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for s in switches {
                    insert.execute(params![role, s.key, s.channel.as_str(), s.enabled])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn role_preferences(&self, role: &str) -> Result<Vec<Switch>, StoreError> {
        let role = role.to_owned();
        self.with(move |conn| {
            switches(
                conn,
                "SELECT type, channel, enabled FROM role_preferences WHERE role = ?1 ORDER BY type, channel",
                role,
            )
        })
        .await
    }
}
