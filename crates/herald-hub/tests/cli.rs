//! The `herald-hub` command line, run as a process against a data directory.

use std::process::Command;

fn hub(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-hub")).args(args).arg("--data").arg(data).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn users_roles_organisations_and_follows_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (ok, token, _) = hub(data, &["user", "add", "ann"]);
    assert!(ok);
    assert!(token.trim().starts_with("hrld_"), "prints the new token: {token}");
    assert!(hub(data, &["user", "add", "bob"]).0);
    assert!(hub(data, &["role", "grant", "finance", "ann"]).0);
    assert!(hub(data, &["role", "grant", "ops", "ann"]).0);
    assert!(hub(data, &["org", "add-member", "acme", "bob"]).0);
    assert!(hub(data, &["follow", "bob", "--type", "blog.post", "--id", "42"]).0);

    let (_, listed, _) = hub(data, &["user", "list"]);
    assert_eq!(listed, "ann\troles: finance,ops\torganizations: \nbob\troles: \torganizations: acme\n");

    let (ok, _, err) = hub(data, &["role", "grant", "finance", "zed"]);
    assert!(!ok, "granting a role to nobody fails");
    assert!(err.contains("zed"), "and says who is missing: {err}");
    let (ok, _, err) = hub(data, &["user", "add", "ann"]);
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, app, _) = hub(data, &["token", "add", "--app", "erp", "--callback", "https://erp.example/cb"]);
    assert!(ok && app.trim().starts_with("hrld_") && app.trim() != token.trim());
    let (ok, admin, _) = hub(data, &["token", "add", "--admin"]);
    assert!(ok && admin.trim().starts_with("hrld_"));
    assert!(!hub(data, &["token", "add"]).0, "an app name or --admin is required");

    assert!(hub(data, &["role", "revoke", "ops", "ann"]).0);
    assert!(hub(data, &["user", "remove", "bob"]).0);
    let (_, listed, _) = hub(data, &["user", "list"]);
    assert_eq!(listed, "ann\troles: finance\torganizations: \n");
}

/// A `herald-hub serve` process; killed when dropped.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `herald-hub serve` on a free loopback port logging at info: the process, its address and its
/// log (stderr).
fn serve_logging(data: &std::path::Path) -> (Serving, String, std::process::ChildStderr) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("HERALD_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let serving = Serving(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first.trim().strip_prefix("herald-hub listening on http://").unwrap().to_owned();
    (serving, addr, stderr)
}

#[test]
fn serve_logs_one_structured_line_per_request() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let (_serving, addr, stderr) = serve_logging(dir.path());

    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // The line arrives once the response is sent; read until it does (the process ends the wait).
    let line = BufReader::new(stderr)
        .lines()
        .map(Result::unwrap)
        .find(|l| l.contains("uri=/healthz") && l.contains("status=200"))
        .expect("a log line for the request");
    assert!(line.contains("method=GET") && line.contains("latency="), "{line}");
    assert!(!line.contains('\u{1b}'), "no colour codes when stderr is not a terminal: {line}");
}

#[test]
fn serve_refuses_a_broken_types_file_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let types = dir.path().join("types.toml");
    std::fs::write(&types, "[defaults]\nchannels = [\"pager\"]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--types"])
        .arg(&types)
        .arg("--data")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("types file") && err.contains("pager"), "{err}");
}

#[test]
fn serve_takes_a_certificate_from_tls_init_and_answers_over_https() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let out = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
        .args(["tls-init", "--name", "localhost", "--dir"])
        .arg(&certs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(certs.join("hub.pem"))
        .arg("--tls-key")
        .arg(certs.join("hub.key"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _serving = Serving(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first.trim().strip_prefix("herald-hub listening on https://").expect(&first).to_owned();
    let port = addr.rsplit(':').next().unwrap();

    let ca = reqwest::Certificate::from_pem(&std::fs::read(certs.join("ca.pem")).unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let health = runtime.block_on(async {
        let client = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
        client.get(format!("https://localhost:{port}/healthz")).send().await.unwrap().text().await.unwrap()
    });
    assert_eq!(health, "ok");
    let mode = |name: &str| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(certs.join(name)).unwrap().permissions())
    };
    assert_eq!(mode("hub.key") & 0o077, 0, "the key is the owner's alone");
}

#[test]
fn serve_refuses_a_missing_key_and_a_certificate_without_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("hub.pem");
    std::fs::write(&cert, "").unwrap();
    let serve = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8(out.stderr).unwrap())
    };
    let (ok, err) = serve(&["--tls-cert", cert.to_str().unwrap()]);
    assert!(!ok && err.contains("--tls-key"), "{err}");
    let (ok, err) = serve(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", "/nonexistent/hub.key"]);
    assert!(!ok && err.contains("hub.pem holds no certificate"), "{err}");
}

#[test]
fn untrusted_text_cannot_forge_or_colour_a_log_line() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    assert!(hub(dir.path(), &["user", "add", "sc-7"]).0);
    let (ok, app, _) = hub(dir.path(), &["token", "add", "--app", "community"]);
    assert!(ok);
    let (_serving, addr, stderr) = serve_logging(dir.path());

    let events: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("fixtures/selfcommunity_events.json")).unwrap();
    let mut event = events.into_iter().find(|e| e["type"] == "notification.private_message").unwrap();
    event["event_id"] = "e1\nFORGED level=ERROR admin logged in\u{1b}[31m".into();
    let body = event.to_string();
    let request = format!(
        "POST /v1/ingest/selfcommunity HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.trim(),
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let mut lines = Vec::new();
    for line in BufReader::new(stderr).lines().map(Result::unwrap) {
        let done = line.contains("ingested an event");
        lines.push(line);
        if done {
            break;
        }
    }
    let logged = lines.last().unwrap();
    assert!(logged.contains(r"e1\nFORGED"), "the id is logged escaped: {logged}");
    assert!(lines.iter().all(|l| !l.starts_with("FORGED")), "no forged line: {lines:#?}");
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "no raw escape: {lines:#?}");
}

/// `herald-hub ARGS --data DIR` with `input` on standard input.
fn hub_with_input(data: &std::path::Path, args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald-hub"))
        .args(args)
        .arg("--data")
        .arg(data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn passwords_are_read_from_standard_input_and_sign_in_works_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (ok, token, err) = hub_with_input(data, &["user", "add", "ann", "--password-stdin"], "first secret\n");
    assert!(ok && token.trim().starts_with("hrld_"), "still prints the first token: {token} {err}");
    let (ok, _, err) = hub_with_input(data, &["user", "add", "bea", "--password-stdin"], "\n");
    assert!(!ok && err.contains("empty"), "{err}");
    assert!(!hub(data, &["user", "list"]).1.contains("bea"), "a refused password leaves no user behind");
    let (ok, _, err) = hub_with_input(data, &["user", "passwd", "ann", "--password-stdin"], "second secret\r\n");
    assert!(ok, "{err}");
    let (ok, _, err) = hub_with_input(data, &["user", "passwd", "zed", "--password-stdin"], "x\n");
    assert!(!ok && err.contains("zed"), "{err}");

    let (_serving, addr, _log) = serve_logging(data);
    let sign_in = |password: &str| {
        let body = format!(r#"{{"user": "ann", "password": "{password}"}}"#);
        let request = format!(
            "POST /v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        answer.split(' ').nth(1).unwrap_or_default().to_owned()
    };
    assert_eq!(sign_in("first secret"), "401", "the old password no longer works");
    assert_eq!(sign_in("second secret"), "200", "the line break is not part of the password");
}

#[test]
fn addresses_are_set_from_the_command_line_and_a_bad_one_leaves_no_user() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let email = |name: &str| -> Option<String> {
        let conn = rusqlite::Connection::open(data.join("hub.sqlite3")).unwrap();
        conn.query_row("SELECT email FROM users WHERE name = ?1", [name], |r| r.get(0)).unwrap()
    };
    assert!(hub(data, &["user", "add", "eve", "--email", "eve@example.org"]).0);
    assert_eq!(email("eve").as_deref(), Some("eve@example.org"));
    assert!(hub(data, &["user", "set", "eve", "--email", "eve.l@example.org"]).0);
    assert_eq!(email("eve").as_deref(), Some("eve.l@example.org"));
    assert!(hub(data, &["user", "set", "eve", "--no-email"]).0);
    assert_eq!(email("eve"), None);

    let (ok, _, err) = hub(data, &["user", "add", "fay", "--email", "not an address"]);
    assert!(!ok && err.contains("invalid email address"), "{err}");
    let (_, listed, _) = hub(data, &["user", "list"]);
    assert!(!listed.contains("fay"), "no user made: {listed}");
    let (ok, _, err) = hub(data, &["user", "set", "nobody", "--email", "n@example.org"]);
    assert!(!ok && err.contains("nobody"), "{err}");
    assert!(!hub(data, &["user", "set", "eve"]).0, "--email or --no-email is needed");
}
