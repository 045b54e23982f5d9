//! The fallback for sign-in tokens where no keyring runs: a file only the owner can read
//! (`tokens.json`, mode 0600), by account name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::accounts::AccountsError;

/// Sign-in tokens by account name, in a file only the owner can read.
#[derive(Debug, Default)]
pub struct Tokens {
    path: PathBuf,
    by_account: BTreeMap<String, String>,
}

impl Tokens {
    pub fn load(data_dir: &Path) -> Result<Self, AccountsError> {
        let path = data_dir.join("tokens.json");
        let by_account = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| error(&path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(error(&path, e)),
        };
        Ok(Self { path, by_account })
    }

    pub fn get(&self, account: &str) -> Option<&str> {
        self.by_account.get(account).map(String::as_str)
    }

    pub fn set(&mut self, account: &str, token: Option<&str>) -> Result<(), AccountsError> {
        match token {
            Some(token) => self.by_account.insert(account.to_owned(), token.to_owned()),
            None => self.by_account.remove(account),
        };
        self.save()
    }

    /// Written to a private temporary file and renamed over the old one: never readable by
    /// others, never half written.
    fn save(&self) -> Result<(), AccountsError> {
        let text = serde_json::to_string_pretty(&self.by_account).map_err(|e| error(&self.path, e))?;
        let temporary = self.path.with_extension("json.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = options.open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)
        };
        write().map_err(|e| error(&self.path, e))
    }
}

fn error(path: &Path, e: impl std::fmt::Display) -> AccountsError {
    AccountsError::Tokens { path: path.display().to_string(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_private_and_forgets_removed_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let mut tokens = Tokens::load(dir.path()).unwrap();
        tokens.set("work", Some("hrld_x")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tokens.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(Tokens::load(dir.path()).unwrap().get("work"), Some("hrld_x"));
        tokens.set("work", None).unwrap();
        assert_eq!(Tokens::load(dir.path()).unwrap().get("work"), None);
    }
}
