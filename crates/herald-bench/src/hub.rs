//! A `herald-hub serve` process on a fresh data directory, and its command line.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};

pub struct Hub {
    pub base: String,
    binary: PathBuf,
    child: Child,
    admin: String,
    data: tempfile::TempDir,
}

impl Hub {
    pub async fn start(binary: &Path, write_group: u32) -> anyhow::Result<Self> {
        Self::start_with(binary, write_group, &[]).await
    }

    /// [`Hub::start`] with more arguments for `serve` (`--smtp …`).
    pub async fn start_with(binary: &Path, write_group: u32, extra: &[String]) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let admin = cli(binary, data.path(), &["token", "add", "--admin"])?;
        let (child, base) = serve(binary, data.path(), write_group, 0, extra)?;
        Ok(Self { base, binary: binary.to_owned(), child, admin, data })
    }

    /// Stops the hub and serves its data again with `per_second` requests per token (the
    /// default of `serve` is 100), on a new port.
    pub fn restart_with_rate_limit(&mut self, write_group: u32, per_second: u32) -> anyhow::Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.child, self.base) = serve(&self.binary, self.data.path(), write_group, per_second, &[])?;
        Ok(())
    }

    /// Runs `herald-hub ARGS --data DIR` against this hub's data and returns what it printed.
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        cli(&self.binary, self.data.path(), args)
    }

    /// The admin token the hub was started with.
    pub fn admin(&self) -> &str {
        &self.admin
    }

    /// The hub's resident memory, from /proc.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
        Ok(line.split_whitespace().nth(1).context("bad VmRSS")?.parse()?)
    }

    /// How many sockets the hub holds open (its listener among them), from /proc.
    pub fn sockets(&self) -> anyhow::Result<usize> {
        let mut count = 0;
        for entry in std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))? {
            // A descriptor closed while the directory is read is simply not counted.
            if std::fs::read_link(entry?.path()).is_ok_and(|target| target.to_string_lossy().starts_with("socket:")) {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Writes per commit so far, from `/v1/admin/stats`.
    pub async fn writes_per_commit(&self) -> anyhow::Result<f64> {
        let stats: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/v1/admin/stats", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await?
            .json()
            .await?;
        Ok(stats["writes"].as_f64().unwrap_or(0.0) / stats["commits"].as_f64().unwrap_or(1.0).max(1.0))
    }

    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Hub {
    /// A run that ends on an error stops its hub too (it used to be left running).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `herald-hub serve` on `data` and a free loopback port: the process and its base URL.
fn serve(
    binary: &Path,
    data: &Path,
    write_group: u32,
    rate_limit: u32,
    extra: &[String],
) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit"])
        .arg(rate_limit.to_string())
        .arg("--write-group")
        .arg(write_group.to_string())
        .arg("--data")
        .arg(data)
        .args(extra)
        .env("HERALD_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let base = line.trim().strip_prefix("herald-hub listening on ").context("unexpected first line")?.to_owned();
    Ok((child, base))
}

fn cli(binary: &Path, data: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(binary).args(args).arg("--data").arg(data).output()?;
    if !out.status.success() {
        bail!("herald-hub {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}
