import { describe, expect, it, vi } from 'vitest';
import {
  addDays,
  daysBetween,
  isIsoDate,
  isValidTimeZone,
  localDate,
  localDayStart,
  offsetAt,
  zonedMidnight,
  zonedTime,
} from './time-zone';

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

  // Each case: [event instant, local day start]. Every event of a DST day (23 or 25 hours long)
  // must map to that day's one midnight, whatever the offset at the event itself.
  const dayStarts: [zone: string, change: string, cases: [event: string, dayStart: string][]][] = [
    [
      'America/New_York',
      'spring forward 2026-03-08 02:00 EST → 03:00 EDT',
      [
        ['2026-03-08T04:59:59Z', '2026-03-07T05:00:00Z'], // 23:59:59 EST on the 7th
        ['2026-03-08T05:00:00Z', '2026-03-08T05:00:00Z'], // local midnight
        ['2026-03-08T06:00:00Z', '2026-03-08T05:00:00Z'],
        ['2026-03-08T06:59:59Z', '2026-03-08T05:00:00Z'], // 01:59:59 EST, just before
        ['2026-03-08T07:00:00Z', '2026-03-08T05:00:00Z'], // 03:00 EDT, just after
        ['2026-03-08T18:00:00Z', '2026-03-08T05:00:00Z'],
        ['2026-03-09T03:59:59Z', '2026-03-08T05:00:00Z'], // 23:59:59 EDT
        ['2026-03-09T04:00:00Z', '2026-03-09T04:00:00Z'], // next local midnight, now UTC−4
      ],
    ],
    [
      'America/New_York',
      'fall back 2026-11-01 02:00 EDT → 01:00 EST',
      [
        ['2026-11-01T03:59:59Z', '2026-10-31T04:00:00Z'],
        ['2026-11-01T04:00:00Z', '2026-11-01T04:00:00Z'], // local midnight (EDT)
        ['2026-11-01T05:59:59Z', '2026-11-01T04:00:00Z'], // 01:59:59 EDT, just before
        ['2026-11-01T06:00:00Z', '2026-11-01T04:00:00Z'], // 01:00 EST, the repeated hour
        ['2026-11-01T18:00:00Z', '2026-11-01T04:00:00Z'],
        ['2026-11-02T04:59:59Z', '2026-11-01T04:00:00Z'], // 23:59:59 EST
        ['2026-11-02T05:00:00Z', '2026-11-02T05:00:00Z'], // next local midnight, now UTC−5
      ],
    ],
    [
      'Europe/Berlin',
      'spring forward 2026-03-29 02:00 CET → 03:00 CEST',
      [
        ['2026-03-28T22:59:59Z', '2026-03-27T23:00:00Z'],
        ['2026-03-28T23:00:00Z', '2026-03-28T23:00:00Z'], // local midnight (CET)
        ['2026-03-29T00:59:59Z', '2026-03-28T23:00:00Z'], // 01:59:59 CET, just before
        ['2026-03-29T01:00:00Z', '2026-03-28T23:00:00Z'], // 03:00 CEST, just after
        ['2026-03-29T12:00:00Z', '2026-03-28T23:00:00Z'],
        ['2026-03-29T21:59:59Z', '2026-03-28T23:00:00Z'], // 23:59:59 CEST
        ['2026-03-29T22:00:00Z', '2026-03-29T22:00:00Z'], // next local midnight, now UTC+2
      ],
    ],
    [
      'Europe/Berlin',
      'fall back 2026-10-25 03:00 CEST → 02:00 CET',
      [
        ['2026-10-24T21:59:59Z', '2026-10-23T22:00:00Z'],
        ['2026-10-24T22:00:00Z', '2026-10-24T22:00:00Z'], // local midnight (CEST)
        ['2026-10-25T00:59:59Z', '2026-10-24T22:00:00Z'], // 02:59:59 CEST, just before
        ['2026-10-25T01:00:00Z', '2026-10-24T22:00:00Z'], // 02:00 CET, the repeated hour
        ['2026-10-25T12:00:00Z', '2026-10-24T22:00:00Z'],
        ['2026-10-25T22:59:59Z', '2026-10-24T22:00:00Z'], // 23:59:59 CET
        ['2026-10-25T23:00:00Z', '2026-10-25T23:00:00Z'], // next local midnight, now UTC+1
      ],
    ],
  ];
  for (const [zone, change, cases] of dayStarts) {
    it(`every event of the ${change} day in ${zone} falls in that day's single bucket`, () => {
      for (const [event, start] of cases) {
        const ts = Date.parse(event);
        expect(new Date(localDayStart(ts, zone)).toISOString(), `day start of ${event}`).toBe(
          new Date(Date.parse(start)).toISOString(),
        );
        expect(localDate(localDayStart(ts, zone), zone), `local date of the day start of ${event}`).toBe(
          localDate(ts, zone),
        );
      }
    });
  }

  it('DST days are 23 and 25 hours long', () => {
    const length = (zone: string, noonUtc: string) => {
      const start = localDayStart(Date.parse(noonUtc), zone);
      return (localDayStart(start + 30 * 3_600_000, zone) - start) / 3_600_000;
    };
    expect(length('America/New_York', '2026-03-08T12:00:00Z')).toBe(23);
    expect(length('America/New_York', '2026-11-01T12:00:00Z')).toBe(25);
    expect(length('Europe/Berlin', '2026-03-29T12:00:00Z')).toBe(23);
    expect(length('Europe/Berlin', '2026-10-25T12:00:00Z')).toBe(25);
    expect(length('UTC', '2026-03-08T12:00:00Z')).toBe(24);
  });

  it('remembered days answer exactly as working each day out: DST changes, a fall-back across midnight, odd offsets, a skipped date', () => {
    // The reference: the date from Intl directly, the day's start from that date's midnight.
    const reference = (ts: number, zone: string) => {
      const f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
      const date = f.format(new Date(ts));
      return { date, start: zonedMidnight(date, zone) };
    };
    const windows: [string, string][] = [
      ['America/Sao_Paulo', '2018-02-16T00:00:00Z'], // DST ended at 00:00 on 02-18: back to 23:00 of 02-17
      ['America/New_York', '2026-11-01T00:00:00Z'],
      ['Europe/Berlin', '2026-03-28T00:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T00:00:00Z'], // a 30-minute DST change
      ['Asia/Kathmandu', '2026-06-01T00:00:00Z'], // UTC+05:45
      ['Pacific/Apia', '2011-12-28T00:00:00Z'], // 2011-12-30 did not happen there
      ['UTC', '2026-12-31T00:00:00Z'],
    ];
    for (const [zone, from] of windows) {
      const t0 = Date.parse(from);
      // Every 7 minutes over four days, in a scrambled order (back and forth across the days,
      // as late events arrive), then the same instants in order.
      const instants = Array.from({ length: Math.floor((4 * 86_400_000) / 420_000) }, (_, i) => t0 + i * 420_000);
      const scrambled = instants.map((_, i) => instants[(i * 7919) % instants.length]!);
      for (const ts of [...scrambled, ...instants]) {
        const want = reference(ts, zone);
        expect(localDate(ts, zone), `${zone} ${new Date(ts).toISOString()}`).toBe(want.date);
        expect(localDayStart(ts, zone), `${zone} ${new Date(ts).toISOString()}`).toBe(want.start);
      }
    }
    // Any instant Date holds has a local date; only four-digit years have a day start.
    expect(localDate(8.64e15, 'UTC')).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC' }).format(8.64e15));
    expect(() => localDayStart(8.64e15, 'UTC')).toThrow(RangeError);
    // The repeated hour in São Paulo belongs to 02-17; 02-18 starts after it.
    expect(localDate(Date.parse('2018-02-18T02:30:00Z'), 'America/Sao_Paulo')).toBe('2018-02-17');
    expect(localDate(Date.parse('2018-02-18T01:30:00Z'), 'America/Sao_Paulo')).toBe('2018-02-17');
    expect(localDayStart(Date.parse('2018-02-18T03:30:00Z'), 'America/Sao_Paulo')).toBe(
      Date.parse('2018-02-18T03:00:00Z'),
    );
  });

  it('a DST day is remembered too: its events need no Intl call after the first', () => {
    const calls = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    const callsFor = (zone: string, from: string, hours: number) => {
      const t0 = Date.parse(from);
      localDayStart(t0, zone); // works the day out (and remembers it when it may)
      calls.mockClear();
      for (let m = 7; m < hours * 60; m += 7) localDayStart(t0 + m * 60_000, zone);
      return calls.mock.calls.length;
    };
    try {
      // Set back at 02:00 (New York), forward at 02:00 (Berlin), back by 30 minutes (Lord Howe):
      // every instant of the day is of that date, so the day is one interval.
      expect(callsFor('America/New_York', '2026-11-01T05:00:00Z', 24)).toBe(0);
      expect(callsFor('Europe/Berlin', '2026-03-28T23:00:00Z', 22)).toBe(0);
      expect(callsFor('Australia/Lord_Howe', '2026-04-04T13:00:00Z', 24)).toBe(0);
      // São Paulo, 2018-02-17: set back at its end (00:00 of 02-18 became 23:00 of 02-17), a
      // 25-hour day that is still one interval.
      expect(callsFor('America/Sao_Paulo', '2018-02-17T02:00:00Z', 25)).toBe(0);
    } finally {
      calls.mockRestore();
    }
  });
});
