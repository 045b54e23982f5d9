//! Where sign-in tokens are kept: the OS keyring, or, where none runs, a file only the owner
//! can read — and the settings window says which.
//!
//! - [`secret_service`]: Linux's keyring, the freedesktop Secret Service, over D-Bus.
//! - [`native_keyring`]: Windows' Credential Manager, macOS' Keychain.
//! - [`token_file`]: the 0600 file.

#[cfg(any(windows, target_os = "macos"))]
mod native_keyring;
#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
mod no_keyring;
#[cfg(target_os = "linux")]
mod secret_service;
mod token_file;

#[cfg(any(windows, target_os = "macos"))]
use native_keyring::{NativeKeyring as Keyring, NativeKeyringError as KeyringError};
#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
use no_keyring::{NoKeyring as Keyring, NoKeyringError as KeyringError};
#[cfg(target_os = "linux")]
use secret_service::{SecretService as Keyring, SecretServiceError as KeyringError};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use token_file::Tokens;

use crate::accounts::AccountsError;

/// How long the keyring may wait for the user to unlock it before Herald gives up on it.
const UNLOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

/// Where tokens are kept on this desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    /// The OS keyring.
    Keyring,
    /// `tokens.json` in the data directory, readable by the owner only: no keyring runs here.
    File,
}

/// The tokens of the accounts added in settings or with `herald accounts add`. The keyring is
/// connected to for each use, not held: tokens are read when accounts change, and a resident
/// agent should not keep a D-Bus connection (and its buffers) for that.
pub struct TokenStore {
    data_dir: PathBuf,
    /// Why there is no keyring, for the settings window and the log; None: the keyring is used.
    pub why_file: Option<String>,
}

impl TokenStore {
    /// Opens the keyring if one runs (`HERALD_TOKEN_STORE=file` keeps tokens in the file
    /// regardless, e.g. on a machine shared through a remote session).
    pub async fn open(data_dir: &Path) -> Self {
        let data_dir = data_dir.to_owned();
        if std::env::var("HERALD_TOKEN_STORE").is_ok_and(|v| v == "file") {
            return Self::file_only(data_dir, "HERALD_TOKEN_STORE=file".into());
        }
        match Keyring::connect().await {
            Ok(_) => Self { data_dir, why_file: None },
            Err(e) => Self::file_only(data_dir, e.to_string()),
        }
    }

    fn file_only(data_dir: PathBuf, why: String) -> Self {
        Self { data_dir, why_file: Some(why) }
    }

    /// The keyring, connected for one use; None when tokens go to the file.
    async fn keyring(&self) -> Result<Option<Keyring>, AccountsError> {
        if self.why_file.is_some() {
            return Ok(None);
        }
        patiently(Keyring::connect()).await.map(Some)
    }

    pub fn storage(&self) -> TokenStorage {
        if self.why_file.is_none() {
            TokenStorage::Keyring
        } else {
            TokenStorage::File
        }
    }

    /// The tokens of `accounts` that are kept, by name. With a keyring, a token still in the file
    /// (from before the keyring, or from `herald accounts add` without one) moves into it.
    ///
    /// Never waits for the user: a locked keyring is not unlocked here (the agent reads tokens at
    /// start and when accounts change, and must not hang on a password dialog); its accounts
    /// have no token until it is unlocked and they are saved again, and the log says why.
    pub async fn load(&self, accounts: &[String]) -> Result<BTreeMap<String, String>, AccountsError> {
        let mut file = Tokens::load(&self.data_dir)?;
        let mut found = BTreeMap::new();
        let keyring = match self.keyring().await {
            Ok(keyring) => keyring,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read tokens from the keyring; accounts kept there wait");
                None
            }
        };
        for account in accounts {
            if let Some(keyring) = &keyring {
                match keyring.get(account, false).await {
                    Ok(Some(token)) => {
                        found.insert(account.clone(), token);
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(account, error = %e, "cannot read the token from the keyring");
                        continue;
                    }
                }
                if let Some(token) = file.get(account).map(str::to_owned) {
                    if let Err(e) = keyring.set(account, &token).await {
                        tracing::warn!(account, error = %e, "the token stays in the token file for now");
                    } else {
                        file.set(account, None)?;
                        tracing::info!(account, "moved a sign-in token from the token file into the keyring");
                    }
                    found.insert(account.clone(), token);
                }
                continue;
            }
            if let Some(token) = file.get(account) {
                found.insert(account.clone(), token.to_owned());
            }
        }
        Ok(found)
    }

    /// Keeps (or with None forgets) `account`'s token; says where it went.
    pub async fn set(&self, account: &str, token: Option<&str>) -> Result<TokenStorage, AccountsError> {
        if let Some(keyring) = self.keyring().await? {
            match token {
                Some(token) => patiently(keyring.set(account, token)).await?,
                None => patiently(keyring.delete(account)).await?,
            }
            // Never two copies: one left in the file from before goes.
            let mut file = Tokens::load(&self.data_dir)?;
            if file.get(account).is_some() {
                file.set(account, None)?;
            }
            return Ok(TokenStorage::Keyring);
        }
        Tokens::load(&self.data_dir)?.set(account, token)?;
        Ok(TokenStorage::File)
    }
}

/// A keyring call, given [`UNLOCK_PATIENCE`] for a password dialog.
async fn patiently<T>(call: impl std::future::Future<Output = Result<T, KeyringError>>) -> Result<T, AccountsError> {
    match tokio::time::timeout(UNLOCK_PATIENCE, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(AccountsError::Keyring(e.to_string())),
        Err(_) => Err(AccountsError::Keyring("the keyring was not unlocked in time".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_keyring_tokens_go_to_the_private_file_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file_only(dir.path().to_owned(), "no keyring service is running".into());
        assert_eq!(store.storage(), TokenStorage::File);
        assert_eq!(store.set("work", Some("hrld_w")).await.unwrap(), TokenStorage::File);
        let names = ["work".to_owned(), "club".to_owned()];
        assert_eq!(store.load(&names).await.unwrap(), BTreeMap::from([("work".to_owned(), "hrld_w".to_owned())]));
        store.set("work", None).await.unwrap();
        assert!(store.load(&names).await.unwrap().is_empty());
    }
}
