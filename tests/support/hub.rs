//! A real `herald-hub` process on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

pub struct Hub {
    pub addr: SocketAddr,
    data: PathBuf,
    process: Child,
}

impl Hub {
    /// Starts a hub on `listen` (port 0: any free port) with its data in `data`.
    pub fn start(data: &Path, listen: &str) -> Self {
        let mut process = Command::new(super::binary("herald-hub"))
            .args(["serve", "--listen", listen, "--data"])
            .arg(data)
            .env("HERALD_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting herald-hub");
        let mut line = String::new();
        BufReader::new(process.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("herald-hub listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line from herald-hub: {line:?}"));
        Self { addr: addr.parse().unwrap(), data: data.to_owned(), process }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates a user with the hub's own CLI and returns its token.
    pub fn add_user(&self, name: &str) -> String {
        let out = Command::new(super::binary("herald-hub"))
            .args(["user", "add", name, "--data"])
            .arg(&self.data)
            .output()
            .unwrap();
        assert!(out.status.success(), "user add failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Sets `name`'s password with the hub's CLI (`user passwd --password-stdin`).
    pub fn set_password(&self, name: &str, password: &str) {
        use std::io::Write;
        let mut child = Command::new(super::binary("herald-hub"))
            .args(["user", "passwd", name, "--password-stdin", "--data"])
            .arg(&self.data)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "user passwd failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Creates an app token (a business system) with the hub's CLI.
    pub fn add_app(&self, name: &str) -> String {
        let out = Command::new(super::binary("herald-hub"))
            .args(["token", "add", "--app", name, "--data"])
            .arg(&self.data)
            .output()
            .unwrap();
        assert!(out.status.success(), "token add failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// POSTs `body` to `path`, fails the test on an error status, returns the answer.
    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let response =
            reqwest::Client::new().post(format!("{}{path}", self.url())).bearer_auth(token).json(&body).send();
        response.await.unwrap().error_for_status().unwrap().json().await.unwrap()
    }

    /// Pushes a live event to `user` (not stored); returns how many recipients were connected.
    pub async fn push_event(&self, app_token: &str, user: &str, kind: &str, title: &str) -> u64 {
        let event = json!({"to": {"user": user}, "kind": kind, "ttl_seconds": 60, "title": title, "body": "now"});
        self.post(app_token, "/v1/events", event).await["connected"].as_u64().unwrap()
    }

    /// Pushes any live event (`fields` as in `POST /v1/events`, without `to`) to `user`; returns
    /// the hub's answer (`id`, `connected`).
    pub async fn push_event_fields(&self, app_token: &str, user: &str, mut fields: Value) -> Value {
        fields["to"] = json!({"user": user});
        self.post(app_token, "/v1/events", fields).await
    }

    /// `POST /v1/events/{id}/respond` as `token`'s user; returns the HTTP status.
    pub async fn respond_to_event(&self, token: &str, event: &str, action: &str) -> u16 {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/events/{event}/respond", self.url()))
            .bearer_auth(token)
            .json(&json!({"action": action}))
            .send();
        response.await.unwrap().status().as_u16()
    }

    /// Sends any notification (`fields` as in `POST /v1/notifications`, without `to`) to `user`.
    pub async fn send_fields(&self, sender_token: &str, user: &str, mut fields: Value) -> i64 {
        fields["to"] = json!({"user": user});
        self.post(sender_token, "/v1/notifications", fields).await["ids"][0].as_i64().unwrap()
    }

    /// Marks one notification read as `token`'s user, as another device would.
    pub async fn mark_read(&self, token: &str, id: i64) {
        self.post(token, "/v1/notifications/read", json!({"ids": [id], "read": true})).await;
    }

    /// `PUT /v1/preferences` as `token`'s user.
    pub async fn put_preferences(&self, token: &str, update: Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/v1/preferences", self.url()))
            .bearer_auth(token)
            .json(&update)
            .send();
        response.await.unwrap().error_for_status().unwrap();
    }

    /// `GET /v1/preferences` as `token`'s user.
    pub async fn preferences(&self, token: &str) -> Value {
        let response = reqwest::Client::new().get(format!("{}/v1/preferences", self.url())).bearer_auth(token).send();
        response.await.unwrap().error_for_status().unwrap().json().await.unwrap()
    }

    /// Sends a notification to `user` over HTTP, as a business system would.
    pub async fn send(&self, sender_token: &str, user: &str, subject: &str, body: &str) -> i64 {
        let notification = json!({"to": {"user": user}, "subject": subject, "body": body, "link": "/tasks/1"});
        self.post(sender_token, "/v1/notifications", notification).await["ids"][0].as_i64().unwrap()
    }

    /// GETs `path` with `token`: the answer's JSON.
    pub async fn get(&self, token: &str, path: &str) -> Value {
        let response = reqwest::Client::new().get(format!("{}{path}", self.url())).bearer_auth(token).send();
        response.await.unwrap().json().await.unwrap()
    }

    /// The status `GET path` answers `token` with.
    pub async fn get_status(&self, token: &str, path: &str) -> u16 {
        let response = reqwest::Client::new().get(format!("{}{path}", self.url())).bearer_auth(token).send();
        response.await.unwrap().status().as_u16()
    }

    /// The user's notifications as the hub has them.
    pub async fn list(&self, token: &str) -> Vec<Value> {
        self.get(token, "/v1/notifications").await["items"].as_array().unwrap().clone()
    }

    /// Waits until `token`'s inbox on the hub satisfies `check` (actions reach it asynchronously);
    /// returns it then.
    pub async fn wait_for_list(&self, token: &str, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        super::within(what, async {
            loop {
                let items = self.list(token).await;
                if check(&items) {
                    return items;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
        .await
    }

    /// Waits until `token`'s preferences on the hub satisfy `check`; returns them then.
    pub async fn wait_for_preferences(&self, token: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        super::within(what, async {
            loop {
                let preferences = self.preferences(token).await;
                if check(&preferences) {
                    return preferences;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
        .await
    }

    /// The hub disappears at once, as in a crash or a network cut.
    pub fn kill(mut self) -> (SocketAddr, PathBuf) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        (self.addr, self.data.clone())
    }
}

impl Hub {
    /// Stops the hub as a service manager would (SIGTERM), waiting for it to exit.
    pub fn stop(mut self) -> (SocketAddr, PathBuf) {
        let _ = Command::new("kill").args(["-TERM", &self.process.id().to_string()]).status();
        let _ = self.process.wait();
        (self.addr, self.data.clone())
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
