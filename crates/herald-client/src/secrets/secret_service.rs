//! The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) over the session bus:
//! just what keeping one token per account needs — find, store, delete. The session uses the
//! "plain" algorithm: the secret travels over the private session bus unencrypted, as it would
//! to any local client; encrypting it against a process that can read the bus buys nothing.

use std::collections::HashMap;

use futures_util::StreamExt;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};

const SERVICE: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_IFACE: &str = "org.freedesktop.Secret.Service";
const COLLECTION_IFACE: &str = "org.freedesktop.Secret.Collection";
const ITEM_IFACE: &str = "org.freedesktop.Secret.Item";
const PROMPT_IFACE: &str = "org.freedesktop.Secret.Prompt";
/// Marks Herald's items, so a search never finds another application's.
const SCHEMA: &str = "org.herald.Token";

/// A secret as the spec sends it: session, parameters, value, content type.
type Secret = (OwnedObjectPath, Vec<u8>, Vec<u8>, String);

#[derive(Debug, thiserror::Error)]
pub enum SecretServiceError {
    /// No session bus, or nothing on it provides the Secret Service.
    #[error("no keyring service is running")]
    Unavailable(String),
    #[error("the keyring stayed locked")]
    Dismissed,
    #[error("the keyring is locked")]
    Locked,
    #[error("the keyring failed: {0}")]
    Failed(#[from] zbus::Error),
}

pub struct SecretService {
    bus: zbus::Connection,
    session: OwnedObjectPath,
}

impl SecretService {
    /// Connects, or says why there is no keyring to use.
    pub async fn connect() -> Result<Self, SecretServiceError> {
        let unavailable = |e: zbus::Error| SecretServiceError::Unavailable(e.to_string());
        let bus = zbus::Connection::session().await.map_err(unavailable)?;
        let service = service(&bus).await.map_err(unavailable)?;
        // Starts a keyring daemon that is activatable but not running; fails if there is none.
        let (_, session): (OwnedValue, OwnedObjectPath) =
            service.call("OpenSession", &("plain", Value::from(""))).await.map_err(unavailable)?;
        Ok(Self { bus, session })
    }

    /// The token kept for `account`, if any. A locked one is unlocked (the keyring may ask the
    /// user) only if `unlock`; otherwise it is an error saying the keyring is locked.
    pub async fn get(&self, account: &str, unlock: bool) -> Result<Option<String>, SecretServiceError> {
        let service = service(&self.bus).await?;
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            service.call("SearchItems", &(attributes(account),)).await?;
        let mut items = unlocked;
        if items.is_empty() && !locked.is_empty() {
            if !unlock {
                return Err(SecretServiceError::Locked);
            }
            self.unlock(&service, locked.clone()).await?;
            items = locked;
        }
        let Some(item) = items.into_iter().next() else { return Ok(None) };
        let item = zbus::Proxy::new(&self.bus, SERVICE, item, ITEM_IFACE).await?;
        let (_, _, value, _): Secret = item.call("GetSecret", &(&self.session,)).await?;
        Ok(String::from_utf8(value).ok())
    }

    /// Keeps `token` for `account`, replacing what was kept. The default collection is created
    /// if there is none, and unlocked if locked (the keyring may ask the user).
    pub async fn set(&self, account: &str, token: &str) -> Result<(), SecretServiceError> {
        let service = service(&self.bus).await?;
        let mut default: OwnedObjectPath = service.call("ReadAlias", &("default",)).await?;
        if default.as_str() == "/" {
            let mut properties: HashMap<&str, Value<'_>> = HashMap::new();
            properties.insert("org.freedesktop.Secret.Collection.Label", Value::from("Login"));
            let (_, prompt): (OwnedObjectPath, OwnedObjectPath) =
                service.call("CreateCollection", &(properties, "default")).await?;
            self.complete(prompt).await?;
            default = service.call("ReadAlias", &("default",)).await?;
            if default.as_str() == "/" {
                return Err(SecretServiceError::Dismissed);
            }
        }
        self.unlock(&service, vec![default.clone()]).await?;
        let collection = zbus::Proxy::new(&self.bus, SERVICE, default, COLLECTION_IFACE).await?;
        let mut properties: HashMap<&str, Value<'_>> = HashMap::new();
        properties
            .insert("org.freedesktop.Secret.Item.Label", Value::from(format!("Herald sign-in token ({account})")));
        properties.insert("org.freedesktop.Secret.Item.Attributes", Value::from(attributes(account)));
        let secret: (ObjectPath<'_>, Vec<u8>, Vec<u8>, &str) =
            (self.session.as_ref(), Vec::new(), token.as_bytes().to_vec(), "text/plain");
        let (_, prompt): (OwnedObjectPath, OwnedObjectPath) =
            collection.call("CreateItem", &(properties, secret, true)).await?;
        self.complete(prompt).await?;
        Ok(())
    }

    /// Forgets the token kept for `account` (nothing kept is fine).
    pub async fn delete(&self, account: &str) -> Result<(), SecretServiceError> {
        let service = service(&self.bus).await?;
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            service.call("SearchItems", &(attributes(account),)).await?;
        if !locked.is_empty() {
            self.unlock(&service, locked.clone()).await?;
        }
        for item in unlocked.into_iter().chain(locked) {
            let item = zbus::Proxy::new(&self.bus, SERVICE, item, ITEM_IFACE).await?;
            let prompt: OwnedObjectPath = item.call("Delete", &()).await?;
            self.complete(prompt).await?;
        }
        Ok(())
    }

    /// Unlocks `objects` (items or a collection), asking the user if the keyring wants to.
    async fn unlock(&self, service: &zbus::Proxy<'_>, objects: Vec<OwnedObjectPath>) -> Result<(), SecretServiceError> {
        let (_, prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) = service.call("Unlock", &(&objects,)).await?;
        self.complete(prompt).await
    }

    /// Runs a prompt the service asked for (unlocking a keyring shows its password dialog) and
    /// waits for the user; "/" means none was needed.
    async fn complete(&self, prompt: OwnedObjectPath) -> Result<(), SecretServiceError> {
        if prompt.as_str() == "/" {
            return Ok(());
        }
        let proxy = zbus::Proxy::new(&self.bus, SERVICE, prompt, PROMPT_IFACE).await?;
        // Listen before prompting, so the answer cannot come first.
        let mut completed = proxy.receive_signal("Completed").await?;
        let () = proxy.call("Prompt", &("",)).await?;
        let message = completed.next().await.ok_or(SecretServiceError::Dismissed)?;
        let (dismissed, _): (bool, OwnedValue) = message.body().deserialize()?;
        if dismissed {
            return Err(SecretServiceError::Dismissed);
        }
        Ok(())
    }
}

async fn service(bus: &zbus::Connection) -> zbus::Result<zbus::Proxy<'static>> {
    zbus::Proxy::new(bus, SERVICE, SERVICE_PATH, SERVICE_IFACE).await
}

fn attributes(account: &str) -> HashMap<&str, &str> {
    HashMap::from([("xdg:schema", SCHEMA), ("account", account)])
}
