//! Answers the settings window: accounts (their tokens stay here, in the keyring or the token
//! file), a sign-in test, each hub's preferences, and this device's own settings (start at
//! login, sound).

use std::sync::Arc;
use std::time::Duration;

use herald_client::accounts::{self, DEFAULT_ACCOUNT};
use herald_client::ipc::settings::{AccountSummary, DeviceSettings, SettingsAnswer, SettingsQuestion};
use herald_client::ipc::{IpcError, IpcErrorCode};
use herald_client::mirror::SharedMirror;
use herald_client::secrets::TokenStore;
use herald_client::tls::Tls;
use herald_client::{autostart, Config};
use herald_proto::{Preferences, Schema};
use tokio::sync::{mpsc, watch};
use url::Url;

use crate::Command;

/// Why a kept token is not used: it would go to a hub it was not made for.
const ANOTHER_HUB: &str = "enter the token for this hub address: a kept token is only sent to the hub it belongs to";

/// How long a hub may take to answer the settings window.
const HUB_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Settings {
    pub config: Config,
    pub mirror: SharedMirror,
    pub tokens: Arc<TokenStore>,
    pub commands: mpsc::UnboundedSender<Command>,
    pub device: watch::Sender<DeviceSettings>,
    pub http: reqwest::Client,
    /// Signing in waits longer: the hub hashes the password on purpose slowly.
    sign_in_http: reqwest::Client,
}

impl Settings {
    pub fn new(
        config: Config,
        tls: &Tls,
        mirror: SharedMirror,
        tokens: Arc<TokenStore>,
        commands: mpsc::UnboundedSender<Command>,
        device: watch::Sender<DeviceSettings>,
    ) -> Self {
        let http = tls.http_client(HUB_PATIENCE);
        let sign_in_http = tls.http_client(herald_client::sign_in::SIGN_IN_TIMEOUT);
        Self { config, mirror, tokens, commands, device, http, sign_in_http }
    }

    pub async fn answer(&self, question: SettingsQuestion) -> Result<SettingsAnswer, IpcError> {
        match question {
            SettingsQuestion::Settings => self.settings().await,
            SettingsQuestion::SaveAccount { name, server, token } => self.save_account(&name, &server, token).await,
            SettingsQuestion::SignIn { name, server, user, password } => {
                let hub = server_url(&server)?;
                let name = name.trim();
                // Checked before the hub makes a token that could then not be kept.
                if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
                    return Err(invalid(format!("{name:?} is not a usable account name (1 to 64 characters)")));
                }
                let device = herald_client::sign_in::device_name();
                let created = herald_client::sign_in::device_token_with(
                    &self.sign_in_http,
                    &hub,
                    user.trim(),
                    &password,
                    &device,
                )
                .await
                .map_err(|e| hub_failed(e.to_string()))?;
                // The token this account had, to sign that device out once the new one is kept.
                let replaced = self.hub_of(name).await.ok();
                let saved = self.save_account(name, &server, Some(created.token.clone())).await;
                let stale = match &saved {
                    // Not kept here: not left valid on the hub either.
                    Err(_) => Some((hub.clone(), created.token.clone())),
                    Ok(_) => replaced.filter(|(_, old)| *old != created.token),
                };
                if let Some((at, token)) = stale {
                    herald_client::sign_in::sign_out_device(&self.sign_in_http, &at, &token).await;
                }
                saved
            }
            SettingsQuestion::RemoveAccount { name } => self.remove_account(&name).await,
            SettingsQuestion::TestConnection { server, token, account } => {
                let server = server_url(&server)?;
                let token = match token.filter(|t| !t.trim().is_empty()) {
                    Some(token) => token.trim().to_owned(),
                    None => {
                        // A kept token is only ever sent to its own hub.
                        let (kept_for, token) = self.hub_of(account.as_deref().unwrap_or_default()).await?;
                        if kept_for != server {
                            return Err(invalid(ANOTHER_HUB));
                        }
                        token
                    }
                };
                Ok(self.test(&server, &token).await)
            }
            SettingsQuestion::Preferences { account } => self.preferences(&account).await,
            SettingsQuestion::SavePreferences { account, update } => {
                let (server, token) = self.hub_of(&account).await?;
                let response =
                    self.http.put(endpoint(&server, "v1/preferences")).bearer_auth(&token).json(&update).send().await;
                check(response).await?;
                // The hub tells every device of the change on its feed (quiet hours and
                // do-not-disturb included), this one too.
                self.preferences(&account).await
            }
            SettingsQuestion::SetDevice { device } => self.set_device(device),
        }
    }

    async fn settings(&self) -> Result<SettingsAnswer, IpcError> {
        let listed = self.mirror.call(|m| m.accounts()).await.map_err(|e| tokens_failed(e.to_string()))?;
        let names: Vec<String> = listed.iter().map(|a| a.name.clone()).collect();
        let kept = self.tokens.load(&names).await.map_err(|e| tokens_failed(e.to_string()))?;
        let accounts = listed
            .into_iter()
            .map(|a| {
                let from_environment = a.name == DEFAULT_ACCOUNT && self.config.token.is_some();
                AccountSummary {
                    has_token: from_environment || kept.contains_key(&a.name),
                    from_environment,
                    server: a.server,
                    name: a.name,
                }
            })
            .collect();
        Ok(SettingsAnswer::Settings {
            accounts,
            storage: self.tokens.storage(),
            storage_note: self.tokens.why_file.clone(),
            device: *self.device.borrow(),
        })
    }

    async fn save_account(&self, name: &str, server: &str, token: Option<String>) -> Result<SettingsAnswer, IpcError> {
        let server = server_url(server)?;
        let name = name.trim().to_owned();
        let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if token.is_none() {
            // Keeping the token while moving the account to another hub would send it there.
            let wanted = name.clone();
            let existing =
                self.mirror.call(move |m| m.account_named(&wanted)).await.map_err(|e| invalid(e.to_string()))?;
            let moved = existing.and_then(|a| a.server).and_then(|s| Url::parse(&s).ok()).is_some_and(|s| s != server);
            if moved {
                return Err(invalid(ANOTHER_HUB));
            }
        }
        let upsert = name.clone();
        self.mirror
            .call(move |m| m.upsert_account(&upsert, server.as_str()))
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let storage = match token {
            Some(token) => self.tokens.set(&name, Some(&token)).await.map_err(|e| tokens_failed(e.to_string()))?,
            None => self.tokens.storage(),
        };
        self.reload().await?;
        Ok(SettingsAnswer::Saved { storage })
    }

    async fn remove_account(&self, name: &str) -> Result<SettingsAnswer, IpcError> {
        let wanted = name.to_owned();
        let account = self
            .mirror
            .call(move |m| m.account_named(&wanted))
            .await
            .map_err(|e| tokens_failed(e.to_string()))?
            .ok_or_else(|| invalid(format!("there is no account {name:?}")))?;
        // Its device signed out on the hub (best effort), so the token is not left valid there.
        let kept = self.hub_of(name).await.ok();
        // The token first: if the keyring refuses, the account stays, and nothing is left behind.
        self.tokens.set(name, None).await.map_err(|e| tokens_failed(e.to_string()))?;
        if let Some((server, token)) = kept {
            herald_client::sign_in::sign_out_device(&self.sign_in_http, &server, &token).await;
        }
        let id = account.id;
        self.mirror.call(move |m| m.remove_account(id)).await.map_err(|e| tokens_failed(e.to_string()))?;
        self.reload().await?;
        Ok(SettingsAnswer::Done)
    }

    /// The engines follow the accounts as they now are.
    async fn reload(&self) -> Result<(), IpcError> {
        let (done, reloaded) = tokio::sync::oneshot::channel();
        let _ = self.commands.send(Command::ReloadAccounts { done });
        match reloaded.await {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(message)) => Err(tokens_failed(message)),
        }
    }

    /// Signs in to the hub: a user's preferences need a valid token and nothing else.
    async fn test(&self, server: &Url, token: &str) -> SettingsAnswer {
        let response = self.http.get(endpoint(server, "v1/preferences")).bearer_auth(token).send().await;
        match check(response).await {
            Ok(_) => SettingsAnswer::Tested { ok: true, message: format!("Signed in to {server}") },
            Err(e) => SettingsAnswer::Tested { ok: false, message: e.message },
        }
    }

    async fn preferences(&self, account: &str) -> Result<SettingsAnswer, IpcError> {
        let (server, token) = self.hub_of(account).await?;
        let get = |path: &str| self.http.get(endpoint(&server, path)).bearer_auth(&token).send();
        let schema: Schema = json(check(get("v1/schema").await).await?).await?;
        let preferences: Preferences = json(check(get("v1/preferences").await).await?).await?;
        Ok(SettingsAnswer::Preferences { schema, preferences: Box::new(preferences) })
    }

    /// `account`'s hub and token.
    async fn hub_of(&self, account: &str) -> Result<(Url, String), IpcError> {
        let config = self.config.clone();
        let tokens = accounts::tokens(&self.tokens, &self.mirror).await.map_err(|e| tokens_failed(e.to_string()))?;
        let configured = self
            .mirror
            .call(move |m| Ok(accounts::configured(&config, m, &tokens)))
            .await
            .map_err(|e| tokens_failed(e.to_string()))?
            .map_err(|e| tokens_failed(e.to_string()))?;
        let found = configured.into_iter().find(|a| a.name == account);
        match found {
            Some(accounts::Configured { server: Some(server), token: Some(token), .. }) => Ok((server, token)),
            Some(_) => Err(invalid(format!("{account} has no hub or no token yet"))),
            None => Err(invalid(format!("there is no account {account:?}"))),
        }
    }

    fn set_device(&self, device: DeviceSettings) -> Result<SettingsAnswer, IpcError> {
        let entry = autostart::here().ok_or_else(|| invalid("no home directory for the autostart entry"))?;
        let written = if device.start_at_login {
            std::env::current_exe().and_then(|program| entry.enable(&program))
        } else {
            entry.disable()
        };
        written.map_err(|e| invalid(format!("cannot change {entry}: {e}")))?;
        herald_client::device::save(&self.config.data_dir, &device).map_err(|e| invalid(e.to_string()))?;
        self.device.send_replace(device);
        Ok(SettingsAnswer::Done)
    }
}

/// `path` (fixed, relative) on the hub at `server` (an http(s) base URL, as `parse_server` makes).
fn endpoint(server: &Url, path: &str) -> Url {
    server.join(path).expect("a fixed relative path joins onto a hub's base URL")
}

fn server_url(raw: &str) -> Result<Url, IpcError> {
    herald_client::config::parse_server(raw.trim()).map_err(|e| invalid(e.to_string()))
}

/// A hub's answer, or what a person should read about why there is none.
async fn check(response: reqwest::Result<reqwest::Response>) -> Result<reqwest::Response, IpcError> {
    let response = response.map_err(|e| {
        let why = if e.is_timeout() { "it did not answer in time".to_owned() } else { "cannot connect".to_owned() };
        hub_failed(format!("cannot reach the hub: {why}"))
    })?;
    match response.status() {
        status if status.is_success() => Ok(response),
        reqwest::StatusCode::UNAUTHORIZED => Err(hub_failed("the hub refused the token".into())),
        status => {
            let body: Option<herald_proto::ApiError> = response.json().await.ok();
            Err(hub_failed(format!(
                "the hub answered {status}{}",
                body.map(|b| format!(": {}", b.message)).unwrap_or_default()
            )))
        }
    }
}

async fn json<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, IpcError> {
    response.json().await.map_err(|e| hub_failed(format!("the hub's answer makes no sense: {e}")))
}

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError { code: IpcErrorCode::Invalid, message: message.into() }
}

fn hub_failed(message: String) -> IpcError {
    IpcError { code: IpcErrorCode::HubFailed, message }
}

fn tokens_failed(message: String) -> IpcError {
    IpcError { code: IpcErrorCode::TokensFailed, message }
}
