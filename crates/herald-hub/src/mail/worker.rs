//! Sends the mail queue: each due mail is written from its notification as it is now, handed to
//! the SMTP server, and marked sent only once the server accepted it. A transient failure (the
//! server down, a 4xx, a timeout) is tried again with backoff and jitter, at most
//! [`MAX_BACKOFF`] apart, for up to [`GIVE_UP_AFTER`]; a permanent one (a 5xx, an address that
//! cannot be written) is recorded and not tried again. An `unread` mail whose notification was
//! read, answered or deleted by the time it is due is skipped.
//!
//! The one duplicate: a crash after the server accepted a mail and before the queue recorded
//! it sends that mail again on restart, with the same `Message-ID`.

use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::{mpsc, watch, Notify, Semaphore};

use super::compose::{self, ComposeError};
use super::connections::{Connections, SendError};
use super::MailConfig;
use crate::retry::{after, until};
use crate::store::{DueMail, MailOutcome, Store, StoreError};

/// The wait before the second try; it doubles with each further one.
const RETRY_BASE: Duration = Duration::from_secs(1);
/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// A mail still failing this long after it was queued is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long a send's mail waits for its live feeds to have it first: the mail work (queueing,
/// the SMTP conversations) would otherwise compete with the fan-out for the cores. Measured:
/// a 10,000-recipient fan-out takes ~0.4 s on 2 cores.
const SETTLE: Duration = Duration::from_secs(1);
/// Mails taken from the queue per round.
const BATCH: u32 = 64;
/// How long a mail taken stays claimed. Far longer than a mail can wait here for a slot and then
/// take to send (every step of the conversation is bounded, the longest by
/// `smtp::SEND_TIMEOUT`), so this process never takes one it still holds; a crash's claims are
/// released at the next start, not by this running out.
const CLAIM: Duration = Duration::from_secs(3600);
/// Mails on their way at once (each on a connection of its own, kept for the next).
const PARALLEL: usize = 8;
/// Even with nothing queued, look again this often (a mail whose `unread` delay ends, a row
/// another process queued). Sends wake the worker at once.
const IDLE_RECHECK: Duration = Duration::from_secs(1);

/// The handle the hub keeps: wakes the worker when mail was queued.
#[derive(Clone, Default)]
pub struct Mailer {
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts sending; stops when `stop` turns true. The handle ends once every mail on its way
    /// then has had its outcome recorded: a hub that waits for it before exiting sends none of
    /// them again at its next start.
    pub fn spawn(
        &self,
        store: Store,
        config: MailConfig,
        stop: watch::Receiver<bool>,
    ) -> Result<tokio::task::JoinHandle<()>, String> {
        let connections = Connections::new(&config.smtp, config.smtp_ca.as_deref())?;
        tracing::info!(smtp = %config.smtp, from = %config.from, "sending mail");
        let worker_store = store.clone();
        let (outcomes, recorded) = mpsc::unbounded_channel();
        let worker = Arc::new(Worker {
            store,
            config,
            connections,
            wake: self.wake.clone(),
            slots: Arc::new(Semaphore::new(PARALLEL)),
            taken: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            outcomes,
        });
        // It ends when the last sender of outcomes (the worker, held by each mail on its way)
        // is gone, after committing what they sent.
        let recorder = tokio::spawn(record(worker_store.clone(), recorded, self.wake.clone()));
        tokio::spawn(async move {
            // Mails a previous process was sending when it died: due again now, not after their
            // claims run out. (One with the server's acceptance already is the one duplicate.)
            match worker_store.release_mail_claims().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(mails = n, "mails were being sent when the hub last stopped; sending them again")
                }
                Err(e) => tracing::error!(error = %e, "could not release the mail queue's claims"),
            }
            worker.run(stop).await
        });
        Ok(recorder)
    }
}

struct Worker {
    store: Store,
    config: MailConfig,
    connections: Connections,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
    /// Mails taken from the queue whose outcome is not yet handed to the recorder.
    taken: AtomicUsize,
    /// The hub is stopping: mails not yet started are left for the next start.
    stopping: AtomicBool,
    outcomes: mpsc::UnboundedSender<MailOutcome>,
}

/// What became of one try.
enum Outcome {
    Sent,
    /// Not to be sent: `skipped` or `no_address`, and why.
    NotSent(&'static str, String),
    Transient(String),
    Permanent(String),
}

impl Worker {
    async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut next_digests = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_digests {
                let now = jiff::Timestamp::now();
                if let Err(e) = super::digest::run_due(&self.store, &self.config.digest, None, Some(now)).await {
                    tracing::error!(error = %e, "could not run the digests due; retrying");
                }
                next_digests = tokio::time::Instant::now() + super::digest::CHECK_EVERY;
            }
            let wait = match self.round().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "mail queue unreadable; retrying");
                    RETRY_BASE
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
                    self.stopping.store(true, Ordering::Release);
                    return;
                }
            }
        }
    }

    /// Starts sending what is due, as far as slots allow; returns how long to sleep.
    async fn round(self: &Arc<Self>) -> Result<Duration, StoreError> {
        // At most BATCH taken and not yet decided: each is claimed in the queue until its
        // outcome is recorded, and waits here for one of the PARALLEL slots.
        let room = BATCH as usize - self.taken.load(Ordering::Acquire).min(BATCH as usize);
        if room < BATCH as usize / 2 {
            // Enough waiting; the next outcome wakes the worker.
            return Ok(IDLE_RECHECK);
        }
        self.store.expand_pending_mail(SETTLE).await?;
        let due = self.store.due_mail(room as u32, CLAIM).await?;
        for mail in due {
            self.taken.fetch_add(1, Ordering::AcqRel);
            let worker = self.clone();
            tokio::spawn(async move {
                let Ok(slot) = worker.slots.clone().acquire_owned().await else { return };
                if worker.stopping.load(Ordering::Acquire) {
                    // Not started: its claim is released at the next start.
                    worker.taken.fetch_sub(1, Ordering::AcqRel);
                    return;
                }
                let outcome = worker.send(mail).await;
                drop(slot);
                // The recorder commits it with others; until then the claim keeps it from
                // being taken again.
                let _ = worker.outcomes.send(outcome);
                worker.taken.fetch_sub(1, Ordering::AcqRel);
            });
        }
        Ok(match self.store.next_mail_at().await? {
            None => IDLE_RECHECK,
            Some(at) => until(&at).min(IDLE_RECHECK),
        })
    }

    /// Tries `mail` once; what is to be recorded of it.
    async fn send(&self, mail: DueMail) -> MailOutcome {
        let outcome = self.try_send(&mail).await;
        let id = mail.id;
        match outcome {
            Outcome::Sent => {
                tracing::info!(mail = id, user = %mail.user, "mail sent");
                MailOutcome::Sent(id)
            }
            Outcome::NotSent(state, why) => {
                tracing::debug!(mail = id, user = %mail.user, state, why, "mail not sent");
                MailOutcome::NotSent { id, state, why }
            }
            Outcome::Permanent(error) => {
                tracing::error!(mail = id, user = %mail.user, %error, "mail refused for good");
                MailOutcome::Failed { id, error, retry_at: None }
            }
            Outcome::Transient(error) => {
                let tries = mail.attempts + 1;
                let retry_at = (!too_old(&mail.created_at)).then(|| after(backoff(tries, rand::random())));
                match &retry_at {
                    Some(at) => {
                        tracing::warn!(mail = mail.id, tries, %error, retry_at = %at, "mail not sent; will retry")
                    }
                    None => tracing::error!(mail = mail.id, tries, %error, "giving up on a mail after a day of trying"),
                }
                MailOutcome::Failed { id, error, retry_at }
            }
        }
    }

    async fn try_send(&self, mail: &DueMail) -> Outcome {
        let Some(address) = &mail.address else {
            return Outcome::NotSent("no_address", "the user's address was removed".into());
        };
        let to = compose::Recipient { user_id: mail.user_id, address, key: self.store.mail_key() };
        let composed = if let Some(items) = &mail.digest {
            if items.is_empty() {
                return Outcome::NotSent("skipped", "everything in the digest was read before it was sent".into());
            }
            compose::digest_mail(&self.config, self.store.hub_id(), &to, mail.id, items)
        } else {
            let Some(notification) = &mail.notification else {
                return Outcome::NotSent("skipped", "the notification was deleted".into());
            };
            if mail.mode == "unread" && (notification.read || notification.answer.is_some()) {
                return Outcome::NotSent("skipped", "read or answered before its mail was due".into());
            }
            compose::notification_mail(&self.config, self.store.hub_id(), &to, notification)
        };
        let message = match composed {
            Ok(message) => message,
            Err(e @ (ComposeError::BadAddress(..) | ComposeError::Build(_))) => {
                return Outcome::Permanent(e.to_string())
            }
        };
        match self.connections.send(&message).await {
            Ok(()) => Outcome::Sent,
            Err(SendError::Permanent(e)) => Outcome::Permanent(e),
            Err(SendError::Transient(e)) => Outcome::Transient(e),
        }
    }
}

/// Records outcomes as they come, all those waiting in one commit (sending 10,000 mails must not
/// take 10,000 commits from the store's one writer). A commit that fails is tried again with
/// the same outcomes; the claims keep their mails from being sent meanwhile.
async fn record(store: Store, mut outcomes: mpsc::UnboundedReceiver<MailOutcome>, wake: Arc<Notify>) {
    let mut batch = Vec::new();
    loop {
        if batch.is_empty() && outcomes.recv_many(&mut batch, 1024).await == 0 {
            return;
        }
        // What else came meanwhile goes in the same commit.
        while let Ok(more) = outcomes.try_recv() {
            batch.push(more);
        }
        match store.record_mail_outcomes(batch.clone()).await {
            Ok(()) => {
                batch.clear();
                wake.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %e, mails = batch.len(), "could not record mail outcomes; retrying");
                tokio::time::sleep(RETRY_BASE).await;
            }
        }
    }
}

/// `RETRY_BASE`·2^(tries−1) with up to 20 % jitter (so many mails failing together do not retry
/// together), at most [`MAX_BACKOFF`].
pub fn backoff(tries: u32, jitter: f64) -> Duration {
    let base = RETRY_BASE.saturating_mul(1u32 << (tries.max(1) - 1).min(20));
    base.mul_f64(1.0 + 0.2 * jitter.clamp(0.0, 1.0)).min(MAX_BACKOFF)
}

fn too_old(created_at: &str) -> bool {
    let Ok(at) = time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339) else {
        return false;
    };
    time::OffsetDateTime::now_utc() - at > GIVE_UP_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_ten_minutes() {
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(3, 1.0), Duration::from_secs_f64(4.8));
        assert_eq!(backoff(12, 0.5), MAX_BACKOFF);
        assert_eq!(backoff(40, 1.0), MAX_BACKOFF);
    }
}
