import { describe, expect, it } from 'vitest';
import { resolveRange } from './range';

const now = Date.parse('2026-03-10T15:20:00Z');

describe('resolveRange', () => {
  it('last 7 days end today (local) and compare with the 7 days before', () => {
    const r = resolveRange({ range: '7d', compare: 'previous' }, 'Europe/Berlin', now);
    expect([r.from, r.to, r.interval, r.points.length]).toEqual(['2026-03-04', '2026-03-10', 'day', 7]);
    expect([r.previous.from, r.previous.to, r.previous.points.length]).toEqual(['2026-02-25', '2026-03-03', 7]);
    expect(r.start).toBe(Date.parse('2026-03-03T23:00:00Z'));
    expect(r.end).toBe(Date.parse('2026-03-10T23:00:00Z'));
  });

  it('today is hourly; its comparison is yesterday', () => {
    const r = resolveRange({ range: 'today', compare: 'previous' }, 'UTC', now);
    expect(r.interval).toBe('hour');
    expect(r.points).toHaveLength(24);
    expect(r.points[15]!.label).toBe('2026-03-10 15:00');
    expect(r.previous.from).toBe('2026-03-09');
  });

  it('a DST day has 23 or 25 hourly points, each an hour of local time', () => {
    const spring = resolveRange(
      { range: 'custom', from: '2026-03-08', to: '2026-03-08', compare: 'none' },
      'America/New_York',
      now,
    );
    expect(spring.points).toHaveLength(23);
    expect(spring.points.map((p) => p.label.slice(11))).toContain('03:00');
    expect(spring.points.map((p) => p.label.slice(11))).not.toContain('02:00');
    const fall = resolveRange(
      { range: 'custom', from: '2026-11-01', to: '2026-11-01', compare: 'none' },
      'America/New_York',
      now,
    );
    expect(fall.points).toHaveLength(25);
  });

  it('custom ranges are ordered, bounded and day-grained beyond two days', () => {
    const r = resolveRange({ range: 'custom', from: '2026-02-10', to: '2026-01-01', compare: 'previous' }, 'UTC', now);
    expect([r.from, r.to, r.interval, r.points.length]).toEqual(['2026-01-01', '2026-02-10', 'day', 41]);
    expect(r.previous.to).toBe('2025-12-31');
    expect(() =>
      resolveRange({ range: 'custom', from: '2020-01-01', to: '2026-01-01', compare: 'none' }, 'UTC', now),
    ).toThrow(/at most/);
    expect(() => resolveRange({ range: 'custom', compare: 'none' }, 'UTC', now)).toThrow(/required/);
  });
});
