//! Windows and macOS: the system's own keyring — the Credential Manager, the login Keychain —
//! through the keyring crate, with the same face as the Linux Secret Service client
//! (`secret_service.rs`). Both are unlocked with the user's session, so `unlock` asks nothing.
//!
//! Windows is built here (`cargo check --target x86_64-pc-windows-gnu`); neither runs here.

/// The service name each token is kept under, with the account's name as the user.
const SERVICE: &str = "herald";

#[derive(Debug, thiserror::Error)]
pub enum NativeKeyringError {
    #[error("the keyring failed: {0}")]
    Failed(#[from] keyring::Error),
    #[error("the keyring call was cut short: {0}")]
    Interrupted(#[from] tokio::task::JoinError),
}

pub struct NativeKeyring;

impl NativeKeyring {
    pub async fn connect() -> Result<Self, NativeKeyringError> {
        Ok(Self)
    }

    pub async fn get(&self, account: &str, _unlock: bool) -> Result<Option<String>, NativeKeyringError> {
        blocking(account, |entry| match entry.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    pub async fn set(&self, account: &str, token: &str) -> Result<(), NativeKeyringError> {
        let token = token.to_owned();
        blocking(account, move |entry| entry.set_password(&token)).await
    }

    pub async fn delete(&self, account: &str) -> Result<(), NativeKeyringError> {
        blocking(account, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
        .await
    }
}

/// A keyring call off the runtime's thread: the Keychain may show the user a dialog and wait,
/// and the agent's one runtime thread must go on meanwhile (and `patiently` time it out).
async fn blocking<T: Send + 'static>(
    account: &str,
    call: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Result<T, NativeKeyringError> {
    let account = account.to_owned();
    let result = tokio::task::spawn_blocking(move || call(&keyring::Entry::new(SERVICE, &account)?)).await?;
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the real Credential Manager (under Wine, in scripts/test-windows.sh), with an
    /// account name no one has.
    #[tokio::test]
    async fn a_token_is_kept_read_back_and_forgotten() {
        let account = format!("test-{}", std::process::id());
        let keyring = NativeKeyring::connect().await.unwrap();
        assert_eq!(keyring.get(&account, false).await.unwrap(), None);
        keyring.set(&account, "hrld_secret").await.unwrap();
        assert_eq!(keyring.get(&account, false).await.unwrap().as_deref(), Some("hrld_secret"));
        keyring.set(&account, "hrld_new").await.unwrap();
        assert_eq!(keyring.get(&account, false).await.unwrap().as_deref(), Some("hrld_new"), "replaced, not added");
        keyring.delete(&account).await.unwrap();
        assert_eq!(keyring.get(&account, false).await.unwrap(), None);
        keyring.delete(&account).await.expect("forgetting what is not kept is fine");
    }
}
