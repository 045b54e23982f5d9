import { describe, expect, it } from 'vitest';
import { relativeTime } from './relativeTime';

const now = Date.parse('2026-11-21T12:00:00Z');

describe('relativeTime', () => {
  it('says how long ago, coarsely', () => {
    expect(relativeTime('2026-11-21T11:59:30Z', now)).toBe('just now');
    expect(relativeTime('2026-11-21T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-11-21T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2026-11-20T09:00:00Z', now)).toBe('yesterday');
    expect(relativeTime('2026-11-17T12:00:00Z', now)).toBe('4 days ago');
  });

  it('falls back to a date for old ones and to nothing for garbage', () => {
    expect(relativeTime('2026-01-02T12:00:00Z', now)).toMatch(/2026/);
    expect(relativeTime('not a date', now)).toBe('');
  });
});
