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
}

pub struct NativeKeyring;

impl NativeKeyring {
    pub async fn connect() -> Result<Self, NativeKeyringError> {
        Ok(Self)
    }

    pub async fn get(&self, account: &str, _unlock: bool) -> Result<Option<String>, NativeKeyringError> {
        match keyring::Entry::new(SERVICE, account)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn set(&self, account: &str, token: &str) -> Result<(), NativeKeyringError> {
        Ok(keyring::Entry::new(SERVICE, account)?.set_password(token)?)
    }

    pub async fn delete(&self, account: &str) -> Result<(), NativeKeyringError> {
        match keyring::Entry::new(SERVICE, account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
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
