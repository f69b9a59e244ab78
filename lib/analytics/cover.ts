import { MINUTE, HOUR } from '@/lib/time';

// Which rollup rows answer a time range. The workers keep three granularities: minute and hour
// buckets aligned to UTC, and day buckets starting at the site's local midnight. A range is
// covered greedily by whole local days, then whole UTC hours, then minutes at the edges, so a
// 30-day range reads 30 day rows per value instead of 43,200 minute rows. Pure.

export type Granularity = 'minute' | 'hour' | 'day';

export interface Segment {
  granularity: Granularity;
  /** Buckets with start in [start, end). */
  start: number;
  end: number;
}

function hoursAndMinutes(a: number, b: number, out: Segment[]): void {
  if (a >= b) return;
  const h0 = Math.ceil(a / HOUR) * HOUR;
  const h1 = Math.floor(b / HOUR) * HOUR;
  if (h0 < h1) {
    if (a < h0) out.push({ granularity: 'minute', start: a, end: h0 });
    out.push({ granularity: 'hour', start: h0, end: h1 });
    if (h1 < b) out.push({ granularity: 'minute', start: h1, end: b });
  } else {
    out.push({ granularity: 'minute', start: a, end: b });
  }
}

/**
 * Segments covering [start, end) exactly once. `localMidnights`: the site's local midnights
 * (sorted) at or around the range; whole local days between them are read from day rows.
 */
export function coverRange(start: number, end: number, localMidnights: number[]): Segment[] {
  const a = Math.floor(start / MINUTE) * MINUTE;
  const b = Math.ceil(end / MINUTE) * MINUTE;
  const inside = localMidnights.filter((m) => m >= a && m <= b);
  const out: Segment[] = [];
  if (inside.length >= 2) {
    const first = inside[0]!;
    const last = inside[inside.length - 1]!;
    hoursAndMinutes(a, first, out);
    out.push({ granularity: 'day', start: first, end: last });
    hoursAndMinutes(last, b, out);
  } else {
    hoursAndMinutes(a, b, out);
  }
  return out;
}

/** Joins touching segments of the same granularity (fewer OR terms in SQL; no overlap is created). */
export function coalesceSegments(segments: Segment[]): Segment[] {
  const sorted = [...segments].sort((x, y) => x.start - y.start || x.granularity.localeCompare(y.granularity));
  const out: Segment[] = [];
  for (const s of sorted) {
    const last = out.findLast((o) => o.granularity === s.granularity);
    if (last && last.end === s.start && out[out.length - 1] === last) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}
