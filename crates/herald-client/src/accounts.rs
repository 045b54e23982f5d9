//! The accounts to sync: the mirror's `accounts` table says which there are and where their
//! hubs are; this module adds the sign-in tokens and keeps the first account in step with
//! `HERALD_SERVER` / the config file.
//!
//! Tokens: `HERALD_TOKEN` for the account `HERALD_SERVER` sets up (tests and scripts), and a
//! token file readable by the owner only (`tokens.json`, mode 0600) for the accounts added with
//! `herald accounts add`. (The OS keyring replaces the file with the settings window.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use url::Url;

use crate::mirror::{AccountId, Mirror, MirrorError};
use crate::Config;

/// The account `HERALD_SERVER` (or the config file's `server`) sets up.
pub const DEFAULT_ACCOUNT: &str = "default";

/// An account ready for a sync engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    pub id: AccountId,
    pub name: String,
    pub server: Option<Url>,
    pub token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("cannot use the token file {path}: {message}")]
    Tokens { path: String, message: String },
}

/// Points the default account at the configured server, then lists every account with its
/// token.
pub fn configured(config: &Config, mirror: &mut Mirror) -> Result<Vec<Configured>, AccountsError> {
    if let Some(server) = &config.server {
        mirror.upsert_account(DEFAULT_ACCOUNT, server.as_str())?;
    }
    let tokens = Tokens::load(&config.data_dir)?;
    Ok(mirror
        .accounts()?
        .into_iter()
        .map(|account| {
            let token = match (&config.token, account.name == DEFAULT_ACCOUNT) {
                (Some(token), true) => Some(token.clone()),
                _ => tokens.get(&account.name).map(str::to_owned),
            };
            Configured {
                id: account.id,
                server: account.server.as_deref().and_then(|s| Url::parse(s).ok()),
                name: account.name,
                token,
            }
        })
        .collect())
}

/// The accounts that can sync: those with a hub and a token.
pub fn syncable(config: &Config, mirror: &mut Mirror) -> Result<Vec<Configured>, AccountsError> {
    Ok(configured(config, mirror)?.into_iter().filter(|a| a.server.is_some() && a.token.is_some()).collect())
}

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

    fn config(dir: &Path, server: Option<&str>, token: Option<&str>) -> Config {
        Config {
            server: server.map(|s| s.parse().unwrap()),
            token: token.map(str::to_owned),
            data_dir: dir.to_owned(),
            runtime_dir: dir.join("run"),
            critical_breaks_through: true,
        }
    }

    #[test]
    fn the_environment_sets_up_the_default_account_and_the_token_file_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let mut mirror = Mirror::open_in_memory().unwrap();
        let work = mirror.upsert_account("work", "http://work:1/").unwrap();
        Tokens::load(dir.path()).unwrap().set("work", Some("hrld_work")).unwrap();

        let accounts = configured(&config(dir.path(), Some("http://home:1"), Some("hrld_home")), &mut mirror).unwrap();
        assert_eq!(
            accounts,
            [
                Configured {
                    id: 1,
                    name: "default".into(),
                    server: Some("http://home:1/".parse().unwrap()),
                    token: Some("hrld_home".into())
                },
                Configured {
                    id: work,
                    name: "work".into(),
                    server: Some("http://work:1/".parse().unwrap()),
                    token: Some("hrld_work".into())
                },
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_token_file_is_private_and_forgets_removed_accounts() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut tokens = Tokens::load(dir.path()).unwrap();
        tokens.set("work", Some("hrld_x")).unwrap();
        let mode = std::fs::metadata(dir.path().join("tokens.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        tokens.set("work", None).unwrap();
        assert_eq!(Tokens::load(dir.path()).unwrap().get("work"), None);
    }
}
