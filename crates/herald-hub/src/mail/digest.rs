//! The daily digest (seed 001's digest hour): once a day at `--digest-hour` in each user's own
//! time zone (their quiet hours' zone, else `--timezone`), what was held for it since their last
//! digest and is still unread becomes one mail. The mail worker runs [`run_due`] every
//! [`CHECK_EVERY`]; `herald-hub digest send` runs it at once for everyone (or one user).

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::digest_schedule::next_digest;
use crate::store::{DigestCandidate, DigestRun, Store, StoreError};

/// How often the worker looks for digests that have come due: the digest hour is kept to the
/// minute, and a look costs one indexed query.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// When digests go out: `hour` o'clock in each user's zone, `zone` for those without one.
#[derive(Debug, Clone)]
pub struct DigestSchedule {
    pub hour: i8,
    pub zone: TimeZone,
}

impl Default for DigestSchedule {
    /// Seed 001's default: 8 o'clock, and UTC for an organisation that names no zone.
    fn default() -> Self {
        Self { hour: 8, zone: TimeZone::UTC }
    }
}

impl DigestSchedule {
    /// `--digest-hour` and `--timezone` (an IANA name such as Europe/Berlin).
    pub fn new(hour: u8, timezone: &str) -> Result<Self, String> {
        if hour > 23 {
            return Err(format!("--digest-hour {hour}: use 0 to 23"));
        }
        let zone = TimeZone::get(timezone)
            .map_err(|e| format!("--timezone {timezone:?}: not a time zone this system knows ({e})"))?;
        Ok(Self { hour: hour as i8, zone })
    }

    /// The zone `candidate`'s digest follows: their own if it is one this system knows.
    fn zone_of(&self, candidate: &DigestCandidate) -> TimeZone {
        candidate.zone.as_deref().and_then(|name| TimeZone::get(name).ok()).unwrap_or_else(|| self.zone.clone())
    }

    /// When `candidate`'s next digest is due: the first digest hour after both their last
    /// digest and the oldest mail they have held. (After the last run alone, a day with nothing
    /// held would leave the next digest hour in the past, and the next item would go out at
    /// once, at whatever hour it came.)
    pub fn due_at(&self, candidate: &DigestCandidate) -> Option<Timestamp> {
        let first_held: Timestamp = candidate.first_held_at.parse().ok()?;
        let since = match candidate.last_run.as_deref().map(str::parse::<Timestamp>) {
            Some(Ok(last_run)) => last_run.max(first_held),
            _ => first_held,
        };
        Some(next_digest(since, self.hour, &self.zone_of(candidate)))
    }
}

/// Runs the digests due by `now` (every pending one with `now` None: `digest send`), of
/// everyone or only `user`; returns who got one and what it decided.
pub async fn run_due(
    store: &Store,
    schedule: &DigestSchedule,
    user: Option<String>,
    now: Option<Timestamp>,
) -> Result<Vec<(String, DigestRun)>, StoreError> {
    // What sends owe and the mail worker has not yet queued counts too.
    store.expand_pending_mail(std::time::Duration::ZERO).await?;
    let mut runs = Vec::new();
    for candidate in store.digest_candidates(user).await? {
        let due = match (now, schedule.due_at(&candidate)) {
            (None, _) => true,
            (Some(now), Some(at)) => at <= now,
            // A time the store wrote that does not read back: send rather than hold for ever.
            (Some(_), None) => true,
        };
        if due {
            match store.run_digest(candidate.user_id).await {
                Ok(run) => {
                    tracing::info!(user = %candidate.user, listed = run.listed, skipped = run.skipped, "digest run");
                    runs.push((candidate.user, run));
                }
                // One user's failure (removed meanwhile, say) does not hold back the others'.
                Err(e) => tracing::warn!(user = %candidate.user, error = %e, "could not run a digest"),
            }
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(first: &str, last: Option<&str>, zone: Option<&str>) -> DigestCandidate {
        DigestCandidate {
            user_id: 1,
            user: "ann".into(),
            first_held_at: first.into(),
            last_run: last.map(Into::into),
            zone: zone.map(Into::into),
        }
    }

    #[test]
    fn the_first_digest_follows_the_oldest_held_mail_and_the_next_the_last_run() {
        let schedule = DigestSchedule::default();
        let first = candidate("2026-12-04T09:30:00.000Z", None, None);
        assert_eq!(schedule.due_at(&first), Some("2026-12-05T08:00:00Z".parse().unwrap()));
        let later = candidate("2026-12-05T07:00:00.000Z", Some("2026-12-04T08:00:05.000Z"), None);
        assert_eq!(schedule.due_at(&later), Some("2026-12-05T08:00:00Z".parse().unwrap()));
        // A day with nothing held: the next item waits for the next digest hour after it.
        let quiet_day = candidate("2026-12-09T14:00:00.000Z", Some("2026-12-07T08:00:05.000Z"), None);
        assert_eq!(schedule.due_at(&quiet_day), Some("2026-12-10T08:00:00Z".parse().unwrap()));
    }

    #[test]
    fn a_users_own_zone_wins_over_the_organisations_and_an_unknown_one_falls_back() {
        let schedule = DigestSchedule::new(8, "Europe/Berlin").unwrap();
        let berlin = candidate("2026-12-04T09:30:00.000Z", None, None);
        assert_eq!(schedule.due_at(&berlin), Some("2026-12-05T07:00:00Z".parse().unwrap()));
        let new_york = candidate("2026-12-04T09:30:00.000Z", None, Some("America/New_York"));
        assert_eq!(schedule.due_at(&new_york), Some("2026-12-04T13:00:00Z".parse().unwrap()));
        let nowhere = candidate("2026-12-04T09:30:00.000Z", None, Some("Mars/Olympus"));
        assert_eq!(schedule.due_at(&nowhere), schedule.due_at(&berlin));
    }

    #[test]
    fn a_bad_hour_or_zone_is_refused_with_the_flag_named() {
        assert!(DigestSchedule::new(24, "UTC").unwrap_err().contains("--digest-hour"));
        assert!(DigestSchedule::new(8, "Europe/Atlantis").unwrap_err().contains("--timezone"));
    }
}
