//! A stand-in for systemd-logind on a private "system" bus: it owns `org.freedesktop.login1` and
//! serves one login session's object, whose state a test can end. systemd-logind itself cannot
//! run here (no systemd as PID 1), so this is a mock, limited to what the agent uses: the
//! manager's `GetSession` / `GetSessionByPID`, and the session's `Id`, `State` and `Active`
//! (logind signals `Active` but not `State`, as this one does).

use std::path::Path;

use zbus::zvariant::OwnedObjectPath;

use crate::bus::SessionBus;

const NAME: &str = "org.freedesktop.login1";

struct Manager {
    session: OwnedObjectPath,
}

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl Manager {
    fn get_session(&self, _id: String) -> OwnedObjectPath {
        self.session.clone()
    }

    #[zbus(name = "GetSessionByPID")]
    fn get_session_by_pid(&self, _pid: u32) -> OwnedObjectPath {
        self.session.clone()
    }
}

struct Session {
    id: String,
    state: String,
    active: bool,
}

#[zbus::interface(name = "org.freedesktop.login1.Session")]
impl Session {
    #[zbus(property)]
    fn id(&self) -> String {
        self.id.clone()
    }

    #[zbus(property)]
    fn state(&self) -> String {
        self.state.clone()
    }

    #[zbus(property)]
    fn active(&self) -> bool {
        self.active
    }
}

pub struct Logind {
    /// The "system" bus: give its address to the agent as `DBUS_SYSTEM_BUS_ADDRESS`.
    pub bus: SessionBus,
    connection: zbus::Connection,
    path: OwnedObjectPath,
    id: String,
}

impl Logind {
    /// A logind with one active login session `id`.
    pub async fn start(dir: &Path, id: &str) -> Self {
        let bus = SessionBus::start(dir);
        let path = OwnedObjectPath::try_from(format!("/org/freedesktop/login1/session/{id}")).unwrap();
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .name(NAME)
            .unwrap()
            .serve_at("/org/freedesktop/login1", Manager { session: path.clone() })
            .unwrap()
            .serve_at(path.as_str(), Session { id: id.to_owned(), state: "active".into(), active: true })
            .unwrap()
            .build()
            .await
            .expect("owning org.freedesktop.login1 on the test's system bus");
        Self { bus, connection, path, id: id.to_owned() }
    }

    /// Makes the agent of `env` one of this logind's session (as pam_systemd would at login).
    pub fn place_in_session(&self, env: &mut crate::agent::AgentEnv) {
        env.extra_env.push(("DBUS_SYSTEM_BUS_ADDRESS".into(), self.bus.address.clone().into()));
        env.extra_env.push(("XDG_SESSION_ID".into(), self.id.clone().into()));
    }

    /// The session closed without a word heard on the bus (a remote session without a seat
    /// never changes `Active`, or the agent missed the signal): only asking tells.
    pub async fn close_silently(&self) {
        let session = self.connection.object_server().interface::<_, Session>(self.path.as_str()).await.unwrap();
        session.get_mut().await.state = "closing".into();
    }

    /// Logout where the user's processes are left running (`KillUserProcesses=no`): the
    /// session goes "closing" and inactive, and only `Active`'s change is signalled.
    pub async fn log_out(&self) {
        let session = self.connection.object_server().interface::<_, Session>(self.path.as_str()).await.unwrap();
        let mut state = session.get_mut().await;
        state.state = "closing".into();
        state.active = false;
        state.active_changed(session.signal_emitter()).await.unwrap();
    }
}
