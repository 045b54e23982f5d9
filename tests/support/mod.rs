//! Support for Herald's end-to-end tests: each test gets its own D-Bus session bus, notification
//! daemon, hub process and agent process, all in a temporary directory, so tests run in parallel
//! without touching the real desktop or profile.
//!
//! - [`bus`]: a private `dbus-daemon` session bus.
//! - [`daemon`]: a notification daemon on that bus that records every `Notify` call.
//! - [`hub`]: a `herald-hub` process.
//! - [`agent`]: a `herald` process, with its stderr as a stream of lines to wait on.
//! - [`desktop`]: all of the above at once, with bob's agent online.
//! - [`logind`]: a stand-in for logind on a private system bus, whose login session can end.
//! - [`tray`]: reading and clicking the agent's tray over D-Bus, as a panel would.
//! - [`display`]: a private Xvfb server for the webview; [`close_window`]: the × button.
//! - [`chaos_proxy`]: a TCP proxy that resets, stalls and cuts connections on request.
//! - [`webdriver`]: tauri-driver and a small WebDriver client for the real `herald-ui` webview.

pub mod agent;
pub mod bus;
pub mod chaos_proxy;
pub mod close_window;
pub mod daemon;
pub mod desktop;
pub mod display;
pub mod hub;
pub mod keyring;
pub mod logind;
pub mod tray;
pub mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

/// How long any awaited event may take before the test fails (instead of hanging).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A binary of this workspace, built by `cargo build --workspace --bins` before the tests run.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("test binary lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

/// Awaits `future`, failing the test with `what` if it takes longer than [`PATIENCE`].
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
