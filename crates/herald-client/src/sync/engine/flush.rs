//! Sending the outbox while the feed runs: one send at a time in a task of its own (the feed is
//! never held up by it), another one after it if actions came meanwhile, a retry with backoff
//! when some could not be sent, and what it did told to the shell.

use url::Url;

use super::super::backoff::Backoff;
use super::super::SyncEvent;
use super::SyncEngine;
use crate::mirror::Applied;
use crate::outbox;

impl SyncEngine {
    /// Starts sending the outbox unless a send is already running (then it runs again after).
    pub(super) fn start_flush(&self, flushing: &mut Flushing, server: &Url, token: &str) {
        if flushing.is_running() {
            flushing.again = true;
            return;
        }
        let hub = outbox::Hub { account: self.account, server: server.clone(), token: token.to_owned() };
        let (http, mirror) = (self.http.clone(), self.mirror.clone());
        flushing.task = Some(tokio::spawn(async move {
            match outbox::flush(&http, &hub, &mirror).await {
                Ok(flushed) => (flushed, None),
                Err((flushed, e)) => (flushed, Some(e)),
            }
        }));
    }

    /// Reports a finished send; returns when to try again if some actions could not be sent.
    pub(super) fn finish_flush(&self, done: FlushOutcome, backoff: &mut Backoff) -> Option<tokio::time::Instant> {
        let (flushed, failure) = done;
        self.report(flushed);
        match failure {
            None => {
                backoff.reset();
                None
            }
            Some(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?delay, "outbox flush failed; actions stay queued");
                Some(tokio::time::Instant::now() + delay)
            }
        }
    }

    /// Tells the shell what a flush did: sent actions, and refused ones (taken back locally).
    fn report(&self, flushed: outbox::Flushed) {
        if flushed.sent > 0 {
            tracing::info!(sent = flushed.sent, "outbox flushed");
            self.emit(SyncEvent::OutboxFlushed { sent: flushed.sent });
        }
        if flushed.inbox_changed {
            self.mirror_changed(Applied { read_changed: true, ..Applied::default() }, true);
        }
        for (action, error) in flushed.rejected {
            self.emit(SyncEvent::ActionRejected { action, error });
        }
    }
}

pub(super) type FlushOutcome = (outbox::Flushed, Option<outbox::SendError>);

/// The outbox send in flight, if any. Dropped with the session: a send cut short leaves its
/// actions queued, and their keys make sending them again safe.
#[derive(Default)]
pub(super) struct Flushing {
    task: Option<tokio::task::JoinHandle<FlushOutcome>>,
    /// More actions came while a send was running.
    pub(super) again: bool,
}

impl Flushing {
    pub(super) fn is_running(&self) -> bool {
        self.task.is_some()
    }

    pub(super) async fn wait(&mut self) -> FlushOutcome {
        let Some(task) = self.task.as_mut() else { return std::future::pending().await };
        let outcome = task
            .await
            .unwrap_or_else(|e| (outbox::Flushed::default(), Some(outbox::SendError::Stopped(e.to_string()))));
        self.task = None;
        outcome
    }
}

impl Drop for Flushing {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
