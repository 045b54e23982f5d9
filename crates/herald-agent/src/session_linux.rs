//! Linux: the session bus, the display (X11 or Wayland) and logind's login session, each
//! watched for its end.

use std::time::Duration;

use futures_util::StreamExt;
use herald_client::session::SessionId;
use zbus::zvariant::OwnedObjectPath;

use super::Ending;

/// How long asking logind may take; a slower answer proves nothing.
const CHECK_PATIENCE: Duration = Duration::from_secs(2);

pub struct Watch {
    /// A connection of the agent's own to the session bus, kept to hear it close.
    bus: Option<zbus::Connection>,
    /// logind's object for the login session, and the system bus it is on.
    login: Option<(zbus::Connection, OwnedObjectPath)>,
}

pub async fn watch(id: &mut SessionId, end: Ending) -> Watch {
    let bus = match zbus::Connection::session().await {
        Ok(bus) => {
            id.bus = match zbus::fdo::DBusProxy::new(&bus).await {
                Ok(proxy) => proxy.get_id().await.ok().map(|guid| guid.to_string()),
                Err(_) => None,
            };
            let watched = bus.clone();
            let end = end.clone();
            tokio::spawn(async move {
                watched.closed().await;
                end.end("the session bus closed");
            });
            Some(bus)
        }
        Err(e) => {
            tracing::info!(error = %e, "no session bus: the session is known by its display only");
            None
        }
    };
    watch_display(id.display.as_deref(), &end).await;
    let login = watch_login(id, end).await;
    Watch { bus, login }
}

impl Watch {
    /// Alive unless shown otherwise: the bus connection closed, or logind says "closing". An
    /// error asking logind (restarting, say) proves nothing either way.
    pub async fn alive(&self) -> bool {
        if self.bus.as_ref().is_some_and(zbus::Connection::is_closed) {
            return false;
        }
        if let Some((system, path)) = &self.login {
            if let Ok(Some(state)) = tokio::time::timeout(CHECK_PATIENCE, login_state(system, path)).await {
                return state != "closing";
            }
        }
        true
    }
}

/// The display's socket closes when its server goes: an X connection of the agent's own (it asks
/// for no events, so nothing comes on it until then), or a Wayland one it never speaks on.
async fn watch_display(display: Option<&str>, end: &Ending) {
    let Some(shown_on) = display else { return };
    if std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty()) {
        let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from).unwrap_or_default();
        let path = runtime.join(shown_on);
        match tokio::net::UnixStream::connect(&path).await {
            Ok(mut stream) => {
                let end = end.clone();
                let name = shown_on.to_owned();
                tokio::spawn(async move {
                    let mut byte = [0u8; 64];
                    // The compositor never writes to a client that has asked nothing.
                    while matches!(tokio::io::AsyncReadExt::read(&mut stream, &mut byte).await, Ok(n) if n > 0) {}
                    end.end(format!("the Wayland display {name} closed"));
                });
            }
            Err(e) => tracing::warn!(error = %e, wayland = shown_on, "cannot watch the Wayland display"),
        }
        return;
    }
    let name = shown_on.to_owned();
    let end = end.clone();
    // Connecting reads the setup reply: a blocking call, made on a thread of its own that then
    // waits for the connection to drop for the agent's whole life.
    let started = std::thread::Builder::new().name("display-watch".into()).spawn(move || {
        let (connection, _) = match x11rb::connect(Some(&name)) {
            Ok(connected) => connected,
            Err(e) => {
                tracing::warn!(error = %e, display = name, "cannot watch the X display");
                return;
            }
        };
        loop {
            if let Err(e) = x11rb::connection::Connection::wait_for_event(&connection) {
                tracing::debug!(error = %e, "the X connection ended");
                break;
            }
        }
        end.end(format!("the X display {name} closed"));
    });
    if let Err(e) = started {
        tracing::warn!(error = %e, "cannot watch the display");
    }
}

const LOGIND: &str = "org.freedesktop.login1";

/// logind's login session: found by `XDG_SESSION_ID` (else by this process), then watched for
/// its removal and for its state becoming "closing" (logout, where the user's processes are
/// left running). logind does not signal its `State`; a change of the session's signalled
/// properties (it goes inactive at logout) or of the manager's sessions is the cue to read it.
async fn watch_login(id: &mut SessionId, end: Ending) -> Option<(zbus::Connection, OwnedObjectPath)> {
    let system = zbus::Connection::system().await.ok()?;
    let (path, session_id) = find_login(&system, id.login.as_deref()).await?;
    id.login = Some(session_id.clone());
    let properties = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(LOGIND)
        .ok()?
        .path(path.clone())
        .ok()?
        .interface("org.freedesktop.DBus.Properties")
        .ok()?
        .member("PropertiesChanged")
        .ok()?
        .build();
    let removed = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(LOGIND)
        .ok()?
        .interface("org.freedesktop.login1.Manager")
        .ok()?
        .member("SessionRemoved")
        .ok()?
        // This session's removal only, not every one on the machine.
        .arg(0, session_id.as_str())
        .ok()?
        .build();
    let mut changed = zbus::MessageStream::for_match_rule(properties, &system, None).await.ok()?;
    let mut removals = zbus::MessageStream::for_match_rule(removed, &system, None).await.ok()?;
    tracing::info!(login_session = session_id, "watching the login session");
    let (watched_bus, watched_path) = (system.clone(), path.clone());
    tokio::spawn(async move {
        let gone = loop {
            tokio::select! {
                Some(Ok(message)) = removals.next() => {
                    if message.body().deserialize::<(String, OwnedObjectPath)>().is_ok_and(|(id, _)| id == session_id) {
                        break Some(format!("logind removed the login session {session_id}"));
                    }
                }
                Some(Ok(_)) = changed.next() => {
                    // Unreadable (logind restarting) proves nothing; its removal is signalled.
                    if login_state(&watched_bus, &watched_path).await.as_deref() == Some("closing") {
                        break Some(format!("the login session {session_id} is closing"));
                    }
                }
                // The system bus went (or its daemon restarted): logind is no longer heard, which
                // does not mean the session ended; the session bus and the display still tell.
                else => break None,
            }
        };
        match gone {
            Some(reason) => end.end(reason),
            None => tracing::warn!("the system bus closed: the login session is no longer watched"),
        }
    });
    // Already closing when the agent started (it was started into a session on its way out).
    if login_state(&system, &path).await.as_deref() == Some("closing") {
        tracing::warn!("the login session was closing already");
    }
    Some((system, path))
}

async fn find_login(system: &zbus::Connection, session_id: Option<&str>) -> Option<(OwnedObjectPath, String)> {
    let manager = "org.freedesktop.login1.Manager";
    let reply = match session_id {
        Some(id) => {
            system.call_method(Some(LOGIND), "/org/freedesktop/login1", Some(manager), "GetSession", &(id,)).await
        }
        None => {
            system
                .call_method(
                    Some(LOGIND),
                    "/org/freedesktop/login1",
                    Some(manager),
                    "GetSessionByPID",
                    &(std::process::id(),),
                )
                .await
        }
    };
    let path: OwnedObjectPath = reply.ok()?.body().deserialize().ok()?;
    let id = property(system, &path, "Id").await.unwrap_or_else(|| session_id.unwrap_or_default().to_owned());
    Some((path, id))
}

/// The session's `State` ("online", "active", "closing"); None if logind does not know it.
async fn login_state(system: &zbus::Connection, path: &OwnedObjectPath) -> Option<String> {
    property(system, path, "State").await
}

async fn property(system: &zbus::Connection, path: &OwnedObjectPath, name: &str) -> Option<String> {
    let reply = system
        .call_method(
            Some(LOGIND),
            path.as_str(),
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.freedesktop.login1.Session", name),
        )
        .await
        .ok()?;
    let value: zbus::zvariant::OwnedValue = reply.body().deserialize().ok()?;
    String::try_from(value).ok()
}
