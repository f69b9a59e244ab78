import { HyperLogLog, type Aggregate, type HyperLogLogJson, type Json } from '@/lib/stream';
import type { EventRecord } from '@/lib/events/record';
import { eventDimensionValues } from '@/lib/analytics/dimension-registry';

// The rollups job's aggregate: per window, totals plus one cell per dimension value, each with
// pageviews, events and a visitor sketch. Mergeable (the library builds windows from slices).

export interface Cell {
  pageviews: number;
  events: number;
  visitors: HyperLogLog;
}

/** Keyed `${dimension}\u001f${value}` (unit separator: PostgreSQL's jsonb refuses \u0000 in checkpoints); the totals cell is '\u001f'. */
export type MinuteStats = Map<string, Cell>;

export interface RollupInput {
  record: EventRecord;
  contentGroup: string;
}

/** Distinct values kept per dimension and window; beyond it, '(other)' (a flood of random URLs cannot exhaust memory). */
export const MAX_VALUES_PER_DIMENSION = 1000;
const AUTOMATIC = new Set(['pageview', 'engagement']);

export const cellKey = (dimension: string, value: string) => `${dimension}\u001f${value}`;
export const splitKey = (key: string): [string, string] => {
  const i = key.indexOf('\u001f');
  return [key.slice(0, i), key.slice(i + 1)];
};

/** The dimension values one event contributes to. */
export function dimensionsOf({ record: e, contentGroup }: RollupInput): [string, string][] {
  // A server request (events API, @eddy/node) is counted as a server request and nothing else:
  // not in the totals (pageviews, visitors) nor any visit dimension, so a site with both the
  // tracker and the middleware does not see each page twice. Its own cells: the custom-event
  // dimension (event = "request"), its path and its status class (2xx…5xx).
  if (e.request)
    return [
      ['event', 'request'],
      ['request_path', e.path],
      ['request_status', `${Math.floor(e.request.status / 100)}xx`],
    ];
  const dims: [string, string][] = [['', '']];
  // An event dimension without a value (an internal navigation's source, no UTM) gets no cell.
  for (const [d, v] of eventDimensionValues(e)) if (v !== null) dims.push([d.name, v]);
  if (contentGroup) dims.push(['content_group', contentGroup]);
  if (!AUTOMATIC.has(e.name)) dims.push(['event', e.name]);
  return dims;
}

export function minuteStatsAggregate(): Aggregate<RollupInput, MinuteStats, MinuteStats> {
  const valuesPerDimension = (acc: MinuteStats, dimension: string) => {
    let n = 0;
    for (const k of acc.keys()) if (k.startsWith(`${dimension}\u001f`)) n++;
    return n;
  };
  const cell = (acc: MinuteStats, dimension: string, value: string): Cell => {
    let key = cellKey(dimension, value);
    let c = acc.get(key);
    if (!c && dimension !== '' && valuesPerDimension(acc, dimension) >= MAX_VALUES_PER_DIMENSION) {
      key = cellKey(dimension, '(other)');
      c = acc.get(key);
    }
    if (!c) {
      c = { pageviews: 0, events: 0, visitors: new HyperLogLog(14) };
      acc.set(key, c);
    }
    return c;
  };
  return {
    create: () => new Map(),
    add(acc, input) {
      const isPageview = input.record.name === 'pageview';
      const isEvent = !AUTOMATIC.has(input.record.name);
      for (const [d, v] of dimensionsOf(input)) {
        const c = cell(acc, d, v);
        if (isPageview) c.pageviews++;
        if (isEvent) c.events++;
        c.visitors.add(input.record.visitorId);
      }
      return acc;
    },
    merge(into, other) {
      for (const [key, o] of other) {
        const [d, v] = splitKey(key);
        const c = cell(into, d, v);
        c.pageviews += o.pageviews;
        c.events += o.events;
        c.visitors.merge(o.visitors);
      }
      return into;
    },
    result(acc) {
      const copy: MinuteStats = new Map();
      for (const [k, c] of acc) copy.set(k, { pageviews: c.pageviews, events: c.events, visitors: c.visitors.clone() });
      return copy;
    },
    toJSON: (acc) => [...acc].map(([k, c]) => [k, c.pageviews, c.events, c.visitors.toJSON()]) as Json,
    fromJSON(json) {
      const acc: MinuteStats = new Map();
      for (const [k, pv, ev, hll] of json as [string, number, number, HyperLogLogJson][]) {
        acc.set(k, { pageviews: pv, events: ev, visitors: HyperLogLog.fromJSON(hll) });
      }
      return acc;
    },
  };
}
