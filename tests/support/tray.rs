//! The agent's tray as a panel sees it: a StatusNotifierItem and a `com.canonical.dbusmenu` menu
//! on the session bus, found by the agent's PID.

use tokio::process::Command;

/// StatusNotifierItem's `ToolTip`: icon name, icon pixmaps (w, h, ARGB), title, description.
type ToolTip = (String, Vec<(i32, i32, Vec<u8>)>, String, String);
use zbus::fdo::DBusProxy;

/// The menu's items after the newest unread, in order (submenu items follow their submenu).
pub const FIXED_ITEMS: [&str; 8] =
    ["Mark all read", "Do not disturb", "For 1 hour", "Until tomorrow", "Off", "Open inbox", "Settings", "Quit"];

pub struct Tray {
    bus_address: String,
    connection: zbus::Connection,
    name: String,
}

impl Tray {
    /// Finds the tray published by process `pid`.
    pub async fn find(connection: zbus::Connection, bus_address: &str, pid: u32) -> Self {
        let dbus = DBusProxy::new(&connection).await.unwrap();
        // Subscribe before looking, so a tray that registers in between is not missed.
        let mut changes = dbus.receive_name_owner_changed().await.unwrap();
        let name = super::within("the agent's tray on the bus", async {
            loop {
                for name in dbus.list_names().await.unwrap() {
                    if !name.starts_with("org.kde.StatusNotifierItem-") {
                        continue;
                    }
                    let owner_pid = dbus.get_connection_unix_process_id(name.as_ref()).await.ok();
                    if owner_pid == Some(pid) {
                        return name.to_string();
                    }
                }
                // The tray registers shortly after start; look again when a name changes hands.
                futures_next(&mut changes).await;
            }
        })
        .await;
        Self { bus_address: bus_address.to_owned(), connection, name }
    }

    /// A left click on the icon at screen point (x, y), as a panel reports it.
    pub async fn activate(&self, x: i32, y: i32) {
        let proxy =
            zbus::Proxy::new(&self.connection, self.name.as_str(), "/StatusNotifierItem", "org.kde.StatusNotifierItem")
                .await
                .unwrap();
        let () = proxy.call("Activate", &(x, y)).await.unwrap();
    }

    /// The tooltip's text (title, description).
    pub async fn tooltip(&self) -> (String, String) {
        let proxy =
            zbus::Proxy::new(&self.connection, self.name.as_str(), "/StatusNotifierItem", "org.kde.StatusNotifierItem")
                .await
                .unwrap();
        let (_icon, _pixmaps, title, description): ToolTip = proxy.get_property("ToolTip").await.unwrap();
        (title, description)
    }

    /// Waits until the tooltip's description satisfies `check` (it follows the agent's state).
    pub async fn wait_for_tooltip(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let proxy =
            zbus::Proxy::new(&self.connection, self.name.as_str(), "/StatusNotifierItem", "org.kde.StatusNotifierItem")
                .await
                .unwrap();
        let mut signals = proxy.receive_signal("NewToolTip").await.unwrap();
        super::within(what, async {
            loop {
                let (_, description) = self.tooltip().await;
                if check(&description) {
                    return description;
                }
                let _ = tokio::time::timeout(std::time::Duration::from_millis(500), futures_next(&mut signals)).await;
            }
        })
        .await
    }

    /// Waits until the menu's labels satisfy `check` (the menu follows the agent's state).
    pub async fn wait_for_menu(&self, what: &str, check: impl Fn(&[String]) -> bool) -> Vec<String> {
        let proxy =
            zbus::Proxy::new(&self.connection, self.name.as_str(), "/MenuBar", "com.canonical.dbusmenu").await.unwrap();
        let mut signals = proxy.receive_signal("LayoutUpdated").await.unwrap();
        super::within(what, async {
            loop {
                let labels: Vec<String> = self.menu().await.into_iter().map(|(_, label)| label).collect();
                if check(&labels) {
                    return labels;
                }
                let _ = tokio::time::timeout(std::time::Duration::from_millis(500), futures_next(&mut signals)).await;
            }
        })
        .await
    }

    /// The labels of the tray menu's items, with their ids.
    pub async fn menu(&self) -> Vec<(i32, String)> {
        let out = self
            .gdbus(&[
                "--object-path",
                "/MenuBar",
                "--method",
                "com.canonical.dbusmenu.GetLayout",
                "--",
                "0",
                "-1",
                "@as []",
            ])
            .await;
        // Items look like: <(1, {'label': <'Open inbox'>, ...}, @av [])>
        let mut items = Vec::new();
        for chunk in out.split("<(").skip(1) {
            let Some((id, rest)) = chunk.split_once(',') else { continue };
            let Ok(id) = id.trim().parse::<i32>() else { continue };
            if let Some(label) = rest.split("'label': <'").nth(1).and_then(|l| l.split("'>").next()) {
                items.push((id, label.to_owned()));
            }
        }
        items
    }

    /// Clicks the menu item labelled `label`.
    pub async fn click(&self, label: &str) {
        let menu = self.menu().await;
        let (id, _) =
            menu.iter().find(|(_, l)| l == label).unwrap_or_else(|| panic!("no {label:?} in the tray menu {menu:?}"));
        self.gdbus(&[
            "--object-path",
            "/MenuBar",
            "--method",
            "com.canonical.dbusmenu.Event",
            "--",
            &id.to_string(),
            "clicked",
            "<0>",
            "0",
        ])
        .await;
    }

    async fn gdbus(&self, args: &[&str]) -> String {
        let out = Command::new("gdbus")
            .args(["call", "--session", "--dest", &self.name])
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .await
            .expect("gdbus (apt package libglib2.0-bin)");
        assert!(out.status.success(), "gdbus {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

async fn futures_next<S: futures_util::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    use futures_util::StreamExt;
    stream.next().await
}
