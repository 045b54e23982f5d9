//! Logs: daily-rolling files in the data dir's `logs/` (kept for a week) plus stderr, filtered
//! by `HERALD_LOG` (RUST_LOG syntax, default `info`).

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Keep the guard alive for as long as logs should be written.
pub fn init(dir: &Path) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr =
        tracing_subscriber::fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr);
    let _ = std::fs::create_dir_all(dir);
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("herald")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir);
    match appender {
        Ok(appender) => {
            // The default queue holds 128,000 lines and is allocated (and written) whole up front:
            // 4 MB of an idle agent's memory. A tray app logs a few lines a minute; 1,000 queued
            // lines is plenty, and a burst beyond them is dropped rather than waited for.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(1_000)
                .lossy(true)
                .finish(appender);
            let file = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer);
            tracing_subscriber::registry().with(filter).with(stderr).with(file).init();
            Some(guard)
        }
        Err(e) => {
            tracing_subscriber::registry().with(filter).with(stderr).init();
            tracing::warn!(error = %e, dir = %dir.display(), "cannot write log files; logging to stderr only");
            None
        }
    }
}
