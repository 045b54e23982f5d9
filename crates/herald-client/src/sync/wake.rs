//! Noticing that the machine slept: the monotonic clock stops during suspend, the wall clock does
//! not. After a resume the feed's socket is almost surely dead (the hub closed it after two
//! unanswered pings), so the engine reconnects at once instead of waiting to notice.

use std::time::{Duration, SystemTime};

/// How often the clocks are compared.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// A gap this large between the clocks is a suspend, not drift or a slow tick.
const SLEPT_AT_LEAST: Duration = Duration::from_secs(10);

/// Whether the wall clock ran ahead of the monotonic one by a suspend's worth.
pub fn slept(monotonic: Duration, wall: Duration) -> bool {
    wall.saturating_sub(monotonic) >= SLEPT_AT_LEAST
}

/// Resolves when the machine comes back from a suspend (checked every few seconds).
pub async fn resumed() {
    loop {
        let (mono_start, wall_start) = (tokio::time::Instant::now(), SystemTime::now());
        tokio::time::sleep(CHECK_EVERY).await;
        let wall = SystemTime::now().duration_since(wall_start).unwrap_or_default();
        if slept(mono_start.elapsed(), wall) {
            tracing::info!(slept_for = ?wall.saturating_sub(mono_start.elapsed()), "resumed from sleep");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspend_shows_as_the_wall_clock_running_ahead() {
        let s = Duration::from_secs;
        assert!(!slept(s(5), s(5)), "an ordinary tick");
        assert!(!slept(s(5), s(7)), "an NTP step or a slow tick is not a suspend");
        assert!(slept(s(5), s(605)), "ten minutes asleep");
        assert!(!slept(s(5), s(0)), "the wall clock set back");
    }
}
