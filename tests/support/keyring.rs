//! A real keyring for a test: gnome-keyring-daemon's Secret Service on the test's own bus, its
//! login keyring created and unlocked with a password given on stdin, as a desktop session's
//! PAM module does at login.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Keyring {
    daemon: Child,
    /// Where its keyrings live (its XDG_DATA_HOME).
    pub home: PathBuf,
}

impl Keyring {
    pub async fn start(dir: &Path, bus_address: &str) -> Self {
        let home = dir.join("keyring-home");
        std::fs::create_dir_all(&home).unwrap();
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
            .env("XDG_DATA_HOME", &home)
            .env("XDG_RUNTIME_DIR", dir)
            .env("HOME", &home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt package gnome-keyring)");
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-login-password").unwrap();
        drop(stdin);
        let keyring = Self { daemon, home };
        // Ready once it owns the Secret Service's name on the bus.
        let bus = zbus::connection::Builder::address(bus_address).unwrap().build().await.unwrap();
        let dbus = zbus::fdo::DBusProxy::new(&bus).await.unwrap();
        super::within("the keyring on the bus", async {
            let name = zbus::names::BusName::try_from("org.freedesktop.secrets").unwrap();
            while !dbus.name_has_owner(name.clone()).await.unwrap() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
        .await;
        keyring
    }

    /// What `secret-tool` (libsecret, another client than Herald's) finds for `account`.
    pub fn lookup(&self, bus_address: &str, account: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "xdg:schema", "org.herald.Token", "account", account])
            .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
            .output()
            .expect("secret-tool (apt package libsecret-tools)");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
