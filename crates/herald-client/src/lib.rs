//! herald-client: the GUI-free core of Herald desktop, shared by the agent (`herald`) and the
//! windows (`herald-ui`).
//!
//! Map of the crate:
//! - [`config`]: where the hub, the token and the data live (defaults → TOML file → `HERALD_*` env).
//! - [`accounts`]: the accounts to sync (several hubs in one mirror) and their tokens.
//! - [`autostart`]: start at login, opt-in (an XDG autostart entry).
//! - [`mirror`]: the local SQLite mirror — accounts with their cursors, notifications, outbox; the
//!   agent is its one writer, the windows open it read-only.
//! - [`sync`]: the sync engine — feed connection, catch-up from the cursor, live changes, outbox
//!   flush, reconnect with backoff — and the pure decisions it is built on.
//! - [`status`]: the tray's state and tooltip text.
//! - [`toast`]: which notifications deserve a native toast, and their text.
//! - [`quiet`]: quiet hours and do-not-disturb — whether a toast may interrupt now.
//! - [`ipc`]: the agent ↔ window protocol and its same-user local socket.
//! - [`session`]: which desktop session a process is in; what a second `herald` does about an
//!   agent of another session.
//! - [`sign_in`]: a device token from a user name and password (`POST /v1/devices`).
//! - [`window`]: the inbox window's core (read-only mirror, link to the agent), GUI-free.

pub mod accounts;
pub mod autostart;
pub mod config;
pub mod device;
pub mod ipc;
pub mod mirror;
pub mod outbox;
pub mod quiet;
pub mod secrets;
pub mod session;
pub mod sign_in;
pub mod status;
pub mod sync;
pub mod tls;
pub mod toast;
pub mod window;

pub use config::Config;
pub use mirror::Mirror;

/// What the desktop writes (mirror, logs, tokens, settings) is its user's alone.
pub use herald_db::{keep_files_private, make_private};
