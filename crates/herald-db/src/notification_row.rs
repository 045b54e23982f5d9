//! A notification as a SQLite row: the one column list and mapping that the hub's store and the
//! desktop mirror share, so a field added to `Notification` is added in one place.

use herald_proto::{Notification, ObjectRef, Priority};
use rusqlite::types::{FromSqlError, ToSql};
use rusqlite::Row;

/// The columns, in the order [`to_params`] gives values for.
pub const COLUMNS: &str = "id, type, subject, body, link, tag, sub_tag, priority, object_type, object_id, sender, \
     buttons, reply, answer, created_at, read, channels, expires_at";
/// `?1, ?2, …` for [`COLUMNS`].
pub const PLACEHOLDERS: &str = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18";
/// How many columns [`COLUMNS`] has; the next free parameter number is one more.
pub const COUNT: usize = 18;

/// SQL that is true for a confirm-type notification still waiting for its answer, which bulk
/// "mark read" skips (seed 003).
pub const AWAITS_CONFIRMATION: &str = "(buttons IS NOT NULL AND answer IS NULL)";

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
        buttons: json_column(row, "buttons")?.unwrap_or_default(),
        reply: json_column(row, "reply")?,
        answer: json_column(row, "answer")?,
        created_at: row.get("created_at")?,
        read: row.get("read")?,
        channels: json_column(row, "channels")?.unwrap_or_default(),
        expires_at: row.get("expires_at")?,
    })
}

/// Buttons, reply, answer and channels are small JSON documents in one column each.
fn json_column<T: serde::de::DeserializeOwned>(row: &Row<'_>, column: &str) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(column)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))),
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("notification parts always serialise")
}

/// The JSON columns of a notification, made once to be bound next to [`to_params`].
pub struct JsonColumns {
    buttons: Option<String>,
    reply: Option<String>,
    answer: Option<String>,
    channels: String,
}

impl JsonColumns {
    pub fn of(n: &Notification) -> Self {
        Self {
            buttons: (!n.buttons.is_empty()).then(|| json(&n.buttons)),
            reply: n.reply.as_ref().map(json),
            answer: n.answer.as_ref().map(json),
            channels: json(&n.channels),
        }
    }
}

/// The values of [`COLUMNS`], for an `INSERT … VALUES (PLACEHOLDERS)`.
pub fn to_params<'a>(n: &'a Notification, json: &'a JsonColumns) -> [&'a dyn ToSql; COUNT] {
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
        &json.buttons,
        &json.reply,
        &json.answer,
        &n.created_at,
        &n.read,
        &json.channels,
        &n.expires_at,
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
             priority TEXT, object_type TEXT, object_id TEXT, sender TEXT, buttons TEXT, reply TEXT, answer TEXT,
             created_at TEXT, read INTEGER, channels TEXT, expires_at TEXT)",
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
            buttons: vec![herald_proto::Button {
                value: "Y".into(),
                label: "Approve".into(),
                style: herald_proto::ButtonStyle::Accept,
            }],
            reply: Some(herald_proto::Reply { placeholder: "Why?".into() }),
            answer: Some(herald_proto::Answer {
                value: Some("Y".into()),
                text: None,
                at: "2026-11-21T11:00:00.000Z".into(),
            }),
            channels: vec![herald_proto::Channel::Inbox, herald_proto::Channel::Email],
            expires_at: Some("2026-11-22T10:00:00.000Z".into()),
            created_at: "2026-11-21T10:00:00.000Z".into(),
            read: true,
        };
        let bare = Notification::plain(8, "bare", "2026-11-21T10:00:00.000Z");
        for n in [&full, &bare] {
            let json = JsonColumns::of(n);
            conn.execute(&format!("INSERT INTO n ({COLUMNS}) VALUES ({PLACEHOLDERS})"), to_params(n, &json).as_slice())
                .unwrap();
            let back = conn.query_row(&format!("SELECT {COLUMNS} FROM n WHERE id = ?1"), [n.id], from_row).unwrap();
            assert_eq!(&back, n);
        }
    }
}
