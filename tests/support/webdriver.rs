//! Driving the real `herald-ui` webview through tauri-driver (WebDriver, W3C protocol), with a
//! small client over reqwest: just the commands the tests use.

use std::ffi::{OsStr, OsString};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// The W3C WebDriver element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What herald-ui needs to run beside the agent of `agent`: the display, the agent's data and
/// runtime directories and session bus, PATH and HOME; then `extra` (e.g. `HERALD_UI_OPEN`).
pub fn ui_env(
    display: &super::display::Display,
    agent: &super::agent::AgentEnv,
    home: &Path,
    extra: impl IntoIterator<Item = (&'static str, OsString)>,
) -> Vec<(&'static str, OsString)> {
    let mut env = vec![
        ("DISPLAY", OsString::from(&display.name)),
        ("HERALD_DATA_DIR", agent.data_dir.clone().into_os_string()),
        ("XDG_RUNTIME_DIR", agent.runtime_dir.clone().into_os_string()),
        ("DBUS_SESSION_BUS_ADDRESS", OsString::from(&agent.bus_address)),
        ("PATH", std::env::var_os("PATH").unwrap_or_default()),
        ("HOME", home.as_os_str().to_owned()),
    ];
    for (key, value) in extra {
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
    }
    env
}

/// A tauri-driver process; the app it starts inherits `envs`.
pub struct TauriDriver {
    base: String,
    process: Child,
    http: reqwest::Client,
}

impl TauriDriver {
    pub async fn start<K: AsRef<OsStr>, V: AsRef<OsStr>>(envs: impl IntoIterator<Item = (K, V)>) -> Self {
        let (port, native) = (free_port(), free_port());
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in envs {
            command.env(key.as_ref(), value.as_ref());
        }
        let process =
            command.spawn().expect("tauri-driver must be installed (cargo install tauri-driver; make test does)");
        let driver = Self { base: format!("http://127.0.0.1:{port}"), process, http: reqwest::Client::new() };
        super::within("tauri-driver to listen", async {
            while driver.http.get(format!("{}/status", driver.base)).send().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        driver
    }

    /// Starts `app` in a new session.
    pub async fn session(&self, app: &Path) -> Session {
        let caps =
            json!({"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": app}}}});
        let response: Value =
            self.http.post(format!("{}/session", self.base)).json(&caps).send().await.unwrap().json().await.unwrap();
        let id = response["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {response}")).to_owned();
        Session { base: format!("{}/session/{id}", self.base), http: self.http.clone() }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub struct Session {
    base: String,
    http: reqwest::Client,
}

impl Session {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_command(method, path, body).await.unwrap_or_else(|error| panic!("{error}"))
    }

    async fn try_command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        match response["value"].get("error") {
            Some(error) => Err(format!("WebDriver {path}: {error} {}", response["value"]["message"])),
            None => Ok(response["value"].clone()),
        }
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub async fn execute(&self, script: &str) -> Value {
        self.command(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    /// Waits until `script` returns a value `accept` takes (the page updates on agent events).
    /// A script cut short because the page was being replaced (after a navigation the test
    /// asked for) is tried again on the new page; any other WebDriver error fails the test.
    pub async fn wait_for<T>(&self, what: &str, script: &str, accept: impl Fn(&Value) -> Option<T>) -> T {
        super::within(what, async {
            loop {
                let body = json!({"script": script, "args": []});
                match self.try_command(reqwest::Method::POST, "/execute/sync", Some(body)).await {
                    Ok(value) => {
                        if let Some(found) = accept(&value) {
                            return found;
                        }
                    }
                    Err(error) if error.contains("unload") || error.contains("no such frame") => {}
                    Err(error) => panic!("{error}"),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
    }

    async fn element(&self, css: &str) -> String {
        let found =
            self.command(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element for {css}: {found}")).to_owned()
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    /// Types `text` into the element, key by key, as a user would.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    /// Presses and releases each key in turn, on whatever has the focus (WebDriver key names:
    /// `\u{E00C}` is Escape, `\u{E007}` Enter).
    pub async fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                [json!({"type": "keyDown", "value": k.to_string()}), json!({"type": "keyUp", "value": k.to_string()})]
            })
            .collect();
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.command(reqwest::Method::POST, "/actions", Some(body)).await;
    }

    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let png = self.command(reqwest::Method::GET, "/screenshot", None).await;
        std::fs::write(path, base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap()).unwrap();
    }

    /// Ends the session; the driver closes the app.
    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
