//! Delivers the callback queue to apps: POSTs each due callback, deletes it when the app answers
//! 2xx, otherwise tries again later with exponential backoff, and gives up after
//! [`MAX_ATTEMPTS`]. Runs beside the API, so no request ever waits for an app.
//!
//! Apps are served in parallel, one callback at a time each (an app sees its callbacks in
//! order) and at most [`PARALLEL`] at once in all: an app whose endpoint stalls costs only that
//! app's callbacks their time, never another app's.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};

use crate::callback_dns::CallbackResolver;
use crate::retry::{after, until, with_causes};
use crate::store::{DueCallback, Store};

/// Tries before the hub gives up on one callback (with a 1 s base: about 68 minutes of trying).
pub const MAX_ATTEMPTS: u32 = 12;
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// An app that takes longer than this to answer has failed this try.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// Callbacks taken from the queue per round.
const BATCH: u32 = 32;
/// Callbacks on their way at once, over all apps.
pub const PARALLEL: usize = 16;
/// Even with nothing queued, look again this often (a row added by another process, a clock jump).
const IDLE_RECHECK: Duration = Duration::from_secs(60);

/// The handle the API uses to say "something was queued".
#[derive(Clone, Default)]
pub struct Callbacks {
    wake: Arc<Notify>,
}

impl Callbacks {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts delivering; stops when `stop` turns true.
    pub fn spawn(&self, store: Store, config: &crate::HubConfig, stop: watch::Receiver<bool>) {
        let names = CallbackResolver::new(config.callback_lookup.clone(), config.allow_private_callbacks);
        let worker = Arc::new(Worker {
            store,
            retry_base: config.callback_retry_base,
            wake: self.wake.clone(),
            client: client(names),
            busy: Mutex::default(),
            slots: Arc::new(Semaphore::new(PARALLEL)),
        });
        tokio::spawn(worker.run(stop));
    }
}

fn client(names: CallbackResolver) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        // No link-local or metadata address, whatever a name resolves to at the time.
        .dns_resolver(Arc::new(names))
        .user_agent(concat!("herald-hub/", env!("CARGO_PKG_VERSION")))
        // An app's URL is not the hub's to follow elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client always builds")
}

struct Worker {
    store: Store,
    retry_base: Duration,
    wake: Arc<Notify>,
    client: reqwest::Client,
    /// Apps with a callback on its way now.
    busy: Mutex<HashSet<String>>,
    slots: Arc<Semaphore>,
}

impl Worker {
    fn busy_apps(&self) -> Vec<String> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            let wait = match self.round().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "callback queue unreadable; retrying");
                    self.retry_base
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => return,
            }
        }
    }

    /// Starts delivering what is due, for each app not busy, as far as slots allow; returns how
    /// long to sleep before the next one is due (a delivery that ends wakes the worker sooner).
    async fn round(self: &Arc<Self>) -> Result<Duration, crate::store::StoreError> {
        loop {
            let due = self.store.due_callbacks(BATCH, self.busy_apps()).await?;
            if due.is_empty() {
                break;
            }
            for callback in due {
                let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                    // Every slot is taken: the next delivery to end wakes the worker.
                    return Ok(IDLE_RECHECK);
                };
                if !self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(callback.app.clone()) {
                    continue; // this app's earlier callback is on its way: this one waits for it
                }
                let worker = self.clone();
                tokio::spawn(async move {
                    let app = callback.app.clone();
                    if let Err(e) = worker.deliver(callback).await {
                        // Not tried again at once: the store is failing, and the app would get
                        // the same callback again and again.
                        tracing::error!(error = %e, "could not record a callback's outcome");
                        tokio::time::sleep(worker.retry_base).await;
                    }
                    worker.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&app);
                    drop(slot);
                    worker.wake.notify_one();
                });
            }
        }
        Ok(match self.store.next_callback_at(self.busy_apps()).await? {
            None => IDLE_RECHECK,
            Some(at) => until(&at).min(IDLE_RECHECK),
        })
    }

    async fn deliver(&self, callback: DueCallback) -> Result<(), crate::store::StoreError> {
        let sent = self
            .client
            .post(&callback.url)
            .header("content-type", "application/json")
            // The same key on every try: an app that got a try whose answer was lost can drop the repeat.
            .header("idempotency-key", format!("herald-callback-{}", callback.id))
            .header("herald-signature", signature(&callback.signing_key, &callback.payload, unix_now()))
            .body(callback.payload.clone())
            .send()
            .await;
        let failure = match sent {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("the app answered {}", response.status())),
            Err(e) => Some(format!("could not reach the app: {}", with_causes(&e))),
        };
        match failure {
            None => {
                tracing::info!(app = ?callback.app, id = callback.id, "callback delivered");
                self.store.callback_delivered(callback.id).await
            }
            Some(error) => {
                let tries = callback.attempts + 1;
                let retry_at = (tries < MAX_ATTEMPTS).then(|| after(backoff(self.retry_base, tries)));
                if retry_at.is_none() {
                    tracing::error!(app = ?callback.app, id = callback.id, ?error, "giving up on a callback");
                } else {
                    tracing::warn!(app = ?callback.app, id = callback.id, tries, ?error, "callback failed; will retry");
                }
                self.store.callback_failed(callback.id, error, retry_at).await
            }
        }
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the SHA-256 of the app's
/// token (what the hub stores, and what the app computes from its token). The time lets the app
/// refuse replays of old callbacks.
pub fn signature(key: &[u8], body: &str, unix_seconds: u64) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    format!("t={unix_seconds},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `base`·2^(tries−1), at most [`MAX_BACKOFF`].
fn backoff(base: Duration, tries: u32) -> Duration {
    base.saturating_mul(1u32 << (tries - 1).min(20)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 1), Duration::from_secs(1));
        assert_eq!(backoff(base, 2), Duration::from_secs(2));
        assert_eq!(backoff(base, 5), Duration::from_secs(16));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }

    #[test]
    fn signatures_are_hmac_sha256_over_time_and_body() {
        // The HMAC itself, against RFC 4231's test case 2.
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let signed = signature(b"key", "{}", 1_700_000_000);
        assert!(signed.starts_with("t=1700000000,v1=") && signed.len() == "t=1700000000,v1=".len() + 64);
        assert_ne!(signed, signature(b"other key", "{}", 1_700_000_000));
        assert_ne!(signed, signature(b"key", "{} ", 1_700_000_000));
    }
}
