//! A notification as stored for one recipient, and the requests that create or change them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Channel;

/// One notification, stored once per recipient (seed 001: "persisted notification rows per recipient").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Notification {
    /// Unique on the hub; rises with time, so it also orders notifications.
    #[ts(type = "number")]
    pub id: i64,
    /// What kind of notice, `module.name` (e.g. `social.reply`); the module is the part before the dot.
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// Where "open" takes the user: a URL or an app route. Untrusted, like all the text here.
    pub link: Option<String>,
    /// A newer notification with the same tag replaces this one (seed 003).
    pub tag: Option<String>,
    pub sub_tag: Option<String>,
    pub priority: Priority,
    /// The object in another system this is about.
    pub object: Option<ObjectRef>,
    /// Login name of the user who sent it (a personal notification).
    pub sender: Option<String>,
    /// Confirm buttons (seed 003's CONFIRM type): the user answers with one value, once.
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// Set when the user may answer in text (seed 003's `im.notify.answer`).
    #[serde(default)]
    pub reply: Option<Reply>,
    /// The user's answer, once given.
    #[serde(default)]
    pub answer: Option<Answer>,
    /// The channels the hub resolved for this recipient when it was sent (seed 001); `inbox` is
    /// always among them, `desktop` means "toast it", `web_push` "raise a browser notification".
    /// A channel this version does not know is left out (see `known_entries`).
    #[serde(default, deserialize_with = "crate::preferences::known_entries")]
    pub channels: Vec<Channel>,
    /// After this (RFC 3339, UTC) the hub deletes it; clients may hide it already.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub read: bool,
}

/// A confirm button.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Button {
    /// What the answer records, e.g. `Y` / `N`.
    pub value: String,
    pub label: String,
    #[serde(default)]
    pub style: ButtonStyle,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ButtonStyle {
    #[default]
    Default,
    Accept,
    Cancel,
}

/// Allows a text answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Reply {
    #[serde(default)]
    pub placeholder: String,
}

/// What the user answered: a button's value or a text, and when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Answer {
    pub value: Option<String>,
    pub text: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

/// Body of `POST /v1/notifications/{id}/confirm`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConfirmRequest {
    pub value: String,
}

/// Body of `POST /v1/notifications/{id}/answer`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AnswerRequest {
    pub text: String,
}

impl Notification {
    /// A confirm-type notification not answered yet: bulk "mark read" leaves it unread (seed 003).
    pub fn awaits_confirmation(&self) -> bool {
        !self.buttons.is_empty() && self.answer.is_none()
    }
}

impl Notification {
    /// An unread notification with only an id, a subject and a time; the rest at defaults.
    pub fn plain(id: i64, subject: impl Into<String>, created_at: impl Into<String>) -> Self {
        Self {
            id,
            kind: DEFAULT_KIND.to_owned(),
            subject: subject.into(),
            body: String::new(),
            link: None,
            tag: None,
            sub_tag: None,
            priority: Priority::Normal,
            object: None,
            sender: None,
            buttons: Vec::new(),
            reply: None,
            answer: None,
            channels: vec![Channel::Inbox, Channel::Desktop],
            expires_at: None,
            created_at: created_at.into(),
            read: false,
        }
    }
}

/// How urgent a notification is; `critical` ones get critical toasts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Critical,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Priority::Low, Priority::Normal, Priority::High, Priority::Critical].into_iter().find(|p| p.as_str() == text)
    }
}

/// The type of a notification whose sender named none.
pub const DEFAULT_KIND: &str = "general";

fn default_kind() -> String {
    DEFAULT_KIND.to_owned()
}

/// Who a notification goes to (seed 001's audiences), e.g. `{"user": "alice"}`,
/// `{"role": "finance"}`, `{"followers_of": {"type": "blog.post", "id": "42"}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// One user, by login name.
    User(String),
    /// Several users, by login name; each gets one notification, in this order.
    Users(Vec<String>),
    /// Everyone who has this role.
    Role(String),
    /// Every member of this organisation.
    Organization(String),
    /// Everyone who follows this object.
    FollowersOf(ObjectRef),
    /// Every user of the hub (`{"everyone": true}`); apps and admins only.
    Everyone(bool),
}

/// An object in another system (a post, a purchase order…) that users can follow.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ObjectRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// Body of `POST /v1/notifications`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendRequest {
    pub to: Audience,
    #[serde(rename = "type", default = "default_kind")]
    pub kind: String,
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub sub_tag: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub object: Option<ObjectRef>,
    #[serde(default)]
    pub buttons: Vec<Button>,
    #[serde(default)]
    pub reply: Option<Reply>,
    /// RFC 3339; the hub deletes the notification then (a reminder that no longer matters).
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Answer of `POST /v1/notifications`: one id per recipient.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendResponse {
    #[ts(type = "number[]")]
    pub ids: Vec<i64>,
}

/// Body of `POST /v1/notifications/read`: marks the caller's own notifications read or unread
/// (seed 003, `im.notify.read.list` with `ACTION` Y/N).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MarkReadRequest {
    #[ts(type = "number[]")]
    pub ids: Vec<i64>,
    pub read: bool,
}

/// Answer of `POST /v1/notifications/read`: how many notifications actually changed state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MarkReadResponse {
    pub changed: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_request_reads_the_documented_shape() {
        let req: SendRequest = serde_json::from_str(
            r#"{"to": {"user": "alice"}, "subject": "PO approved", "body": "PO-42", "link": "/po/42"}"#,
        )
        .unwrap();
        assert_eq!(req.to, Audience::User("alice".into()));
        assert_eq!(req.link.as_deref(), Some("/po/42"));
    }

    #[test]
    fn everything_but_recipient_and_subject_is_optional() {
        let req: SendRequest = serde_json::from_str(r#"{"to": {"user": "bob"}, "subject": "Hi"}"#).unwrap();
        assert_eq!(req.body, "");
        assert_eq!(req.link, None);
        assert_eq!(req.kind, DEFAULT_KIND);
        assert_eq!(req.priority, Priority::Normal);
        let req: SendRequest = serde_json::from_str(
            r#"{"to": {"user": "bob"}, "subject": "Hi", "type": "social.reply", "priority": "critical", "tag": "t"}"#,
        )
        .unwrap();
        assert_eq!(
            (req.kind.as_str(), req.priority, req.tag.as_deref()),
            ("social.reply", Priority::Critical, Some("t"))
        );
    }

    #[test]
    fn every_audience_has_its_documented_shape() {
        let cases = [
            (r#"{"users": ["a", "b"]}"#, Audience::Users(vec!["a".into(), "b".into()])),
            (r#"{"role": "finance"}"#, Audience::Role("finance".into())),
            (r#"{"organization": "acme"}"#, Audience::Organization("acme".into())),
            (
                r#"{"followers_of": {"type": "blog.post", "id": "42"}}"#,
                Audience::FollowersOf(ObjectRef { kind: "blog.post".into(), id: "42".into() }),
            ),
        ];
        for (json, audience) in cases {
            assert_eq!(serde_json::from_str::<Audience>(json).unwrap(), audience, "{json}");
        }
    }

    #[test]
    fn unknown_audience_kind_is_rejected() {
        let err = serde_json::from_str::<SendRequest>(r#"{"to": {"planet": "mars"}, "subject": "x"}"#);
        assert!(err.is_err());
    }
}
