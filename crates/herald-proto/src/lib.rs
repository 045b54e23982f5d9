//! Wire types shared by `herald-hub` and its clients.
//!
//! Map of the crate:
//! - [`notification`]: a stored notification and the request that sends one.
//! - [`change`]: the per-user change log entries the feed streams, and feed frames.
//! - [`live`]: live events — pushed to connected clients only, never stored (seed 000).
//! - [`error`]: the `{code, message}` body every failed request answers with.
//! - [`page`]: cursor pagination.
//! - [`preferences`]: channels, the type schema, per-user preferences, quiet hours.
//!
//! Every type derives `ts_rs::TS` so the UI's TypeScript types are generated from here, never copied
//! by hand (see `ui/src/lib/backend/generated/`).

pub mod change;
pub mod error;
pub mod live;
pub mod notification;
pub mod page;
pub mod preferences;

pub use change::{Change, ChangeKind, ChangesPage, FeedFrame};
pub use error::{ApiError, ErrorCode};
pub use live::{EventResponseRequest, LiveEvent, LiveEventRequest, LiveEventResponse, LiveKind};
pub use notification::{
    Answer, AnswerRequest, Audience, Button, ButtonStyle, ConfirmRequest, MarkReadRequest, MarkReadResponse,
    Notification, ObjectRef, Priority, Reply, SendRequest, SendResponse, DEFAULT_KIND,
};
pub use page::Page;
pub use preferences::{
    Channel, ChannelState, DoNotDisturb, EmailDelivery, EmailModeOverride, EmailStatus, Minutes, ModuleSchema,
    PreferenceOverride, PreferenceSource, Preferences, PreferencesUpdate, QuietHours, QuietPeriod, Schema,
    TypeChannels, TypeEmail, TypePreferences, TypeSchema, Weekday,
};

/// Largest request body the hub accepts, in bytes. Clients check it too, to fail before sending.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Most notification ids one request may name; clients split larger batches.
pub const MAX_IDS_PER_REQUEST: usize = 1_000;
