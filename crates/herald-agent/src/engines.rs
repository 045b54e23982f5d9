//! The running sync engines: one per account that has a hub and a token, started and stopped as
//! `herald accounts add/remove` changes them (the command line tells the running agent).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use herald_client::accounts::{self, Configured};
use herald_client::mirror::{AccountId, MirrorError, SharedMirror};
use herald_client::secrets::TokenStore;
use herald_client::sync::{SyncEngine, SyncEvent};
use herald_client::tls::Tls;
use herald_client::Config;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

/// How long a stopping engine may take to close its feed; the mirror is consistent either way.
const STOP_GRACE: Duration = Duration::from_secs(2);

pub struct Engines {
    config: Config,
    /// Whom the engines trust over https/wss.
    tls: Tls,
    mirror: SharedMirror,
    events: broadcast::Sender<SyncEvent>,
    index_ready: Arc<Notify>,
    running: BTreeMap<AccountId, Running>,
    /// Each running engine's "the outbox has something" bell, for the IPC server.
    outbox_ready: watch::Sender<Vec<Arc<Notify>>>,
    /// The running accounts' names, for the tray's words.
    names: watch::Sender<BTreeMap<AccountId, String>>,
    /// Where the accounts' tokens are kept.
    pub tokens: Arc<TokenStore>,
}

struct Running {
    account: Configured,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    outbox_ready: Arc<Notify>,
}

impl Engines {
    pub fn new(
        config: Config,
        tls: Tls,
        mirror: SharedMirror,
        events: broadcast::Sender<SyncEvent>,
        index_ready: Arc<Notify>,
        tokens: Arc<TokenStore>,
    ) -> Self {
        Self {
            tokens,
            config,
            tls,
            mirror,
            events,
            index_ready,
            running: BTreeMap::new(),
            outbox_ready: watch::channel(Vec::new()).0,
            names: watch::channel(BTreeMap::new()).0,
        }
    }

    pub fn outbox_ready(&self) -> watch::Receiver<Vec<Arc<Notify>>> {
        self.outbox_ready.subscribe()
    }

    pub fn names(&self) -> watch::Receiver<BTreeMap<AccountId, String>> {
        self.names.subscribe()
    }

    /// Reads the accounts again and makes the running engines match: stops those of removed or
    /// changed accounts, starts those of new ones, leaves the rest alone.
    pub async fn reload(&mut self) -> Result<(), MirrorError> {
        let config = self.config.clone();
        let tokens =
            accounts::tokens(&self.tokens, &self.mirror).await.map_err(|e| MirrorError::Account(e.to_string()))?;
        let mut wanted = self
            .mirror
            .call(move |m| accounts::syncable(&config, m, &tokens).map_err(|e| MirrorError::Account(e.to_string())))
            .await?;
        if wanted.is_empty() {
            // Nothing set up: the first account's engine says so in the tray.
            wanted.push(Configured { id: 1, name: accounts::DEFAULT_ACCOUNT.into(), server: None, token: None });
        }
        let stale: Vec<AccountId> = self
            .running
            .iter()
            .filter(|(id, running)| !wanted.iter().any(|w| w.id == **id && *w == running.account))
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(running) = self.running.remove(&id) {
                tracing::info!(account = %running.account.name, "stopping sync");
                stop(vec![running]).await;
                // Removed (not just changed): what the engine applied while `herald accounts
                // remove` emptied the account goes too.
                if !self.mirror.call(move |m| m.accounts()).await?.iter().any(|a| a.id == id) {
                    self.mirror.call(move |m| m.remove_account(id)).await?;
                }
            }
        }
        for account in wanted {
            if !self.running.contains_key(&account.id) {
                self.start(account);
            }
        }
        self.outbox_ready.send_replace(self.running.values().map(|r| r.outbox_ready.clone()).collect());
        self.names.send_replace(self.running.iter().map(|(id, r)| (*id, r.account.name.clone())).collect());
        Ok(())
    }

    fn start(&mut self, account: Configured) {
        tracing::info!(account = %account.name, server = ?account.server.as_ref().map(|s| s.as_str()), "syncing");
        let engine = SyncEngine::for_account(
            account.id,
            account.server.clone(),
            account.token.clone(),
            self.mirror.clone(),
            self.events.clone(),
        )
        .with_tls(self.tls.clone())
        .sharing_indexer(self.index_ready.clone());
        let outbox_ready = engine.outbox_ready();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(engine.run(stopped));
        self.running.insert(account.id, Running { account, stop, task, outbox_ready });
    }

    /// Stops every engine (the agent is quitting), all within one grace period.
    pub async fn stop_all(&mut self) {
        stop(std::mem::take(&mut self.running).into_values().collect()).await;
    }
}

/// Asks the engines to stop, waits for them to close their feeds, and aborts any still running
/// after [`STOP_GRACE`].
async fn stop(engines: Vec<Running>) {
    for running in &engines {
        let _ = running.stop.send(true);
    }
    let aborts: Vec<_> = engines.iter().map(|r| r.task.abort_handle()).collect();
    let stopped = async {
        for running in engines {
            let _ = running.task.await;
        }
    };
    if tokio::time::timeout(STOP_GRACE, stopped).await.is_err() {
        aborts.iter().for_each(tokio::task::AbortHandle::abort);
    }
}
