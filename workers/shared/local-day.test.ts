import { describe, expect, it } from 'vitest';
import { localDayStart } from './dimensions';

// The rollups, sessions, reconcile and digest jobs bucket days with dimensions' localDayStart;
// the dashboard looks days up with lib/analytics/time-zone. On a DST day they once disagreed.
describe('the jobs’ local day', () => {
  it('puts every event of a DST day in a non-UTC site zone into that day’s one bucket', () => {
    const start = (iso: string, zone: string) => new Date(localDayStart(Date.parse(iso), zone)).toISOString();
    for (const t of ['2026-03-08T06:00:00Z', '2026-03-08T07:00:00Z', '2026-03-08T18:00:00Z'])
      expect(start(t, 'America/New_York'), t).toBe('2026-03-08T05:00:00.000Z');
    for (const t of ['2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z', '2026-11-01T18:00:00Z'])
      expect(start(t, 'America/New_York'), t).toBe('2026-11-01T04:00:00.000Z');
    for (const t of ['2026-03-29T00:30:00Z', '2026-03-29T01:30:00Z', '2026-03-29T12:00:00Z'])
      expect(start(t, 'Europe/Berlin'), t).toBe('2026-03-28T23:00:00.000Z');
    for (const t of ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T12:00:00Z'])
      expect(start(t, 'Europe/Berlin'), t).toBe('2026-10-24T22:00:00.000Z');
  });
});
