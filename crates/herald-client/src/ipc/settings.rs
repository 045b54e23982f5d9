//! The settings window's questions to the agent, and its answers. The agent holds the tokens
//! and talks to the hubs; the window never sees a kept token, only whether there is one.

use herald_proto::{Preferences, PreferencesUpdate, Schema};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::secrets::TokenStorage;

/// Window → agent, inside `Request::Ask`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum SettingsQuestion {
    /// The accounts, where tokens are kept, and this device's settings.
    Settings,
    /// Adds or changes an account; `token` None keeps the kept one.
    SaveAccount {
        name: String,
        server: String,
        token: Option<String>,
    },
    /// Signs this desktop in to `server` as `user` with `password` (`POST /v1/devices`, HTTP
    /// Basic) and saves the device token the hub makes as `name`'s. The password is kept nowhere.
    SignIn {
        name: String,
        server: String,
        user: String,
        password: String,
    },
    RemoveAccount {
        name: String,
    },
    /// Signs in to `server` with `token`, or with `account`'s kept token: does it work?
    TestConnection {
        server: String,
        token: Option<String>,
        account: Option<String>,
    },
    /// `account`'s hub: its types and channels, and the user's preferences there.
    Preferences {
        account: String,
    },
    /// Changes `account`'s preferences on its hub; answered with them as they now are.
    SavePreferences {
        account: String,
        update: PreferencesUpdate,
    },
    SetDevice {
        device: DeviceSettings,
    },
}

/// Agent → window, inside `Event::SettingsAnswer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum SettingsAnswer {
    Settings {
        accounts: Vec<AccountSummary>,
        storage: TokenStorage,
        /// Why tokens are in the file, not a keyring.
        storage_note: Option<String>,
        device: DeviceSettings,
    },
    Saved {
        storage: TokenStorage,
    },
    Done,
    Tested {
        ok: bool,
        message: String,
    },
    Preferences {
        schema: Schema,
        /// Boxed: much larger than the other answers.
        preferences: Box<Preferences>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AccountSummary {
    pub name: String,
    pub server: Option<String>,
    pub has_token: bool,
    /// Set up by `HERALD_SERVER` / `HERALD_TOKEN` (the environment wins over settings).
    pub from_environment: bool,
}

/// What this desktop does, whatever the hubs say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceSettings {
    pub start_at_login: bool,
    /// Toasts play the desktop's message sound.
    pub sound: bool,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self { start_at_login: false, sound: true }
    }
}
