//! Systems whose keyring Herald does not know: tokens go to the 0600 file, and the settings
//! window says why.

#[derive(Debug, thiserror::Error)]
pub enum NoKeyringError {
    #[error("Herald knows no keyring on this system")]
    Unsupported,
}

pub struct NoKeyring;

impl NoKeyring {
    pub async fn connect() -> Result<Self, NoKeyringError> {
        Err(NoKeyringError::Unsupported)
    }

    pub async fn get(&self, _account: &str, _unlock: bool) -> Result<Option<String>, NoKeyringError> {
        Err(NoKeyringError::Unsupported)
    }

    pub async fn set(&self, _account: &str, _token: &str) -> Result<(), NoKeyringError> {
        Err(NoKeyringError::Unsupported)
    }

    pub async fn delete(&self, _account: &str) -> Result<(), NoKeyringError> {
        Err(NoKeyringError::Unsupported)
    }
}
