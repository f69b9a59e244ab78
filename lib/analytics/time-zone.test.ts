import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, isIsoDate, isValidTimeZone, localDate, offsetAt, zonedMidnight, zonedTime } from './time-zone';

describe('time zones', () => {
  it('local midnight is the UTC instant the local day starts, across DST changes', () => {
    expect(new Date(zonedMidnight('2026-03-08', 'America/New_York')).toISOString()).toBe('2026-03-08T05:00:00.000Z');
    // Spring forward at 02:00: the day after starts at UTC-4.
    expect(new Date(zonedMidnight('2026-03-09', 'America/New_York')).toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(new Date(zonedMidnight('2026-11-01', 'America/New_York')).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(new Date(zonedMidnight('2026-11-02', 'America/New_York')).toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(new Date(zonedMidnight('2026-01-15', 'Asia/Kolkata')).toISOString()).toBe('2026-01-14T18:30:00.000Z');
    expect(new Date(zonedMidnight('2026-06-01', 'UTC')).toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });

  it('a day whose midnight does not exist starts when the clocks jump past it', () => {
    // Santiago skipped 00:00–01:00 on 2024-09-08 (UTC-4 → UTC-3).
    expect(new Date(zonedMidnight('2024-09-08', 'America/Santiago')).toISOString()).toBe('2024-09-08T04:00:00.000Z');
    expect(localDate(zonedMidnight('2024-09-08', 'America/Santiago'), 'America/Santiago')).toBe('2024-09-08');
  });

  it('local dates, offsets and date arithmetic', () => {
    const t = Date.parse('2026-01-14T20:00:00Z');
    expect(localDate(t, 'Asia/Kolkata')).toBe('2026-01-15');
    expect(localDate(t, 'America/Los_Angeles')).toBe('2026-01-14');
    expect(offsetAt(t, 'Asia/Kolkata')).toBe(5.5 * 3600_000);
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(daysBetween('2024-01-01', '2024-12-31')).toBe(365);
    expect(zonedTime('2026-07-01', 'Europe/Berlin', 90)).toBe(Date.parse('2026-06-30T23:30:00Z'));
  });

  it('validates dates and zones', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
    expect(isIsoDate('2024-2-1')).toBe(false);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
