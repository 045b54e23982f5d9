//! What the hub's two retrying queues (callbacks to apps, mail to the SMTP server) share: when
//! the next try is, how long until then, and an error told with its causes.

use std::time::Duration;

use crate::store::{normalize_time, now_rfc3339};

/// An error and what caused it, "a: b: c" (reqwest's and lettre's own text leaves out why a
/// request failed).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let next = e.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        cause = e.source();
    }
    text
}

/// Now plus `wait`, in the store's time format.
pub fn after(wait: Duration) -> String {
    let at = time::OffsetDateTime::now_utc() + wait;
    normalize_time(&at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
        .unwrap_or_else(now_rfc3339)
}

/// How long from now until `at` (zero if it has passed).
pub fn until(at: &str) -> Duration {
    let Ok(at) = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) else {
        return Duration::ZERO;
    };
    (at - time::OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_is_never_negative() {
        assert_eq!(until("2020-01-01T00:00:00.000Z"), Duration::ZERO);
        assert!(until(&after(Duration::from_secs(30))) > Duration::from_secs(25));
    }
}
