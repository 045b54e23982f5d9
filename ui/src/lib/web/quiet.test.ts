import { describe, expect, it } from 'vitest';
import type { Weekday } from '../backend';
import { isQuiet } from './quiet';

const nights = (timezone: string) => ({
  quiet_hours: { timezone, periods: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] as Weekday[], from: '22:00', to: '07:00' }] },
  dnd_until: null,
});

describe('quiet hours in the browser follow the desktop', () => {
  it('run past midnight in the user time zone, with summer time', () => {
    const berlin = nights('Europe/Berlin');
    expect(isQuiet(berlin, new Date('2026-11-23T20:59:00Z'))).toBe(false);
    expect(isQuiet(berlin, new Date('2026-11-23T21:00:00Z'))).toBe(true);
    expect(isQuiet(berlin, new Date('2026-11-24T05:59:00Z'))).toBe(true);
    expect(isQuiet(berlin, new Date('2026-11-24T06:00:00Z'))).toBe(false);
    expect(isQuiet(berlin, new Date('2026-11-29T05:00:00Z'))).toBe(false);
    expect(isQuiet(berlin, new Date('2026-11-28T05:00:00Z'))).toBe(true);
    expect(isQuiet(berlin, new Date('2026-07-06T20:00:00Z'))).toBe(true);
    expect(isQuiet(berlin, new Date('2026-07-06T19:59:00Z'))).toBe(false);
  });

  it('do-not-disturb lasts until its time', () => {
    const dnd = { quiet_hours: null, dnd_until: '2026-11-21T12:00:00.000Z' };
    expect(isQuiet(dnd, new Date('2026-11-21T11:59:59Z'))).toBe(true);
    expect(isQuiet(dnd, new Date('2026-11-21T12:00:00Z'))).toBe(false);
    expect(isQuiet(null, new Date())).toBe(false);
  });
});
