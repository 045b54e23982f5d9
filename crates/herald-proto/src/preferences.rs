//! Channels, the notification-type schema and each user's preferences (seed 001): which channels
//! a notification reaches, quiet hours and do-not-disturb.

use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// Where a notification is shown. `inbox` is always on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Channel {
    /// The list in the app; every notification is there.
    Inbox,
    /// A native toast on the user's desktop.
    Desktop,
    /// A browser notification raised by an open web inbox (seed 001's live push to a browser).
    WebPush,
    /// An e-mail (the hub records the choice; sending mail is another system's job).
    Email,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Inbox, Channel::Desktop, Channel::WebPush, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Inbox => "inbox",
            Channel::Desktop => "desktop",
            Channel::WebPush => "web_push",
            Channel::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Reads a list from a hub's answer, leaving out the entries this version does not know (a
/// channel added by a newer hub): a client keeps syncing, and shows what it knows, instead of
/// refusing the whole notification or schema. Requests to the hub stay strict.
pub fn known_entries<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let raw = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(raw.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect())
}

/// Answer of `GET /v1/schema`: the notification types this hub knows, by module.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Schema {
    /// Every channel there is.
    #[serde(deserialize_with = "known_entries")]
    pub channels: Vec<Channel>,
    /// What a type not listed here gets.
    pub defaults: TypeChannels,
    pub modules: Vec<ModuleSchema>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ModuleSchema {
    /// The part of a type before the first dot, e.g. `social`.
    pub module: String,
    pub types: Vec<TypeSchema>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TypeSchema {
    #[serde(rename = "type")]
    pub kind: String,
    /// For people, e.g. "Replies to your comments".
    pub title: String,
    #[serde(flatten)]
    pub channels: TypeChannels,
    /// A critical type cannot be turned off: all its default channels are locked.
    pub critical: bool,
}

/// The channels a type reaches unless a role or the user says otherwise, and those nobody may
/// turn off (`inbox` always among them).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TypeChannels {
    #[serde(deserialize_with = "known_entries")]
    pub channels: Vec<Channel>,
    #[serde(deserialize_with = "known_entries")]
    pub locked: Vec<Channel>,
}

/// One switch: `type` is a full type (`social.reply`) or a whole module (`social`); the type's
/// own switch wins over its module's.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PreferenceOverride {
    #[serde(rename = "type")]
    pub kind: String,
    pub channel: Channel,
    pub enabled: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A weekly schedule of quiet time in the user's time zone: no toasts (the inbox still fills).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QuietHours {
    /// An IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub periods: Vec<QuietPeriod>,
}

/// Quiet from `from` to `to` (`HH:MM`, 24 h) starting on each of `days`; `to` before `from`
/// runs past midnight into the next day (22:00–07:00).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QuietPeriod {
    pub days: Vec<Weekday>,
    pub from: String,
    pub to: String,
}

/// What every device of the user honours before showing a toast; sent in the feed after `hello`
/// and again whenever it changes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DoNotDisturb {
    pub quiet_hours: Option<QuietHours>,
    /// Until this time (RFC 3339, UTC) nothing toasts; null: off.
    pub dnd_until: Option<String>,
}

/// Answer of `GET /v1/preferences`: the effective channels of every type in the schema, the
/// user's own switches, and do-not-disturb.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Preferences {
    pub types: Vec<TypePreferences>,
    pub overrides: Vec<PreferenceOverride>,
    /// The user's own choices of how a type (or module) reaches their mail.
    #[serde(default)]
    pub email_modes: Vec<EmailModeOverride>,
    /// The user's address and whether this hub sends mail at all.
    #[serde(default)]
    pub email: EmailStatus,
    #[serde(flatten)]
    pub do_not_disturb: DoNotDisturb,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TypePreferences {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(deserialize_with = "known_entries")]
    pub channels: Vec<ChannelState>,
    /// How its mail goes out when the email channel is on (absent from older hubs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<TypeEmail>,
}

/// A number of minutes (fractions allowed). JSON has no NaN, so one read from the wire is
/// always a number and equal to itself: `Eq` holds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Minutes(pub f64);

impl Eq for Minutes {}

/// How mail of a type goes out (types.toml's `email`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EmailDelivery {
    /// Within seconds.
    Immediate,
    /// Only if still unread (and unanswered, not deleted) after `after_minutes`.
    Unread,
    /// In the daily digest.
    Digest,
}

/// A type's mail mode as it is for this user, and which layer decided it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TypeEmail {
    pub mode: EmailDelivery,
    /// With `unread`: minutes it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<f64>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub after_minutes: Option<Minutes>,
    /// `default` (types.toml) or `user`.
    pub source: PreferenceSource,
}

/// A user's choice of how mail of a type, or of a whole module, goes out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EmailModeOverride {
    #[serde(rename = "type")]
    pub kind: String,
    pub mode: EmailDelivery,
    /// Needed with `unread` (0 to 10080, a week); not allowed with the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<f64>")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub after_minutes: Option<Minutes>,
}

/// Mail as this user gets it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EmailStatus {
    /// Where their mail goes; null: they get none (an admin sets it).
    pub address: Option<String>,
    /// False: this hub has no SMTP server configured and sends no mail to anyone.
    pub hub_sends_mail: bool,
    /// The hour (0–23) of the daily digest, in `digest_timezone`.
    pub digest_hour: u8,
    /// The digest hour's zone: the user's quiet-hours zone, else the organisation's.
    pub digest_timezone: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChannelState {
    pub channel: Channel,
    pub on: bool,
    /// The user cannot change it.
    pub locked: bool,
    /// Which layer decided `on`.
    pub source: PreferenceSource,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PreferenceSource {
    /// The type schema.
    Default,
    /// One of the user's roles.
    Role,
    /// The user's own switch.
    User,
}

/// Body of `PUT /v1/preferences`: each field present replaces what the hub has; a field left
/// out stays as it is (so "do not disturb for an hour" need not resend the switches).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PreferencesUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub overrides: Option<Vec<PreferenceOverride>>,
    /// Replaces the user's email modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email_modes: Option<Vec<EmailModeOverride>>,
    /// `null` clears the schedule.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub quiet_hours: Option<Option<QuietHours>>,
    /// `null` turns do-not-disturb off.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub dnd_until: Option<Option<String>>,
}

/// A field that is present (even as `null`) becomes `Some`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_tells_absent_from_null() {
        let absent: PreferencesUpdate = serde_json::from_str("{}").unwrap();
        assert_eq!(absent, PreferencesUpdate::default());
        let cleared: PreferencesUpdate = serde_json::from_str(r#"{"dnd_until": null}"#).unwrap();
        assert_eq!(cleared.dnd_until, Some(None));
        assert_eq!(cleared.quiet_hours, None);
        assert!(serde_json::from_str::<PreferencesUpdate>(r#"{"dnd": null}"#).is_err(), "typos are refused");
    }

    #[test]
    fn a_channel_this_version_does_not_know_is_left_out_of_answers_not_fatal() {
        let schema: Schema = serde_json::from_value(serde_json::json!({
            "channels": ["inbox", "pager", "email"],
            "defaults": {"channels": ["inbox", "pager"], "locked": ["inbox"]},
            "modules": [],
        }))
        .unwrap();
        assert_eq!(schema.channels, [Channel::Inbox, Channel::Email]);
        assert_eq!(schema.defaults.channels, [Channel::Inbox]);
        // A request naming one is still refused.
        assert!(serde_json::from_str::<Channel>("\"pager\"").is_err());
    }

    #[test]
    fn channels_read_and_write_their_names() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
            assert_eq!(serde_json::to_value(channel).unwrap(), channel.as_str());
        }
    }
}
