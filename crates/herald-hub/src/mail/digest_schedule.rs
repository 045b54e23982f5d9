//! When a user's daily digest is due (seed 001's digest hour): once a day at `hour` in the
//! user's own time zone. Pure, so the calendar's corners are tested without a clock:
//! - a day whose `hour` does not exist (clocks jump over it in spring) gets its digest at the
//!   first moment after the jump (02:00 that never was is 03:00);
//! - a day whose `hour` happens twice (clocks go back in autumn) gets one digest, at the first;
//! - zones with half- and quarter-hour offsets work like any other.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The first digest time strictly after `after`: `hour` o'clock local time in `zone`, on the
/// day of `after` if that is still to come, else on the next day that has one.
pub fn next_digest(after: Timestamp, hour: i8, zone: &TimeZone) -> Timestamp {
    let hour = hour.clamp(0, 23);
    let mut date = after.to_zoned(zone.clone()).date();
    // Two days always suffice (today's has passed: tomorrow's comes); a few more cost nothing
    // and keep a zone with an odd transition from ever looping.
    for _ in 0..4 {
        // `to_zoned` resolves a time in a gap to after the gap, and a repeated one to its first.
        if let Ok(at) = date.at(hour, 0, 0, 0).to_zoned(zone.clone()) {
            if at.timestamp() > after {
                return at.timestamp();
            }
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    // Past the end of the calendar jiff knows: a day later is as good an answer as any.
    after.checked_add(jiff::SignedDuration::from_hours(24)).unwrap_or(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn at_the_hour_today_if_it_is_still_to_come_else_tomorrow() {
        let utc = TimeZone::UTC;
        assert_eq!(next_digest(at("2026-12-04T07:59:59Z"), 8, &utc), at("2026-12-04T08:00:00Z"));
        assert_eq!(next_digest(at("2026-12-04T08:00:00Z"), 8, &utc), at("2026-12-05T08:00:00Z"), "strictly after");
        assert_eq!(next_digest(at("2026-12-31T09:00:00Z"), 8, &utc), at("2027-01-01T08:00:00Z"));
    }

    #[test]
    fn in_the_users_own_zone() {
        // 08:00 in Berlin is 07:00 UTC in winter, 06:00 in summer.
        assert_eq!(next_digest(at("2026-12-04T06:00:00Z"), 8, &zone("Europe/Berlin")), at("2026-12-04T07:00:00Z"));
        assert_eq!(next_digest(at("2026-07-01T06:30:00Z"), 8, &zone("Europe/Berlin")), at("2026-07-02T06:00:00Z"));
        // Half and quarter hours: Kolkata +05:30, Chatham +13:45 in its summer.
        assert_eq!(next_digest(at("2026-12-04T00:00:00Z"), 8, &zone("Asia/Kolkata")), at("2026-12-04T02:30:00Z"));
        assert_eq!(next_digest(at("2026-12-04T00:00:00Z"), 8, &zone("Pacific/Chatham")), at("2026-12-04T18:15:00Z"));
        // West of UTC, the local day differs from the UTC one.
        assert_eq!(next_digest(at("2026-12-05T02:00:00Z"), 8, &zone("America/New_York")), at("2026-12-05T13:00:00Z"));
    }

    #[test]
    fn the_spring_day_without_that_hour_still_gets_its_digest() {
        // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC). A digest hour of 2
        // comes at 03:00 CEST that day, then at 02:00 CEST on the next.
        let berlin = zone("Europe/Berlin");
        let day = next_digest(at("2026-03-28T23:00:00Z"), 2, &berlin);
        assert_eq!(day, at("2026-03-29T01:00:00Z"));
        assert_eq!(next_digest(day, 2, &berlin), at("2026-03-30T00:00:00Z"));
        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let new_york = zone("America/New_York");
        assert_eq!(next_digest(at("2026-03-08T05:00:00Z"), 2, &new_york), at("2026-03-08T07:00:00Z"));
        // The usual hour on that day is simply an hour earlier in UTC than the day before.
        assert_eq!(next_digest(at("2026-03-28T12:00:00Z"), 8, &berlin), at("2026-03-29T06:00:00Z"));
    }

    #[test]
    fn the_autumn_day_with_that_hour_twice_gets_one_digest() {
        // Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:00 happens at 00:00 and at
        // 01:00 UTC. One digest, at the first; the next is the following day's 02:00 CET.
        let berlin = zone("Europe/Berlin");
        let first = next_digest(at("2026-10-24T23:00:00Z"), 2, &berlin);
        assert_eq!(first, at("2026-10-25T00:00:00Z"));
        assert_eq!(next_digest(first, 2, &berlin), at("2026-10-26T01:00:00Z"), "not again at the repeated 02:00");
        // Days around it keep their local hour.
        assert_eq!(next_digest(at("2026-10-25T12:00:00Z"), 8, &berlin), at("2026-10-26T07:00:00Z"));
    }

    #[test]
    fn every_day_gets_exactly_one_across_a_year_of_both_changes() {
        for name in ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"] {
            let tz = zone(name);
            for hour in [0, 2, 8, 23] {
                let mut t = at("2026-01-01T00:00:00Z");
                let mut days = std::collections::BTreeSet::new();
                for _ in 0..365 {
                    t = next_digest(t, hour, &tz);
                    assert!(days.insert(t.to_zoned(tz.clone()).date()), "{name} {hour}: two digests on one day at {t}");
                }
                assert_eq!(days.len(), 365, "{name} {hour}");
                let first = *days.first().unwrap();
                let last = *days.last().unwrap();
                assert_eq!((last - first).get_days(), 364, "{name} {hour}: no day skipped");
            }
        }
    }
}
