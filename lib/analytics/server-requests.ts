import { pool } from '../db/client';
import { EddyError } from '../errors';
import { resolveRange } from './range';
import { segmentPredicate, segmentsFor } from './rollup-engine';
import { serverRequestRows } from '../rollups/server-requests';
import type { StatsQuery, StatsSite } from './stats';

// Server requests (the events API's `request` events, sent by @eddy/node) for a range: how
// many, by path and by status class. The rollups job keeps them apart from pageviews, visitors
// and visits (workers/rollups/minute-stats.ts), in the dimensions event = "request",
// request_path and request_status; they are summed here over the range's covering buckets in the
// site's time zone. Read from `rollups` only: the compacted day cache is keyed on the totals,
// which server requests do not touch. Filters do not apply (a server request has no source,
// device or visit); the dashboard says so.

export interface ServerRequestsResult {
  range: { from: string; to: string; timezone: string };
  total: number;
  byPath: { value: string; requests: number }[];
  byStatus: { value: string; requests: number }[];
}

export async function serverRequests(
  site: StatsSite,
  q: Pick<StatsQuery, 'range' | 'from' | 'to'>,
  now = Date.now(),
  limit = 10,
): Promise<ServerRequestsResult> {
  let r;
  try {
    r = resolveRange({ range: q.range, from: q.from, to: q.to, compare: 'none' }, site.timezone, now);
  } catch (e) {
    throw new EddyError('bad_request', `range: ${(e as Error).message}`);
  }
  const where = segmentPredicate(segmentsFor(r, site.timezone), 2);
  const rows = await serverRequestRows(pool(), site.id, where);
  const of = (d: string) =>
    rows.filter((x) => x.dimension === d && x.requests > 0).map((x) => ({ value: x.value, requests: x.requests }));
  return {
    range: { from: r.from, to: r.to, timezone: r.timezone },
    total: rows.find((x) => x.dimension === 'event')?.requests ?? 0,
    byPath: of('request_path')
      .sort((a, b) => b.requests - a.requests || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, limit),
    byStatus: of('request_status').sort((a, b) => (a.value < b.value ? -1 : 1)),
  };
}
