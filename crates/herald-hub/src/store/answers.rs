//! Answers to notifications: a confirm button's value or a text reply (seed 003's
//! `im.notify.confirm` and `im.notify.answer`). Once only; answering also reads it.

use herald_db::notification_row::{from_row, COLUMNS};
use herald_proto::{Answer, ChangeKind, Notification};
use rusqlite::{params, OptionalExtension};

use super::changes::{announce, append};
use super::{now_rfc3339, Store, StoreError};

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

impl Store {
    /// Records the user's answer, marks the notification read, logs an `updated` change and
    /// returns the notification as it is now.
    pub async fn answer(&self, user_id: i64, id: i64, response: Response) -> Result<Notification, AnswerError> {
        self.with(move |conn, bus| {
            let tx = conn.transaction()?;
            let select = format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1 AND user_id = ?2");
            let mut notification =
                tx.query_row(&select, params![id, user_id], from_row).optional()?.ok_or(AnswerError::NotFound(id))?;
            if notification.answer.is_some() {
                return Err(AnswerError::AlreadyAnswered(id));
            }
            let at = now_rfc3339();
            let answer = match response {
                Response::Confirm(value) if notification.buttons.iter().any(|b| b.value == value) => {
                    Answer { value: Some(value), text: None, at }
                }
                Response::Confirm(value) => return Err(AnswerError::NoSuchButton { id, value }),
                Response::Text(text) if notification.reply.is_some() => Answer { value: None, text: Some(text), at },
                Response::Text(_) => return Err(AnswerError::NoReply(id)),
            };
            let json = serde_json::to_string(&answer).map_err(|e| StoreError::Task(e.to_string()))?;
            tx.execute("UPDATE notifications SET answer = ?1, read = 1 WHERE id = ?2", params![json, id])?;
            notification.answer = Some(answer);
            notification.read = true;
            let change = append(&tx, user_id, ChangeKind::Updated { notification: notification.clone() })?;
            tx.commit()?;
            announce(bus, user_id, vec![change]);
            Ok(notification)
        })
        .await
    }
}
