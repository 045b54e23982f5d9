// Whether the user is not to be interrupted now: do-not-disturb until a time, or quiet hours in
// their own time zone (crates/herald-client/src/quiet.rs, the desktop's rules, for the browser).
import type { QuietHours, Weekday } from '../backend';
import type { DoNotDisturb } from '../backend/generated/DoNotDisturb';

export type { DoNotDisturb };

const DAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Weekday and minutes since midnight at `at` in `timezone` (UTC if the browser lacks it). */
function local(at: Date, timezone: string): { day: Weekday; minutes: number } {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(at);
  } catch {
    return local(at, 'UTC');
  }
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as Weekday;
  return { day, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

function minutesOf(text: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

export function inQuietHours(quiet: QuietHours, at: Date): boolean {
  const { day: today, minutes: now } = local(at, quiet.timezone);
  const yesterday = DAYS[(DAYS.indexOf(today) + 6) % 7];
  return quiet.periods.some((period) => {
    const from = minutesOf(period.from);
    const to = minutesOf(period.to);
    if (from === null || to === null) return false;
    const starts = (day: Weekday) => period.days.includes(day);
    if (from < to) return starts(today) && from <= now && now < to;
    // Past midnight: 22:00–07:00 starts on a listed day and runs into the next morning.
    return (starts(today) && now >= from) || (starts(yesterday) && now < to);
  });
}

export function isQuiet(settings: DoNotDisturb | null, at: Date = new Date()): boolean {
  if (!settings) return false;
  if (settings.dnd_until && Date.parse(settings.dnd_until) > at.getTime()) return true;
  return settings.quiet_hours ? inQuietHours(settings.quiet_hours, at) : false;
}
