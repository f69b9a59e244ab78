import { describe, expect, it } from 'vitest';
import { coalesceSegments, coverRange, type Segment } from './cover';
import { addDays, zonedMidnight } from './time-zone';

const H = 3_600_000;
const M = 60_000;
const midnights = (tz: string, from: string, n: number) =>
  Array.from({ length: n }, (_, i) => zonedMidnight(addDays(from, i), tz));

function assertExactCover(segments: Segment[], start: number, end: number) {
  const sorted = [...segments].sort((a, b) => a.start - b.start);
  expect(sorted[0]!.start).toBe(start);
  expect(sorted[sorted.length - 1]!.end).toBe(end);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start).toBe(sorted[i - 1]!.end);
  for (const s of sorted) {
    if (s.granularity === 'hour') expect([s.start % H, s.end % H]).toEqual([0, 0]);
    if (s.granularity === 'minute') expect([s.start % M, s.end % M]).toEqual([0, 0]);
  }
}

describe('coverRange', () => {
  it('whole local days are day rows', () => {
    const m = midnights('Europe/Berlin', '2026-03-01', 9);
    const segs = coverRange(m[1]!, m[8]!, m);
    expect(segs).toEqual([{ granularity: 'day', start: m[1], end: m[8] }]);
  });

  it('partial days use UTC hours, then minutes at a half-hour offset', () => {
    const m = midnights('Asia/Kolkata', '2026-03-01', 5);
    // 10:00–14:00 local in Kolkata is 04:30–08:30 UTC.
    const start = m[1]! + 10 * H;
    const end = m[1]! + 14 * H;
    const segs = coverRange(start, end, m);
    expect(segs.map((s) => s.granularity)).toEqual(['minute', 'hour', 'minute']);
    assertExactCover(segs, start, end);
  });

  it('days and edges combine, covering exactly once', () => {
    const m = midnights('America/New_York', '2026-03-06', 6);
    const start = m[0]! + 13 * H + 15 * M;
    const end = m[4]! + 2 * H + 40 * M;
    const segs = coverRange(start, end, m);
    expect(segs.filter((s) => s.granularity === 'day')).toEqual([{ granularity: 'day', start: m[1], end: m[4] }]);
    assertExactCover(segs, start, end);
  });

  it('less than an hour is minutes only', () => {
    const start = Date.parse('2026-03-01T10:05:00Z');
    expect(coverRange(start, start + 20 * M, [])).toEqual([{ granularity: 'minute', start, end: start + 20 * M }]);
  });

  it('coalesces only touching segments of one granularity', () => {
    const segs: Segment[] = [
      { granularity: 'day', start: 0, end: 10 },
      { granularity: 'day', start: 10, end: 20 },
      { granularity: 'hour', start: 20, end: 30 },
      { granularity: 'day', start: 30, end: 40 },
    ];
    expect(coalesceSegments(segs)).toEqual([
      { granularity: 'day', start: 0, end: 20 },
      { granularity: 'hour', start: 20, end: 30 },
      { granularity: 'day', start: 30, end: 40 },
    ]);
  });
});
