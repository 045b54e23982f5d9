//! A real SMTP server for the email tests: aiosmtpd (scripts/smtp-sink.py) receiving over TCP,
//! each accepted mail kept as a numbered file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The SMTP server, with each accepted mail kept as a file.
pub struct Sink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

pub fn python() -> PathBuf {
    let venv = std::env::var_os("HERALD_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/herald/venv"));
    venv.join("bin/python")
}

impl Sink {
    pub fn start(dir: &Path, port: u16) -> Self {
        Self::start_with(dir, port, &[])
    }

    /// With more of smtp-sink.py's options (`--tls`, `--user`, …).
    pub fn start_with(dir: &Path, port: u16, options: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("aiosmtpd in the test virtualenv (scripts/install-deps.sh installs it)");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert!(line.starts_with("listening"), "the SMTP server did not start: {line:?}");
        Self { port, dir: dir.to_owned(), child }
    }

    /// The mails received so far, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }

    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let mails = self.mails();
                if mails.len() >= count {
                    return mails;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{count} mails did not arrive; got {}", self.mails().len()))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A quoted-printable body as text (RFC 2045: `=XX` bytes, `=` at a line's end joins lines).
pub fn quoted_printable(encoded: &str) -> String {
    let joined = encoded.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The value of header `name` in `mail` (unfolded), if it has one.
pub fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_ascii_lowercase());
    unfolded
        .split("\r\n")
        .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
        .map(|line| line[prefix.len()..].trim().to_owned())
}

/// The mail's text/plain part, decoded.
pub fn text_part(mail: &str) -> String {
    let part = mail.split("Content-Type: text/plain").nth(1).expect("a text/plain part");
    let body = part.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let body = body.split("\r\n--").next().unwrap_or_default();
    quoted_printable(body)
}

/// `url` (under https://hub.example.org, the tests' --public-url) as a path on the hub itself.
pub fn hub_path(url: &str) -> String {
    url.strip_prefix("https://hub.example.org").unwrap_or_else(|| panic!("not a link to the hub: {url}")).to_owned()
}
