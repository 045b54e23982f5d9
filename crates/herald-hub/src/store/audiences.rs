//! Who a notification reaches (seed 001): users by name, everyone with a role, the members of
//! an organisation, the followers of an object. Memberships are managed here too.

use rusqlite::{params, Connection, OptionalExtension};

use super::{Store, StoreError, User};

/// One send reaches at most this many users; larger audiences are refused, not truncated.
pub const MAX_RECIPIENTS: usize = 100_000;

pub use herald_proto::ObjectRef;

/// A resolved audience, as the store understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    Users(Vec<String>),
    Role(String),
    Organization(String),
    FollowersOf(ObjectRef),
    Everyone,
}

pub(super) fn check_name(what: &'static str, value: &str) -> Result<(), StoreError> {
    let ok = (1..=128).contains(&value.chars().count()) && !value.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidName { what, value: value.to_owned() })
    }
}

fn user_id(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    conn.query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0)).map_err(|e| match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::UnknownUser(name.to_owned()),
        other => other.into(),
    })
}

fn ids(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    /// The user ids an audience reaches, without repeats: in the given order for a list of
    /// users, by user id otherwise. A named user who does not exist fails the whole send.
    pub async fn resolve(&self, recipients: Recipients) -> Result<Vec<i64>, StoreError> {
        self.with(move |conn| {
            let mut found = match &recipients {
                Recipients::Users(names) => names.iter().map(|n| user_id(conn, n)).collect::<Result<Vec<_>, _>>()?,
                Recipients::Role(role) => {
                    ids(conn, "SELECT user_id FROM user_roles WHERE role = ?1 ORDER BY user_id", [role])?
                }
                Recipients::Organization(org) => ids(
                    conn,
                    "SELECT user_id FROM organization_members WHERE organization = ?1 ORDER BY user_id",
                    [org],
                )?,
                Recipients::Everyone => ids(conn, "SELECT id FROM users ORDER BY id", [])?,
                Recipients::FollowersOf(object) => ids(
                    conn,
                    "SELECT user_id FROM follows WHERE object_type = ?1 AND object_id = ?2 ORDER BY user_id",
                    params![object.kind, object.id],
                )?,
            };
            let mut seen = std::collections::HashSet::with_capacity(found.len());
            found.retain(|id| seen.insert(*id));
            if found.len() > MAX_RECIPIENTS {
                return Err(StoreError::TooManyRecipients(found.len()));
            }
            Ok(found)
        })
        .await
    }

    /// The roles of the user `user_id`, in name order.
    pub async fn roles_of(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        self.read(None, move |conn| {
            let mut statement = conn.prepare("SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role")?;
            let roles = statement.query_map([user_id], |row| row.get(0))?.collect::<Result<_, _>>()?;
            Ok(roles)
        })
        .await
    }

    /// Whether the user `user_id` holds `role`.
    pub async fn has_role(&self, user_id: i64, role: &str) -> Result<bool, StoreError> {
        let role = role.to_owned();
        self.read(None, move |conn| {
            Ok(conn
                .query_row("SELECT 1 FROM user_roles WHERE user_id = ?1 AND role = ?2", params![user_id, role], |_| {
                    Ok(())
                })
                .optional()?
                .is_some())
        })
        .await
    }

    pub async fn grant_role(&self, user: &str, role: &str) -> Result<(), StoreError> {
        check_name("role", role)?;
        let (user, role) = (user.to_owned(), role.to_owned());
        self.with(move |conn| {
            let id = user_id(conn, &user)?;
            conn.execute("INSERT OR IGNORE INTO user_roles (role, user_id) VALUES (?1, ?2)", params![role, id])?;
            Ok(())
        })
        .await
    }

    pub async fn revoke_role(&self, user: &str, role: &str) -> Result<(), StoreError> {
        let (user, role) = (user.to_owned(), role.to_owned());
        self.with(move |conn| {
            let id = user_id(conn, &user)?;
            conn.execute("DELETE FROM user_roles WHERE role = ?1 AND user_id = ?2", params![role, id])?;
            Ok(())
        })
        .await
    }

    pub async fn add_org_member(&self, organization: &str, user: &str) -> Result<(), StoreError> {
        check_name("organisation", organization)?;
        let (user, organization) = (user.to_owned(), organization.to_owned());
        self.with(move |conn| {
            let id = user_id(conn, &user)?;
            conn.execute(
                "INSERT OR IGNORE INTO organization_members (organization, user_id) VALUES (?1, ?2)",
                params![organization, id],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn remove_org_member(&self, organization: &str, user: &str) -> Result<(), StoreError> {
        let (user, organization) = (user.to_owned(), organization.to_owned());
        self.with(move |conn| {
            let id = user_id(conn, &user)?;
            conn.execute(
                "DELETE FROM organization_members WHERE organization = ?1 AND user_id = ?2",
                params![organization, id],
            )?;
            Ok(())
        })
        .await
    }

    /// `user` follows `object` (or stops following it).
    pub async fn set_follow(&self, user: &str, object: ObjectRef, follow: bool) -> Result<(), StoreError> {
        check_name("object type", &object.kind)?;
        check_name("object id", &object.id)?;
        let user = user.to_owned();
        self.with(move |conn| {
            let id = user_id(conn, &user)?;
            let sql = if follow {
                "INSERT OR IGNORE INTO follows (object_type, object_id, user_id) VALUES (?1, ?2, ?3)"
            } else {
                "DELETE FROM follows WHERE object_type = ?1 AND object_id = ?2 AND user_id = ?3"
            };
            conn.execute(sql, params![object.kind, object.id, id])?;
            Ok(())
        })
        .await
    }

    /// Every user with their roles and organisations, by name.
    pub async fn list_users(&self) -> Result<Vec<(User, Vec<String>, Vec<String>)>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT u.id, u.name,
                        (SELECT group_concat(role, char(31)) FROM (SELECT role FROM user_roles WHERE user_id = u.id ORDER BY role)),
                        (SELECT group_concat(organization, char(31)) FROM (SELECT organization FROM organization_members WHERE user_id = u.id ORDER BY organization))
                 FROM users u ORDER BY u.name",
            )?;
            let split = |v: Option<String>| v.map(|s| s.split('\u{1f}').map(String::from).collect()).unwrap_or_default();
            let rows = stmt.query_map([], |r| {
                Ok((User { id: r.get(0)?, name: r.get(1)? }, split(r.get(2)?), split(r.get(3)?)))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Removes a user with everything that is theirs: tokens, notifications, log, memberships.
    pub async fn remove_user(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.with(move |conn| {
            let id = user_id(conn, &name)?;
            conn.execute("DELETE FROM users WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_with(names: &[&str]) -> Store {
        let store = Store::open_in_memory().unwrap();
        for name in names {
            store.add_user(name).await.unwrap();
        }
        store
    }

    #[tokio::test]
    async fn roles_organisations_and_follows_resolve_to_their_members_once() {
        let store = store_with(&["ann", "bob", "cy"]).await;
        store.grant_role("cy", "finance").await.unwrap();
        store.grant_role("ann", "finance").await.unwrap();
        store.grant_role("ann", "finance").await.unwrap();
        store.add_org_member("acme", "bob").await.unwrap();
        let post = ObjectRef { kind: "blog.post".into(), id: "42".into() };
        store.set_follow("bob", post.clone(), true).await.unwrap();
        store.set_follow("cy", post.clone(), true).await.unwrap();

        let ids = |names: &[&str]| {
            let store = store.clone();
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            async move { store.resolve(Recipients::Users(names)).await.unwrap() }
        };
        let (ann_bob_cy, cy) = (ids(&["ann", "bob", "cy"]).await, ids(&["cy"]).await);
        assert_eq!(store.resolve(Recipients::Role("finance".into())).await.unwrap(), [ann_bob_cy[0], ann_bob_cy[2]]);
        assert_eq!(store.resolve(Recipients::Organization("acme".into())).await.unwrap(), [ann_bob_cy[1]]);
        assert_eq!(store.resolve(Recipients::FollowersOf(post.clone())).await.unwrap(), [ann_bob_cy[1], cy[0]]);
        assert!(store.resolve(Recipients::Role("nobody-has-it".into())).await.unwrap().is_empty());

        store.set_follow("bob", post.clone(), false).await.unwrap();
        store.revoke_role("ann", "finance").await.unwrap();
        assert_eq!(store.resolve(Recipients::FollowersOf(post)).await.unwrap(), cy);
        assert_eq!(store.resolve(Recipients::Role("finance".into())).await.unwrap(), cy);
    }

    #[tokio::test]
    async fn a_list_of_users_keeps_its_order_drops_repeats_and_fails_on_a_stranger() {
        let store = store_with(&["ann", "bob"]).await;
        let both = store.resolve(Recipients::Users(vec!["bob".into(), "ann".into(), "bob".into()])).await.unwrap();
        assert_eq!(both.len(), 2);
        let bob = store.resolve(Recipients::Users(vec!["bob".into()])).await.unwrap();
        assert_eq!(both[0], bob[0], "recipient order is the caller's");
        let err = store.resolve(Recipients::Users(vec!["ann".into(), "zed".into()])).await.unwrap_err();
        assert!(matches!(err, StoreError::UnknownUser(name) if name == "zed"));
    }

    #[tokio::test]
    async fn removing_a_user_removes_their_memberships_and_inbox() {
        let store = store_with(&["ann"]).await;
        store.grant_role("ann", "ops").await.unwrap();
        store.add_org_member("acme", "ann").await.unwrap();
        let listed = store.list_users().await.unwrap();
        assert_eq!((listed[0].1.clone(), listed[0].2.clone()), (vec!["ops".to_string()], vec!["acme".to_string()]));
        store.remove_user("ann").await.unwrap();
        assert!(store.list_users().await.unwrap().is_empty());
        assert!(store.resolve(Recipients::Role("ops".into())).await.unwrap().is_empty());
        assert!(matches!(store.remove_user("ann").await, Err(StoreError::UnknownUser(_))));
    }
}
