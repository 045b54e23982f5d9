//! Noticing that the machine slept. A timer of a few seconds is checked against two clocks: the
//! wall clock runs on through a suspend everywhere; the monotonic clock (`Instant`) stops on Linux
//! and macOS, but runs on on Windows (QueryPerformanceCounter counts sleep), where the timer
//! instead fires late by the monotonic clock too. Either way, the tick took a suspend's worth
//! longer than it was set for. After a resume the feed's socket is almost surely dead (the hub
//! closed it after two unanswered pings), so the engine reconnects at once instead of waiting to
//! notice.

use std::time::{Duration, SystemTime};

/// How often the clocks are compared.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// A gap this large between the clocks is a suspend, not drift or a slow tick.
const SLEPT_AT_LEAST: Duration = Duration::from_secs(10);

/// Whether a tick set for `expected` shows a suspend, by the time that passed on the monotonic
/// and the wall clock: either ran a suspend's worth past it.
pub fn slept(expected: Duration, monotonic: Duration, wall: Duration) -> bool {
    monotonic.max(wall).saturating_sub(expected) >= SLEPT_AT_LEAST
}

/// Resolves when the machine comes back from a suspend (checked every few seconds).
pub async fn resumed() {
    loop {
        let (mono_start, wall_start) = (tokio::time::Instant::now(), SystemTime::now());
        tokio::time::sleep(CHECK_EVERY).await;
        let (monotonic, wall) =
            (mono_start.elapsed(), SystemTime::now().duration_since(wall_start).unwrap_or_default());
        if slept(CHECK_EVERY, monotonic, wall) {
            tracing::info!(slept_for = ?monotonic.max(wall).saturating_sub(CHECK_EVERY), "resumed from sleep");
            return;
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
        assert!(slept(s(5), s(5), s(605)), "ten minutes asleep, on Linux and macOS: the wall clock ran on");
        assert!(slept(s(5), s(605), s(605)), "ten minutes asleep, on Windows: the timer fired late");
        assert!(!slept(s(5), s(5), s(0)), "the wall clock set back");
    }

    /// Windows' way (the monotonic clock counts the suspend, so the timer fires late), on tokio's
    /// paused clock: moved on by ten minutes at once while the wait is under way.
    #[tokio::test(start_paused = true)]
    async fn a_timer_fired_a_suspend_late_ends_the_wait() {
        let waiting = tokio::spawn(resumed());
        tokio::task::yield_now().await;
        tokio::time::advance(Duration::from_secs(600)).await;
        let ended = tokio::time::timeout(Duration::from_secs(60), waiting).await;
        assert!(ended.is_ok(), "still waiting after the suspend");
    }

    #[tokio::test(start_paused = true)]
    async fn ordinary_ticks_do_not_end_the_wait() {
        let ended = tokio::time::timeout(Duration::from_secs(120), resumed()).await;
        assert!(ended.is_err(), "24 ordinary ticks taken for a suspend");
    }
}
