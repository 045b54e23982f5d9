//! `herald`: the resident desktop agent.
//!
//! Map of the binary (it renders; herald-client decides):
//! - `main`: configuration, logging, single-instance check, wiring, shutdown.
//! - [`cli`]: `herald <command>` — list, search, show, read, reply, confirm, sync — headless.
//! - [`engines`]: one sync engine per account, started and stopped as accounts change.
//! - [`status`]: folds sync events into the tray's [`Status`] and the windows' events.
//! - [`toasts`]: raises native toasts for what `herald_client::toast` picks.
//! - [`ipc_server`]: the local socket the inbox window (and a second `herald`) talk to.
//! - [`session`]: the desktop session the agent belongs to; it stops when that ends.
//! - [`handover`]: a second `herald` meeting the running agent: hands over within a session,
//!   takes over from an ended one, says why not for another live one.
//! - [`windows`]: starts `herald-ui` when a window is needed.
//! - [`tray`] / [`tray_icon`] / [`tray_menu`]: the tray (a StatusNotifierItem on Linux, a
//!   notification-area icon on Windows), its drawn icon and its menu.
//!
//! Links no webview: `cargo tree -p herald-agent` has no tauri, wry or webkit.

// On Windows a windowed program: started at sign-in it must not open a console window for the
// day (its command line still prints where its output is piped or redirected).
#![cfg_attr(windows, windows_subsystem = "windows")]

mod actions;
mod cli;
mod engines;
mod handover;
mod ipc_server;
mod logging;
// The desktop's toasts: the freedesktop notification daemon on Linux, WinRT's toasts on Windows,
// the Notification Center on macOS; one face, so `toasts` drives each alike.
#[cfg_attr(windows, path = "toasts_windows.rs")]
#[cfg_attr(target_os = "macos", path = "toasts_macos.rs")]
mod notification_daemon;
mod session;
mod settings;
mod status;
mod toasts;
#[cfg_attr(windows, path = "tray_windows.rs")]
#[cfg_attr(not(any(target_os = "linux", windows)), path = "tray_unsupported.rs")]
mod tray;
#[cfg(any(target_os = "linux", windows))]
mod tray_icon;
#[cfg(any(target_os = "linux", windows))]
mod tray_menu;
mod windows;

use std::time::Duration;

use anyhow::Context;
use herald_client::ipc::socket::{IpcIoError, IpcListener};
use herald_client::ipc::{Event, OpenWindow};
use herald_client::mirror::{Mirror, SharedMirror};
use herald_client::secrets::TokenStore;
use herald_client::status::Status;
use herald_client::sync::engine::index_in_background;
use herald_client::Config;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch, Notify};

use engines::Engines;

/// What the user asked the agent to do, from the tray, a toast or a second `herald`.
#[derive(Debug)]
pub enum Command {
    /// Open a window: the inbox (at a notification), the quick panel (by the tray, or at a
    /// notification's reply box), settings.
    Open(OpenWindow),
    /// Accounts were added or removed (`herald accounts …`): start and stop engines to match,
    /// then say so (or why not) to whoever asked.
    ReloadAccounts {
        done: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    /// A herald-ui is ending (`Request::UiLeaving`): the next window starts a new one. Said
    /// done once nothing more will be sent its way.
    UiLeaving {
        done: tokio::sync::oneshot::Sender<()>,
    },
    /// Something the user did in the tray's menu.
    Act(herald_client::outbox::Action),
    /// Snooze a reminder (its toast's button).
    SnoozeLive {
        event_id: String,
        after: jiff::SignedDuration,
    },
    Quit,
}

fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    herald_client::keep_files_private();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = Config::load().context("reading the configuration")?;
    config.make_profile_private();
    if let Some(command) = cli::parse(&args)? {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        return runtime.block_on(cli::run(config, command));
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tune_allocator();
    let _log = logging::init(&config.log_dir());
    // One thread is plenty for a tray, a socket and a WebSocket; it keeps the agent small. The
    // mirror's calls and DNS run on blocking threads: two at most, as each thread that allocates
    // gets an allocator arena of its own that holds memory after the work is done (measured:
    // four arenas, 6.7 MB, after a 100,000-notification catch-up).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(2)
        .thread_keep_alive(std::time::Duration::from_secs(60))
        .build()?;
    runtime.block_on(run(config, started))
}

async fn run(config: Config, started: std::time::Instant) -> anyhow::Result<()> {
    // Heard from the start: a SIGTERM while the agent is still starting (a `herald` of a new
    // session that found it slow to answer) stops it cleanly at the loop below.
    let mut signals = Signals::new()?;
    let session = Arc::new(session::Session::join().await);
    let Some(listener) = take_profile(&config, &session).await? else { return Ok(()) };
    session.listen();
    let mirror = SharedMirror::new(
        Mirror::open(&config.mirror_path())
            .with_context(|| format!("opening the mirror {}", config.mirror_path().display()))?,
    );
    tracing::info!(data_dir = %config.data_dir.display(), socket = %config.socket_path().display(), "herald agent starting");

    let (sync_events, _) = broadcast::channel(256);
    let (window_events, _) = broadcast::channel::<Event>(256);
    let (commands_tx, mut commands) = mpsc::unbounded_channel::<Command>();
    // Start from what the mirror holds, so the tray and windows never show a wrong count at start.
    let unread = mirror.call(|m| m.unread_count()).await.context("reading the mirror")?;
    let (status_tx, status_rx) = watch::channel(Status { unread, ..Status::default() });
    // The tray first: it is what the user waits for at login; the keyring and the hubs come after.
    let tray = tray::spawn(status_rx.clone(), commands_tx.clone()).await;
    if tray.is_some() {
        tracing::info!(since_start_ms = started.elapsed().as_secs_f64() * 1000.0, "tray ready");
    }

    // One engine per account, all sharing the mirror's one search indexer.
    let index_ready = Arc::new(Notify::new());
    let indexer = tokio::spawn(index_in_background(mirror.clone(), index_ready.clone()));
    let tokens = Arc::new(TokenStore::open(&config.data_dir).await);
    if let Some(why) = &tokens.why_file {
        tracing::info!(why, "sign-in tokens are kept in the token file (owner only), not a keyring");
    }
    // A CA file that cannot be read trusts less, not more: the system's roots only, so a hub
    // that needs the CA shows "the hub's certificate is not trusted" while the inbox still works.
    let tls = config.tls().unwrap_or_else(|e| {
        tracing::error!(error = %e, "using the system's root certificates only");
        herald_client::tls::Tls::system()
    });
    let mut engines =
        Engines::new(config.clone(), tls.clone(), mirror.clone(), sync_events.clone(), index_ready, tokens);
    engines.reload().await.context("reading the accounts")?;
    // This desktop's own settings; the settings window changes them, the toasts follow.
    let device = watch::Sender::new(herald_client::device::load(&config.data_dir));
    let toasts = toasts::spawn(
        sync_events.subscribe(),
        commands_tx.clone(),
        mirror.clone(),
        config.critical_breaks_through,
        device.subscribe(),
    );
    let status_task = tokio::spawn(status::run(
        sync_events.subscribe(),
        mirror.clone(),
        engines.names(),
        status_tx,
        window_events.clone(),
    ));
    let actions =
        actions::Actions { mirror, outbox_ready: engines.outbox_ready(), mirror_changes: sync_events.clone() };
    let ui_links = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let settings = settings::Settings::new(
        config.clone(),
        &tls,
        actions.mirror.clone(),
        engines.tokens.clone(),
        commands_tx.clone(),
        device.clone(),
    );
    let server = ipc_server::IpcServer {
        session: session.clone(),
        settings,
        ui_links: ui_links.clone(),
        actions: actions.clone(),
        status: status_rx,
        events: window_events.clone(),
        commands: commands_tx,
    };
    let ipc_task = tokio::spawn(server.serve(listener));
    let mut windows = windows::Windows::new(ui_links);

    loop {
        tokio::select! {
            Some(command) = commands.recv() => match command {
                Command::Open(request) => windows.open(&window_events, request),
                Command::ReloadAccounts { done } => {
                    let reloaded = engines.reload().await.map_err(|e| {
                        tracing::error!(error = %e, "cannot read the accounts; the engines running stay as they are");
                        format!("cannot read the accounts: {e}")
                    });
                    let _ = done.send(reloaded);
                }
                Command::Act(action) => {
                    if let Err(e) = actions.record(action).await {
                        tracing::error!(error = %e, "cannot record an action from the tray");
                    }
                }
                Command::SnoozeLive { event_id, after } => actions.snooze_live(event_id, after),
                Command::UiLeaving { done } => {
                    windows.ui_leaving();
                    let _ = done.send(());
                }
                Command::Quit => break,
            },
            _ = signals.next() => break,
            reason = session.ended() => {
                tracing::warn!(%reason, "the desktop session has ended");
                break;
            }
        }
    }
    tracing::info!("herald agent stopping");
    // No toast from here on, and no window (only the loop above opens them): the session may
    // be gone already.
    toasts.stop();
    // Give the feeds a moment to close cleanly; the mirror (outbox and cursor with it) is
    // consistent either way.
    engines.stop_all().await;
    // Only now the lock goes (the IPC task holds it): a `herald` of the next session waiting for
    // it must not start flushing the outbox while these engines still might.
    ipc_task.abort();
    let _ = ipc_task.await;
    indexer.abort();
    status_task.abort();
    // Last: the icon leaves the tray (on Windows it would otherwise linger as a ghost).
    drop(tray);
    tracing::info!("herald agent stopped");
    session::stopped();
    Ok(())
}

/// Becomes the profile's one agent: binds its socket, or meets the agent that holds it
/// (`handover`). None: handed over to this session's agent, nothing more to do.
async fn take_profile(config: &Config, session: &session::Session) -> anyhow::Result<Option<IpcListener>> {
    let socket = config.socket_path();
    // Set once the running agent is leaving: until then its lock is waited for, not met again.
    let mut leaving_by: Option<tokio::time::Instant> = None;
    loop {
        match IpcListener::bind(&socket).await {
            Ok(listener) => return Ok(Some(listener)),
            Err(IpcIoError::AlreadyRunning(_)) if leaving_by.is_some_and(|by| tokio::time::Instant::now() < by) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(IpcIoError::AlreadyRunning(_)) if leaving_by.is_some() => {
                anyhow::bail!("the herald agent of the ended session did not let go of the profile in time")
            }
            Err(IpcIoError::AlreadyRunning(path)) => {
                match handover::meet_running_agent(&path, &session.id, &config.data_dir).await? {
                    handover::Met::HandedOver => return Ok(None),
                    handover::Met::Refused(why) => {
                        tracing::error!(%why, "not starting");
                        // Started at login it has no terminal: a toast in this session says it.
                        toasts::show_alone("Herald did not start here", &why).await;
                        anyhow::bail!(why);
                    }
                    handover::Met::Replace => {
                        leaving_by = Some(tokio::time::Instant::now() + handover::LEAVE_PATIENCE);
                    }
                }
            }
            Err(e) => return Err(e).context("opening the agent's socket"),
        }
    }
}

/// glibc's allocator, as it comes, keeps what a burst of work freed (a catch-up of 100,000
/// notifications left ~8 MB of free but resident heap, in one arena per thread that allocated).
/// The agent idles all day, so it asks for one arena, large blocks mapped (and so unmapped when
/// freed), and the heap's free top returned early. glibc reads these only at start, so the agent
/// starts itself again once with them set (about 2 ms); `HERALD_MALLOC_TUNED` marks the second
/// start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("HERALD_MALLOC_TUNED").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let tunables = "glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072";
    let tunables = match std::env::var("GLIBC_TUNABLES") {
        Ok(own) if !own.is_empty() => format!("{own}:{tunables}"),
        _ => tunables.to_owned(),
    };
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", tunables)
        .env("HERALD_MALLOC_TUNED", "1")
        .exec();
    // Not fatal: the agent runs as it is, with glibc's defaults.
    eprintln!("herald: could not restart with a tuned allocator ({error}); going on without");
}

/// SIGINT and SIGTERM, as one stream.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
    }
}

/// Ctrl+C and the console window closing, as one stream, when there is a console (the agent is
/// a windowed program, so started at sign-in it has none and is ended from the tray).
#[cfg(windows)]
struct Signals {
    interrupt: Option<tokio::signal::windows::CtrlC>,
    close: Option<tokio::signal::windows::CtrlClose>,
}

#[cfg(windows)]
impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self { interrupt: tokio::signal::windows::ctrl_c().ok(), close: tokio::signal::windows::ctrl_close().ok() })
    }

    async fn next(&mut self) {
        let interrupt = async {
            match &mut self.interrupt {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        let close = async {
            match &mut self.close {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupt => {},
            _ = close => {},
        }
    }
}
