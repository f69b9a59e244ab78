import { z } from 'zod';
import { addDays, daysBetween, isIsoDate, localDate, localParts, zonedMidnight } from './time-zone';
import { HOUR } from '@/lib/time';

// Date ranges in the site's time zone: which local days a range covers, its previous period
// (the same number of days just before), and the chart's points (local hours for ranges of up
// to two days, local days otherwise). Pure, with the clock passed in.

export const RANGE_KEYS = ['today', 'yesterday', '7d', '30d', 'custom'] as const;
export type RangeKey = (typeof RANGE_KEYS)[number];
export const MAX_CUSTOM_DAYS = 366;

const isoDate = z.string().refine(isIsoDate, 'must be a date YYYY-MM-DD');

export const rangeQuerySchema = z.object({
  range: z.enum(RANGE_KEYS).default('7d'),
  from: isoDate.optional(),
  to: isoDate.optional(),
  compare: z.enum(['previous', 'none']).default('previous'),
});
export type RangeQuery = z.infer<typeof rangeQuerySchema>;

export interface Point {
  start: number;
  end: number;
  label: string;
}

export interface Period {
  /** First and last local day, inclusive. */
  from: string;
  to: string;
  start: number;
  end: number;
  points: Point[];
}

export interface ResolvedRange extends Period {
  key: RangeKey;
  label: string;
  timezone: string;
  interval: 'hour' | 'day';
  previous: Period;
}

function period(from: string, to: string, tz: string, interval: 'hour' | 'day'): Period {
  const start = zonedMidnight(from, tz);
  const end = zonedMidnight(addDays(to, 1), tz);
  const points: Point[] = [];
  if (interval === 'day') {
    for (let d = from; d <= to; d = addDays(d, 1))
      points.push({ start: zonedMidnight(d, tz), end: zonedMidnight(addDays(d, 1), tz), label: d });
  } else {
    // Local hours: one-hour steps from local midnight (23 or 25 of them on DST days).
    for (let t = start; t < end; t += HOUR) {
      const p = localParts(t, tz);
      const day = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
      points.push({
        start: t,
        end: Math.min(t + HOUR, end),
        label: `${day} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`,
      });
    }
  }
  return { from, to, start, end, points };
}

export function resolveRange(q: RangeQuery, timezone: string, now: number): ResolvedRange {
  const today = localDate(now, timezone);
  let from: string;
  let to: string;
  let label: string;
  switch (q.range) {
    case 'today':
      from = to = today;
      label = 'Today';
      break;
    case 'yesterday':
      from = to = addDays(today, -1);
      label = 'Yesterday';
      break;
    case '7d':
      from = addDays(today, -6);
      to = today;
      label = 'Last 7 days';
      break;
    case '30d':
      from = addDays(today, -29);
      to = today;
      label = 'Last 30 days';
      break;
    case 'custom': {
      if (!q.from || !q.to) throw new RangeError('from and to are required for a custom range');
      [from, to] = q.from <= q.to ? [q.from, q.to] : [q.to, q.from];
      if (daysBetween(from, to) + 1 > MAX_CUSTOM_DAYS)
        throw new RangeError(`a custom range is at most ${MAX_CUSTOM_DAYS} days`);
      label = from === to ? from : `${from} – ${to}`;
      break;
    }
  }
  const days = daysBetween(from, to) + 1;
  const interval = days <= 2 ? 'hour' : 'day';
  const current = period(from, to, timezone, interval);
  const previous = period(addDays(from, -days), addDays(from, -1), timezone, interval);
  return { key: q.range, label, timezone, interval, ...current, previous };
}
