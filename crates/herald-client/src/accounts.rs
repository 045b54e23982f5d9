//! The accounts to sync: the mirror's `accounts` table says which there are and where their
//! hubs are; this module adds the sign-in tokens and keeps the first account in step with
//! `HERALD_SERVER` / the config file.
//!
//! Tokens: `HERALD_TOKEN` for the account `HERALD_SERVER` sets up (tests and scripts), and the
//! OS keyring (or, where none runs, a file only the owner can read) for the accounts added in
//! settings or with `herald accounts add`: see [`crate::secrets`].

use std::collections::BTreeMap;

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
    #[error("cannot use the keyring: {0}")]
    Keyring(String),
}

/// Points the default account at the configured server, then lists every account with its
/// token (`tokens`: by account name, as [`crate::secrets::TokenStore::load`] read them).
pub fn configured(
    config: &Config,
    mirror: &mut Mirror,
    tokens: &BTreeMap<String, String>,
) -> Result<Vec<Configured>, AccountsError> {
    if let Some(server) = &config.server {
        mirror.upsert_account(DEFAULT_ACCOUNT, server.as_str())?;
    }
    Ok(mirror
        .accounts()?
        .into_iter()
        .map(|account| {
            let token = match (&config.token, account.name == DEFAULT_ACCOUNT) {
                (Some(token), true) => Some(token.clone()),
                _ => tokens.get(&account.name).cloned(),
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

/// Every account's token, as `store` keeps them (the default account's may come from
/// `HERALD_TOKEN` instead: see [`configured`]).
pub async fn tokens(
    store: &crate::secrets::TokenStore,
    mirror: &crate::mirror::SharedMirror,
) -> Result<BTreeMap<String, String>, AccountsError> {
    let names: Vec<String> = mirror.call(|m| m.accounts()).await?.into_iter().map(|a| a.name).collect();
    store.load(&names).await
}

/// The accounts that can sync: those with a hub and a token.
pub fn syncable(
    config: &Config,
    mirror: &mut Mirror,
    tokens: &BTreeMap<String, String>,
) -> Result<Vec<Configured>, AccountsError> {
    Ok(configured(config, mirror, tokens)?.into_iter().filter(|a| a.server.is_some() && a.token.is_some()).collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(dir: &Path, server: Option<&str>, token: Option<&str>) -> Config {
        Config {
            server: server.map(|s| s.parse().unwrap()),
            token: token.map(str::to_owned),
            data_dir: dir.to_owned(),
            runtime_dir: dir.join("run"),
            critical_breaks_through: true,
            ca_file: None,
        }
    }

    #[test]
    fn the_environment_sets_up_the_default_account_and_the_token_file_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let mut mirror = Mirror::open_in_memory().unwrap();
        let work = mirror.upsert_account("work", "http://work:1/").unwrap();
        let tokens = BTreeMap::from([("work".to_owned(), "hrld_work".to_owned())]);

        let accounts =
            configured(&config(dir.path(), Some("http://home:1"), Some("hrld_home")), &mut mirror, &tokens).unwrap();
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
}
