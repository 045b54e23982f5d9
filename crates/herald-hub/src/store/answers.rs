//! Answers to notifications: a confirm button's value or a text reply (seed 003's
//! `im.notify.confirm` and `im.notify.answer`). Once only; answering also reads it.

use herald_db::notification_row::{from_row, COLUMNS};
use herald_proto::{Answer, ChangeKind, Notification};
use rusqlite::{params, Connection, OptionalExtension};

use super::callbacks::enqueue;
use super::changes::append;
use super::notifications::{announce_delivered, insert_for_each, Delivered};
use super::{now_rfc3339, NewNotification, Store, StoreError};
use crate::types::ChannelRule;

/// What the user answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Confirm(String),
    Text(String),
}

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("you have no notification {0}")]
    NotFound(i64),
    #[error("notification {0} was already answered")]
    AlreadyAnswered(i64),
    #[error("notification {id} has no button with value {value:?}")]
    NoSuchButton { id: i64, value: String },
    #[error("notification {0} does not take a text answer")]
    NoReply(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AnswerError {
    fn from(e: rusqlite::Error) -> Self {
        AnswerError::Store(e.into())
    }
}

/// The type of the notification that tells a sender their notification was answered.
pub const ANSWER_KIND: &str = "herald.answer";

/// An answer taken: the notification as it is now, and whether a callback is queued for its app.
#[derive(Debug, Clone)]
pub struct Answered {
    pub notification: Notification,
    pub callback_queued: bool,
}

impl Store {
    /// Records the user's answer, marks the notification read and logs an `updated` change. In
    /// the same transaction the answer is passed on to whoever sent the notification: a sending
    /// app gets a queued callback, a sending user a `herald.answer` notification in their inbox
    /// (with `rule`, that type's channels).
    pub async fn answer(
        &self,
        user_id: i64,
        id: i64,
        response: Response,
        rule: ChannelRule,
    ) -> Result<Answered, AnswerError> {
        self.write(move |tx, out| {
            let select = format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1 AND user_id = ?2");
            let mut notification =
                tx.query_row(&select, params![id, user_id], from_row).optional()?.ok_or(AnswerError::NotFound(id))?;
            if notification.answer.is_some() {
                return Err(AnswerError::AlreadyAnswered(id));
            }
            let at = now_rfc3339();
            let (answer, said) = match response {
                Response::Confirm(value) => match notification.buttons.iter().find(|b| b.value == value) {
                    Some(button) => (Answer { value: Some(value), text: None, at }, button.label.clone()),
                    None => return Err(AnswerError::NoSuchButton { id, value }),
                },
                Response::Text(text) if notification.reply.is_some() => {
                    (Answer { value: None, text: Some(text.clone()), at }, text)
                }
                Response::Text(_) => return Err(AnswerError::NoReply(id)),
            };
            let json = serde_json::to_string(&answer).map_err(|e| StoreError::Task(e.to_string()))?;
            tx.execute("UPDATE notifications SET answer = ?1, read = 1 WHERE id = ?2", params![json, id])?;
            notification.answer = Some(answer);
            notification.read = true;
            let change = append(tx, user_id, ChangeKind::Updated { notification: notification.clone() })?;

            let (sender_app, responder): (Option<String>, String) = tx.query_row(
                "SELECT n.sender_app, u.name FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let callback_queued = match &sender_app {
                Some(app) => enqueue(tx, app, &answered_payload(&notification, &responder))?,
                None => false,
            };
            let told_sender = match &notification.sender {
                Some(sender) => tell_sender(tx, sender, &responder, &notification, &said, rule)?,
                None => Vec::new(),
            };
            out.push(user_id, vec![change]);
            announce_delivered(out, told_sender);
            Ok(Answered { notification, callback_queued })
        })
        .await
    }
}

/// What an app's callback URL receives when one of its notifications is answered.
fn answered_payload(notification: &Notification, responder: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "notification.answered",
        "notification": {
            "id": notification.id,
            "type": notification.kind,
            "subject": notification.subject,
            "tag": notification.tag,
            "sub_tag": notification.sub_tag,
            "object": notification.object,
        },
        "user": responder,
        "answer": notification.answer,
    })
}

/// A personal notification's sender finds the answer in their own inbox (and feed). A sender
/// removed since gets nothing, and neither does a new account that took their name.
fn tell_sender(
    tx: &Connection,
    sender: &str,
    responder: &str,
    answered: &Notification,
    said: &str,
    rule: ChannelRule,
) -> Result<Vec<Delivered>, StoreError> {
    // The account must be older than the notification: a name freed by a removed user and taken
    // again belongs to someone else, who must not receive answers meant for the old account.
    let Some(sender_id) = tx
        .query_row(
            "SELECT id FROM users WHERE name = ?1 AND created_at <= ?2",
            params![sender, answered.created_at],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Ok(Vec::new());
    };
    let reply = NewNotification {
        kind: ANSWER_KIND.to_owned(),
        body: said.to_owned(),
        link: answered.link.clone(),
        object: answered.object.clone(),
        sender: Some(responder.to_owned()),
        rule,
        ..NewNotification::new(format!("{responder} answered \u{201c}{}\u{201d}", answered.subject))
    };
    insert_for_each(tx, &[sender_id], &reply)
}
