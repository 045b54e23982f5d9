//! Reconnect delays: exponential from 0.5 s to 60 s, with jitter so that many clients dropped by
//! one hub restart do not all come back in the same instant.

use std::time::Duration;

use rand::Rng;

const FIRST: Duration = Duration::from_millis(500);
pub const MAX: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The delay before the next attempt, growing with each consecutive failure.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = FIRST.saturating_mul(1 << self.failures.min(16)).min(MAX);
        self.failures += 1;
        // Between half and all of the ceiling.
        ceiling.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    /// Called once a connection is established and caught up.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_a_cap_and_resets() {
        let mut backoff = Backoff::default();
        let first = backoff.next_delay();
        assert!(first >= FIRST / 2 && first <= FIRST, "{first:?}");
        for _ in 0..20 {
            assert!(backoff.next_delay() <= MAX);
        }
        assert!(backoff.next_delay() >= MAX / 2, "capped, not reset");
        backoff.reset();
        assert!(backoff.next_delay() <= FIRST);
    }
}
