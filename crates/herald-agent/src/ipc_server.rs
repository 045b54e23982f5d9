//! The agent's end of the local socket: each window gets the current state, then every event;
//! its requests are carried out here (actions go through the mirror's outbox to the hub).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use herald_client::ipc::socket::{IpcIoError, IpcListener, IpcStream, IpcWriter};
use herald_client::ipc::{Event, IpcError, IpcErrorCode, OpenWindow, Request};
use herald_client::outbox::Action;
use herald_client::session::{SessionId, Standing};
use herald_client::status::Status;
use tokio::sync::{broadcast, mpsc, watch};

use crate::actions::Actions;
use crate::Command;

pub struct IpcServer {
    /// The desktop session this agent belongs to: a `herald` of another asks about it.
    pub session: Arc<crate::session::Session>,
    pub settings: crate::settings::Settings,
    /// How many herald-ui processes are on the socket now (see `Request::UiAttached`).
    pub ui_links: Arc<AtomicUsize>,
    pub actions: Actions,
    pub status: watch::Receiver<Status>,
    pub events: broadcast::Sender<Event>,
    pub commands: mpsc::UnboundedSender<Command>,
}

impl IpcServer {
    pub async fn serve(self, listener: IpcListener) {
        let server = Arc::new(self);
        loop {
            match listener.accept().await {
                Ok(stream) => {
                    tokio::spawn(server.clone().converse(stream));
                }
                Err(e) => {
                    // E.g. out of file descriptors: do not spin.
                    tracing::warn!(error = %e, "IPC accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
            }
        }
    }

    /// Serves one peer. A peer that hangs up right after sending (a second `herald` handing over)
    /// still has its requests carried out: reading goes on after writing fails.
    async fn converse(self: Arc<Self>, stream: IpcStream) {
        let mut ui = UiLink { count: self.ui_links.clone(), attached: false };
        // Settings questions are answered beside the conversation: one may wait on a hub or the
        // keyring, and events (a tray click's Open) must not wait behind it.
        let (answered, mut answers) = mpsc::unbounded_channel::<Event>();
        let mut events = self.events.subscribe();
        let (mut reader, mut writer) = stream.split();
        // Nothing is said to a peer before its hello: see `herald_client::ipc::socket`.
        if let Err(e) = reader.greeted().await {
            tracing::warn!(error = %e, "dropping an IPC peer");
            return;
        }
        let mut status = self.status.borrow().clone();
        status.prune_live(jiff::Timestamp::now());
        let Status { connection, unread, live, .. } = status;
        let mut listening = writer.send(&Event::Connection { connection }).await.is_ok()
            && writer.send(&Event::InboxChanged { unread }).await.is_ok()
            && writer.send(&Event::LiveEvents { events: live }).await.is_ok();
        loop {
            let sent = tokio::select! {
                request = reader.recv::<Request>() => match request {
                    None => return,
                    Some(Ok(Request::UiAttached)) => {
                        ui.attach();
                        Ok(())
                    }
                    Some(Ok(Request::UiLeaving)) => {
                        ui.detach();
                        self.let_go(&mut events, &mut writer, listening).await
                    }
                    Some(Ok(Request::Ask { tag, question })) => {
                        let (settings, answered) = (self.settings.clone(), answered.clone());
                        tokio::spawn(async move {
                            let answer = settings.answer(question).await;
                            if let Err(e) = &answer {
                                tracing::warn!(code = ?e.code, error = %e.message, "a settings question failed");
                            }
                            let _ = answered.send(Event::SettingsAnswer { tag, answer });
                        });
                        Ok(())
                    }
                    Some(Ok(request)) => self.carry_out(request, &mut writer).await,
                    Some(Err(IpcIoError::Decode(e))) => {
                        let error = IpcError { code: IpcErrorCode::BadRequest, message: e.to_string() };
                        writer.send(&Event::Error(error)).await
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "dropping an IPC peer");
                        return;
                    }
                },
                Some(answer) = answers.recv() => writer.send(&answer).await,
                event = events.recv(), if listening => match event {
                    Ok(event) => writer.send(&event).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let unread = self.status.borrow().unread;
                        writer.send(&Event::InboxChanged { unread }).await
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            listening &= sent.is_ok();
        }
    }

    /// A herald-ui means to end: the agent forgets it (a window asked for from now on starts a
    /// new one), passes on the events sent before that, then says `UiLeft`. herald-ui ends only
    /// if none of those asked for a window, so no request falls between the two processes.
    async fn let_go(
        &self,
        events: &mut broadcast::Receiver<Event>,
        writer: &mut IpcWriter,
        listening: bool,
    ) -> Result<(), IpcIoError> {
        let (done, forgotten) = tokio::sync::oneshot::channel();
        let _ = self.commands.send(Command::UiLeaving { done });
        let _ = forgotten.await;
        loop {
            match events.try_recv() {
                Ok(event) if listening => writer.send(&event).await?,
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
        writer.send(&Event::UiLeft).await
    }

    async fn carry_out(&self, request: Request, writer: &mut IpcWriter) -> Result<(), IpcIoError> {
        match request {
            // Handled in `converse`, which knows the peer.
            Request::UiAttached | Request::UiLeaving | Request::Ask { .. } => Ok(()),
            Request::OpenInbox => {
                let _ = self.commands.send(Command::Open(OpenWindow::Inbox { show: None }));
                Ok(())
            }
            Request::AccountsChanged => {
                // Answered to this peer only, once its change is followed: a reload already under
                // way when it asked may have read the accounts before the change.
                let (done, reloaded) = tokio::sync::oneshot::channel();
                let _ = self.commands.send(Command::ReloadAccounts { done });
                match reloaded.await {
                    Ok(Ok(())) => writer.send(&Event::AccountsReloaded).await,
                    Ok(Err(message)) => {
                        writer.send(&Event::Error(IpcError { code: IpcErrorCode::MirrorFailed, message })).await
                    }
                    Err(_) => Ok(()),
                }
            }
            Request::MarkRead { ids, read } => self.act(Action::MarkRead { ids, read }, writer).await,
            Request::SnoozeLive { event_id, minutes } => {
                self.actions.snooze_live(event_id, jiff::SignedDuration::from_mins(i64::from(minutes)));
                Ok(())
            }
            Request::Act { action } => self.act(action, writer).await,
            Request::WhoseSession { session: asker } => self.answer_whose_session(&asker, writer).await,
        }
    }

    /// A second `herald` asks which session this agent is in. If another, this one checks that
    /// its own still lives; if it does not, it says it is ending, and ends.
    async fn answer_whose_session(&self, asker: &SessionId, writer: &mut IpcWriter) -> Result<(), IpcIoError> {
        let own = &self.session.id;
        let alive = own.same_as(asker) || self.session.alive().await;
        let standing = herald_client::session::standing(own, asker, alive);
        tracing::info!(asker = %asker.describe(), ?standing, "a herald asked which session this agent is in");
        let answer = Event::SessionStanding { session: own.clone(), pid: std::process::id(), standing };
        let sent = writer.send(&answer).await;
        if standing == Standing::Ending {
            self.session.end(format!("this session is gone, and a herald of {} takes the profile", asker.describe()));
        }
        sent
    }

    async fn act(&self, action: Action, writer: &mut IpcWriter) -> Result<(), IpcIoError> {
        match self.actions.record(action).await {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "cannot record an action");
                writer.send(&Event::Error(IpcError { code: IpcErrorCode::MirrorFailed, message: e.to_string() })).await
            }
        }
    }
}

/// Counts a peer that said it is herald-ui, for as long as it is connected.
struct UiLink {
    count: Arc<AtomicUsize>,
    attached: bool,
}

impl UiLink {
    fn attach(&mut self) {
        if !self.attached {
            self.attached = true;
            self.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn detach(&mut self) {
        if self.attached {
            self.attached = false;
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for UiLink {
    fn drop(&mut self) {
        if self.attached {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
