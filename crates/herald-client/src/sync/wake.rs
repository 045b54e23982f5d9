//! Noticing that the machine slept. After a resume the feed's socket is almost surely dead (the
//! hub closed it after two unanswered pings), so the engine reconnects at once instead of
//! waiting to notice.
//!
//! - Linux: logind says so (`PrepareForSleep(false)` on the system bus), so nothing wakes the
//!   agent to ask. Without logind (a container), the network coming back after a resume is
//!   noticed by `network`, and a dead feed by its ping and idle limits.
//! - Elsewhere: a timer of a few seconds is checked against two clocks. The wall clock runs on
//!   through a suspend; the monotonic clock stops on macOS but runs on on Windows
//!   (QueryPerformanceCounter counts sleep), where the timer instead fires late. Either way, the
//!   tick took a suspend's worth longer than it was set for.

use std::time::Duration;

/// A gap this large between the clocks is a suspend, not drift or a slow tick.
#[cfg_attr(target_os = "linux", allow(dead_code))]
const SLEPT_AT_LEAST: Duration = Duration::from_secs(10);

/// Whether a tick set for `expected` shows a suspend, by the time that passed on the monotonic
/// and the wall clock: either ran a suspend's worth past it.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub fn slept(expected: Duration, monotonic: Duration, wall: Duration) -> bool {
    monotonic.max(wall).saturating_sub(expected) >= SLEPT_AT_LEAST
}

/// Resolves when the machine comes back from a suspend.
pub async fn resumed() {
    #[cfg(target_os = "linux")]
    logind::resumed().await;
    #[cfg(not(target_os = "linux"))]
    by_clocks::resumed().await;
}

#[cfg(target_os = "linux")]
pub mod logind {
    //! One listener for the whole process on the system bus; every waiter watches its count.

    use std::sync::OnceLock;

    use futures_util::StreamExt;
    use tokio::sync::watch;

    /// Resumes so far; None: no logind to ask.
    static RESUMES: OnceLock<Option<watch::Receiver<u64>>> = OnceLock::new();

    pub async fn resumed() {
        let resumes = match RESUMES.get() {
            Some(resumes) => resumes.clone(),
            None => {
                let listening = match zbus::Connection::system().await {
                    Ok(bus) => listen(bus).await.ok(),
                    Err(_) => None,
                };
                RESUMES.get_or_init(|| listening).clone()
            }
        };
        match resumes {
            Some(resumes) => next(&resumes).await,
            None => std::future::pending().await,
        }
    }

    /// The next resume counted on `resumes` after this call. A clone starts from what the
    /// stored receiver last saw, which is never marked: an earlier resume would count again.
    pub async fn next(resumes: &watch::Receiver<u64>) {
        let mut resumes = resumes.clone();
        resumes.borrow_and_update();
        // Ends with the listener (the system bus went away): then never.
        if resumes.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Subscribes to logind's `PrepareForSleep` on `bus` and counts the resumes (the signal with
    /// `false`) in the background.
    pub async fn listen(bus: zbus::Connection) -> zbus::Result<watch::Receiver<u64>> {
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .sender("org.freedesktop.login1")?
            .interface("org.freedesktop.login1.Manager")?
            .member("PrepareForSleep")?
            .path("/org/freedesktop/login1")?
            .build();
        let mut signals = zbus::MessageStream::for_match_rule(rule, &bus, None).await?;
        let (count, resumes) = watch::channel(0_u64);
        tokio::spawn(async move {
            while let Some(Ok(message)) = signals.next().await {
                if let Ok(false) = message.body().deserialize::<bool>() {
                    tracing::info!("resumed from sleep (logind)");
                    count.send_modify(|n| *n += 1);
                }
            }
        });
        Ok(resumes)
    }
}

#[cfg(not(target_os = "linux"))]
mod by_clocks {
    use std::time::{Duration, SystemTime};

    /// How often the clocks are compared.
    const CHECK_EVERY: Duration = Duration::from_secs(5);

    pub async fn resumed() {
        loop {
            let (mono_start, wall_start) = (tokio::time::Instant::now(), SystemTime::now());
            tokio::time::sleep(CHECK_EVERY).await;
            let (monotonic, wall) =
                (mono_start.elapsed(), SystemTime::now().duration_since(wall_start).unwrap_or_default());
            if super::slept(CHECK_EVERY, monotonic, wall) {
                tracing::info!(slept_for = ?monotonic.max(wall).saturating_sub(CHECK_EVERY), "resumed from sleep");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspend_shows_on_whichever_clock_runs_through_it() {
        let s = Duration::from_secs;
        assert!(!slept(s(5), s(5), s(5)), "an ordinary tick");
        assert!(!slept(s(5), s(5), s(7)), "an NTP step or a slow tick is not a suspend");
        assert!(slept(s(5), s(5), s(605)), "ten minutes asleep, on macOS: the wall clock ran on");
        assert!(slept(s(5), s(605), s(605)), "ten minutes asleep, on Windows: the timer fired late");
        assert!(!slept(s(5), s(5), s(0)), "the wall clock set back");
    }

    /// logind as it announces a suspend and the resume, played on the test's session bus (no
    /// logind runs here): only the resume counts, and only logind's name is heard.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn logind_announcing_a_resume_ends_the_wait() {
        let listener = zbus::Connection::session().await.expect("a session bus (make test runs one)");
        let resumes = logind::listen(listener).await.unwrap();
        let impostor = zbus::Connection::session().await.unwrap();
        let logind = zbus::connection::Builder::session()
            .unwrap()
            .name("org.freedesktop.login1")
            .unwrap()
            .build()
            .await
            .unwrap();
        let emit = |bus: &zbus::Connection, sleeping: bool| {
            let bus = bus.clone();
            async move {
                bus.emit_signal(
                    None::<()>,
                    "/org/freedesktop/login1",
                    "org.freedesktop.login1.Manager",
                    "PrepareForSleep",
                    &(sleeping,),
                )
                .await
                .unwrap()
            }
        };
        let quiet = Duration::from_millis(300);
        let waiting = tokio::spawn({
            let resumes = resumes.clone();
            async move { logind::next(&resumes).await }
        });
        emit(&impostor, false).await;
        emit(&logind, true).await;
        tokio::time::sleep(quiet).await;
        assert!(!waiting.is_finished(), "going to sleep, or someone else's signal, is no resume");
        emit(&logind, false).await;
        tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("the resume heard").unwrap();
        // A wait begun after that resume waits for the next one; it does not end at once (an
        // engine would reconnect in a loop).
        let later = tokio::time::timeout(quiet, logind::next(&resumes)).await;
        assert!(later.is_err(), "the old resume counted again");
        let next = tokio::spawn({
            let resumes = resumes.clone();
            async move { logind::next(&resumes).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        emit(&logind, false).await;
        tokio::time::timeout(Duration::from_secs(5), next).await.expect("the second resume heard").unwrap();
    }
}
