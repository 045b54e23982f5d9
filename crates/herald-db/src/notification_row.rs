//! A notification as a SQLite row: the one column list and mapping that the hub's store and the
//! desktop mirror share, so a field added to `Notification` is added in one place.

use herald_proto::{Notification, ObjectRef, Priority};
use rusqlite::types::{FromSqlError, ToSql};
use rusqlite::Row;

/// The columns, in the order [`to_params`] gives values for.
pub const COLUMNS: &str =
    "id, type, subject, body, link, tag, sub_tag, priority, object_type, object_id, sender, created_at, read";
/// `?1, ?2, …` for [`COLUMNS`].
pub const PLACEHOLDERS: &str = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13";

/// Reads a row selected with [`COLUMNS`].
pub fn from_row(row: &Row<'_>) -> rusqlite::Result<Notification> {
    let priority: String = row.get("priority")?;
    let priority = Priority::parse(&priority).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(FromSqlError::InvalidType))
    })?;
    let object = match (row.get::<_, Option<String>>("object_type")?, row.get::<_, Option<String>>("object_id")?) {
        (Some(kind), Some(id)) => Some(ObjectRef { kind, id }),
        _ => None,
    };
    Ok(Notification {
        id: row.get("id")?,
        kind: row.get("type")?,
        subject: row.get("subject")?,
        body: row.get("body")?,
        link: row.get("link")?,
        tag: row.get("tag")?,
        sub_tag: row.get("sub_tag")?,
        priority,
        object,
        sender: row.get("sender")?,
        created_at: row.get("created_at")?,
        read: row.get("read")?,
    })
}

/// The values of [`COLUMNS`], for an `INSERT … VALUES (PLACEHOLDERS)`.
pub fn to_params(n: &Notification) -> [&dyn ToSql; 13] {
    [
        &n.id,
        &n.kind,
        &n.subject,
        &n.body,
        &n.link,
        &n.tag,
        &n.sub_tag,
        priority_text(n.priority),
        object_part(&n.object, |o| &o.kind),
        object_part(&n.object, |o| &o.id),
        &n.sender,
        &n.created_at,
        &n.read,
    ]
}

fn priority_text(priority: Priority) -> &'static &'static str {
    match priority {
        Priority::Low => &"low",
        Priority::Normal => &"normal",
        Priority::High => &"high",
        Priority::Critical => &"critical",
    }
}

fn object_part<'a>(object: &'a Option<ObjectRef>, part: impl Fn(&'a ObjectRef) -> &'a String) -> &'a dyn ToSql {
    match object {
        Some(object) => part(object),
        None => &rusqlite::types::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_survives_the_round_trip() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE n (id INTEGER PRIMARY KEY, type TEXT, subject TEXT, body TEXT, link TEXT, tag TEXT, sub_tag TEXT,
             priority TEXT, object_type TEXT, object_id TEXT, sender TEXT, created_at TEXT, read INTEGER)",
        )
        .unwrap();
        let full = Notification {
            id: 7,
            kind: "purchase.approval".into(),
            subject: "PO-42".into(),
            body: "12 400 EUR".into(),
            link: Some("/po/42".into()),
            tag: Some("po-42".into()),
            sub_tag: Some("approval".into()),
            priority: Priority::High,
            object: Some(ObjectRef { kind: "purchase.order".into(), id: "42".into() }),
            sender: Some("ann".into()),
            created_at: "2026-11-21T10:00:00.000Z".into(),
            read: true,
        };
        let bare =
            Notification { id: 8, link: None, tag: None, sub_tag: None, object: None, sender: None, ..full.clone() };
        for n in [&full, &bare] {
            conn.execute(&format!("INSERT INTO n ({COLUMNS}) VALUES ({PLACEHOLDERS})"), to_params(n).as_slice())
                .unwrap();
            let back = conn.query_row(&format!("SELECT {COLUMNS} FROM n WHERE id = ?1"), [n.id], from_row).unwrap();
            assert_eq!(&back, n);
        }
    }
}
