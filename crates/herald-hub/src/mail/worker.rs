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

use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::{watch, Notify, Semaphore};

use super::compose::{self, ComposeError};
use super::MailConfig;
use crate::retry::{after, until, with_causes};
use crate::store::{DueMail, Store, StoreError};

/// The wait before the second try; it doubles with each further one.
const RETRY_BASE: Duration = Duration::from_secs(1);
/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// A mail still failing this long after it was queued is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Mails taken from the queue per round.
const BATCH: u32 = 64;
/// How long a mail taken stays claimed: longer than a send can take (lettre gives up on a
/// silent server after `smtp::SMTP_TIMEOUT`), so a slow send is never taken twice.
const CLAIM: Duration = Duration::from_secs(120);
/// Mails on their way at once (lettre's pool keeps their connections).
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

    /// Starts sending; stops when `stop` turns true.
    pub fn spawn(&self, store: Store, config: MailConfig, stop: watch::Receiver<bool>) -> Result<(), String> {
        let transport = config.smtp.transport()?;
        tracing::info!(smtp = %config.smtp, from = %config.from, "sending mail");
        let worker_store = store.clone();
        let worker = Arc::new(Worker {
            store,
            config,
            transport,
            wake: self.wake.clone(),
            slots: Arc::new(Semaphore::new(PARALLEL)),
        });
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
        Ok(())
    }
}

struct Worker {
    store: Store,
    config: MailConfig,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
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
                _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => return,
            }
        }
    }

    /// Starts sending what is due, as far as slots allow; returns how long to sleep.
    async fn round(self: &Arc<Self>) -> Result<Duration, StoreError> {
        // Only as many as can start now: each mail taken is claimed in the queue until its
        // outcome is recorded, so none is left claimed and waiting here.
        let free = self.slots.available_permits().min(BATCH as usize);
        if free == 0 {
            // The next send to end wakes the worker.
            return Ok(IDLE_RECHECK);
        }
        let due = self.store.due_mail(free as u32, CLAIM).await?;
        for mail in due {
            let slot = self.slots.clone().try_acquire_owned().expect("only this loop takes slots");
            let worker = self.clone();
            tokio::spawn(async move {
                let id = mail.id;
                if let Err(e) = worker.send(mail).await {
                    // Its claim runs out and it is tried again (at worst the one duplicate).
                    tracing::error!(error = %e, mail = id, "could not record a mail's outcome");
                    tokio::time::sleep(RETRY_BASE).await;
                }
                drop(slot);
                worker.wake.notify_one();
            });
        }
        Ok(match self.store.next_mail_at().await? {
            None => IDLE_RECHECK,
            Some(at) => until(&at).min(IDLE_RECHECK),
        })
    }

    async fn send(&self, mail: DueMail) -> Result<(), StoreError> {
        let outcome = self.try_send(&mail).await;
        match outcome {
            Outcome::Sent => {
                tracing::info!(mail = mail.id, user = %mail.user, "mail sent");
                self.store.mail_sent(mail.id).await
            }
            Outcome::NotSent(state, why) => {
                tracing::debug!(mail = mail.id, user = %mail.user, state, why, "mail not sent");
                self.store.mail_not_sent(mail.id, state, why).await
            }
            Outcome::Permanent(error) => {
                tracing::error!(mail = mail.id, user = %mail.user, %error, "mail refused for good");
                self.store.mail_failed(mail.id, error, None).await
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
                self.store.mail_failed(mail.id, error, retry_at).await
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
        match self.transport.send(message).await {
            Ok(_) => Outcome::Sent,
            Err(e) if e.is_permanent() => Outcome::Permanent(format!("the SMTP server refused it: {e}")),
            Err(e) => Outcome::Transient(format!("could not hand it to the SMTP server: {}", with_causes(&e))),
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
