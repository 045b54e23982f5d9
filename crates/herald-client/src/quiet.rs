//! Quiet hours and do-not-disturb (set on the hub, honoured on every device): whether a toast may
//! interrupt the user now. Pure, so the calendar rules are tested without waiting for midnight.

use herald_proto::{DoNotDisturb, QuietHours, Weekday};
use jiff::civil::{Time, Weekday as JiffWeekday};
use jiff::Timestamp;

/// Whether `at` falls in do-not-disturb or in one of the quiet periods.
pub fn is_quiet(settings: &DoNotDisturb, at: Timestamp) -> bool {
    let dnd =
        settings.dnd_until.as_deref().and_then(|until| until.parse::<Timestamp>().ok()).is_some_and(|until| at < until);
    dnd || settings.quiet_hours.as_ref().is_some_and(|quiet| in_quiet_hours(quiet, at))
}

fn in_quiet_hours(quiet: &QuietHours, at: Timestamp) -> bool {
    // An unknown zone (a newer hub's tz database) falls back to UTC rather than ignoring the hours.
    let zone = jiff::tz::TimeZone::get(&quiet.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = at.to_zoned(zone);
    let (today, now) = (local.weekday(), local.time());
    let yesterday = today.previous();
    quiet.periods.iter().any(|period| {
        let (Some(from), Some(to)) = (time_of_day(&period.from), time_of_day(&period.to)) else { return false };
        let starts = |day: JiffWeekday| period.days.iter().any(|d| weekday(*d) == day);
        if from < to {
            // Within one day: 09:00–12:00 on the days listed.
            starts(today) && from <= now && now < to
        } else {
            // Past midnight: 22:00–07:00 starts on a listed day and runs into the next morning.
            (starts(today) && now >= from) || (starts(yesterday) && now < to)
        }
    })
}

fn time_of_day(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

fn weekday(day: Weekday) -> JiffWeekday {
    match day {
        Weekday::Mon => JiffWeekday::Monday,
        Weekday::Tue => JiffWeekday::Tuesday,
        Weekday::Wed => JiffWeekday::Wednesday,
        Weekday::Thu => JiffWeekday::Thursday,
        Weekday::Fri => JiffWeekday::Friday,
        Weekday::Sat => JiffWeekday::Saturday,
        Weekday::Sun => JiffWeekday::Sunday,
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::QuietPeriod;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn nights(timezone: &str) -> DoNotDisturb {
        DoNotDisturb {
            quiet_hours: Some(QuietHours {
                timezone: timezone.into(),
                periods: vec![QuietPeriod {
                    days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
                    from: "22:00".into(),
                    to: "07:00".into(),
                }],
            }),
            dnd_until: None,
        }
    }

    #[test]
    fn quiet_hours_run_past_midnight_in_the_users_time_zone() {
        let berlin = nights("Europe/Berlin");
        // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
        assert!(!is_quiet(&berlin, at("2026-11-23T20:59:00Z")), "21:59 Monday");
        assert!(is_quiet(&berlin, at("2026-11-23T21:00:00Z")), "22:00 Monday");
        assert!(is_quiet(&berlin, at("2026-11-24T05:59:00Z")), "06:59 Tuesday, from Monday night");
        assert!(!is_quiet(&berlin, at("2026-11-24T06:00:00Z")), "07:00 Tuesday");
        assert!(!is_quiet(&berlin, at("2026-11-29T05:00:00Z")), "06:00 Sunday: Saturday night is not listed");
        assert!(is_quiet(&berlin, at("2026-11-28T05:00:00Z")), "06:00 Saturday, from Friday night");
        assert!(!is_quiet(&nights("UTC"), at("2026-11-23T21:30:00Z")), "21:30 in UTC is not yet quiet");
    }

    #[test]
    fn quiet_hours_follow_daylight_saving_time() {
        let berlin = nights("Europe/Berlin");
        // 2026-07-06 is a Monday; Berlin is UTC+2 in July.
        assert!(is_quiet(&berlin, at("2026-07-06T20:00:00Z")), "22:00 summer time");
        assert!(!is_quiet(&berlin, at("2026-07-06T19:59:00Z")));
    }

    #[test]
    fn do_not_disturb_lasts_until_its_time() {
        let dnd = DoNotDisturb { quiet_hours: None, dnd_until: Some("2026-11-21T12:00:00.000Z".into()) };
        assert!(is_quiet(&dnd, at("2026-11-21T11:59:59Z")));
        assert!(!is_quiet(&dnd, at("2026-11-21T12:00:00Z")));
        assert!(!is_quiet(&DoNotDisturb::default(), at("2026-11-21T11:00:00Z")));
    }

    #[test]
    fn a_daytime_period_covers_only_its_own_days() {
        let focus = DoNotDisturb {
            quiet_hours: Some(QuietHours {
                timezone: "UTC".into(),
                periods: vec![QuietPeriod { days: vec![Weekday::Wed], from: "09:00".into(), to: "12:00".into() }],
            }),
            dnd_until: None,
        };
        assert!(is_quiet(&focus, at("2026-11-25T10:00:00Z")), "Wednesday 10:00");
        assert!(!is_quiet(&focus, at("2026-11-26T10:00:00Z")), "Thursday 10:00");
        assert!(!is_quiet(&focus, at("2026-11-25T12:00:00Z")), "the end is not included");
    }
}
