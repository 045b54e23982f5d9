//! A notification daemon that owns `org.freedesktop.Notifications` on a test bus and records
//! every `Notify` call. It draws nothing, so it needs no X server; the real
//! notification-daemon is used where pixels matter. Like dunst and GNOME's notification-daemon,
//! it sends `ActionInvoked` and `NotificationClosed` only to the connection that showed the toast.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use zbus::zvariant::OwnedValue;

#[derive(Debug, Clone)]
pub struct NotifyCall {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

/// Which connection showed each toast: its signals go there only.
type Owners = Arc<Mutex<HashMap<u32, zbus::names::OwnedUniqueName>>>;

struct Server {
    calls: mpsc::UnboundedSender<NotifyCall>,
    closes: mpsc::UnboundedSender<u32>,
    next_id: AtomicU32,
    owners: Owners,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = if replaces_id != 0 { replaces_id } else { self.next_id.fetch_add(1, Ordering::SeqCst) };
        if let Some(sender) = header.sender() {
            self.owners.lock().unwrap().insert(id, sender.to_owned().into());
        }
        let _ = self.calls.send(NotifyCall { id, app_name, summary, body, actions });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        ["actions", "body", "body-markup"].map(String::from).to_vec()
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("herald-test-daemon".into(), "herald".into(), "1.0".into(), "1.2".into())
    }

    async fn close_notification(&self, #[zbus(connection)] connection: &zbus::Connection, id: u32) {
        let _ = self.closes.send(id);
        // Reason 3: closed by a call to CloseNotification.
        let owner = self.owners.lock().unwrap().remove(&id);
        if let Some(owner) = owner {
            let _ = connection.emit_signal(Some(owner), PATH, INTERFACE, "NotificationClosed", &(id, 3_u32)).await;
        }
    }
}

const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

pub struct NotificationDaemon {
    connection: zbus::Connection,
    owners: Owners,
    calls: mpsc::UnboundedReceiver<NotifyCall>,
    closes: mpsc::UnboundedReceiver<u32>,
}

impl NotificationDaemon {
    pub async fn start(bus_address: &str) -> Self {
        let (tx, calls) = mpsc::unbounded_channel();
        let (close_tx, closes) = mpsc::unbounded_channel();
        let owners = Owners::default();
        let server = Server { calls: tx, closes: close_tx, next_id: AtomicU32::new(1), owners: owners.clone() };
        let connection = zbus::connection::Builder::address(bus_address)
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at("/org/freedesktop/Notifications", server)
            .unwrap()
            .build()
            .await
            .expect("owning org.freedesktop.Notifications");
        Self { connection, owners, calls, closes }
    }

    /// The next `Notify` call, in order.
    pub async fn next_toast(&mut self) -> NotifyCall {
        super::within("a toast", self.calls.recv()).await.expect("daemon alive")
    }

    /// The id of the next toast the client asked to close (`CloseNotification`).
    pub async fn next_close(&mut self) -> u32 {
        super::within("a toast to be closed", self.closes.recv()).await.expect("daemon alive")
    }

    /// Whether a toast was closed that was not taken yet.
    pub fn pending_close(&mut self) -> Option<u32> {
        self.closes.try_recv().ok()
    }

    /// Whether a toast arrived that was not taken yet.
    pub fn pending_toast(&mut self) -> Option<NotifyCall> {
        self.calls.try_recv().ok()
    }

    /// Acts as if the user clicked the toast (`"default"`) or one of its buttons: the signal
    /// goes to the connection that showed it.
    pub async fn invoke_action(&self, id: u32, action: &str) {
        let owner = self.owners.lock().unwrap().get(&id).cloned().expect("a toast this daemon showed");
        self.connection.emit_signal(Some(owner), PATH, INTERFACE, "ActionInvoked", &(id, action)).await.unwrap();
    }
}
