import { asArray, asNumber, HyperLogLog, type Aggregate } from '@/lib/stream';
import type { EventRecord } from '@/lib/events/record';
import { NO_REFERRER } from '@/lib/analytics/dimension-registry';
import { AUTOMATIC_EVENTS, INSIGHT_CAPS, OTHER, propValueKey, type InsightKind } from '@/lib/insights/kinds';
import { DAY } from '@/lib/time';

// The insights job's aggregate: per site and minute, one cell per (kind, value) with a count, a
// visitor sketch and, for engagement, sums of visible time and scroll depth. Cardinality is
// bounded like the rollups' breakdowns (numbers in lib/insights/kinds.ts): past a cap, values
// fold into "(other)", so a flood of random event names, property values or URLs cannot exhaust
// memory or the table.

export interface InsightCell {
  count: number;
  visitors: HyperLogLog;
  visibleMs: number;
  scroll: number;
  scrollSamples: number;
}

export interface InsightStats {
  cells: Map<string, InsightCell>;
  /** Cells per kind, and per (event, property key) for `prop`: what the caps compare with. Derived. */
  perKind: Map<string, number>;
}

/** Precision of the insights' visitor sketches: 4 KiB dense, ±1.6 %. */
export const INSIGHT_SKETCH_PRECISION = 12;

export const insightKey = (kind: string, value: string) => `${kind}\u001f${value}`;
export function splitInsightKey(key: string): [string, string] {
  const i = key.indexOf('\u001f');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** What one event contributes: (kind, value) pairs, before caps. */
export function insightsOf(e: EventRecord, opts: { propertyBreakdowns: boolean }): [InsightKind, string][] {
  const out: [InsightKind, string][] = [];
  const url = typeof e.props?.url === 'string' ? e.props.url : '';
  if (e.name === 'outbound') out.push(['outbound', url || '(unknown)']);
  else if (e.name === 'download') out.push(['download', url || '(unknown)']);
  else if (e.name === '404') {
    const path = typeof e.props?.path === 'string' ? e.props.path : e.path;
    out.push(['404', path], ['404_referrer', `${path}\u001f${e.referrerHost ?? NO_REFERRER}`]);
  } else if (e.name === 'engagement') out.push(['engagement', e.path]);
  else if (!AUTOMATIC_EVENTS.has(e.name)) {
    out.push(['event', e.name]);
    if (opts.propertyBreakdowns)
      for (const [k, v] of Object.entries(e.props ?? {})) out.push(['prop', propValueKey(e.name, k, String(v))]);
  }
  return out;
}

function capped(acc: InsightStats, kind: string, value: string): string {
  const key = insightKey(kind, value);
  if (acc.cells.has(key)) return key;
  if ((acc.perKind.get(kind) ?? 0) >= INSIGHT_CAPS.valuesPerKind)
    return insightKey(kind, kind === 'prop' ? propValueKey(OTHER, OTHER, OTHER) : OTHER);
  if (kind === 'prop') {
    // Values of one property key of one event: past the cap they fold into that key's "(other)".
    const [name, k] = value.split('\u001f') as [string, string];
    const group = `prop\u001f${name}\u001f${k}`;
    if ((acc.perKind.get(group) ?? 0) >= INSIGHT_CAPS.valuesPerProperty)
      return insightKey(kind, propValueKey(name, k, OTHER));
  }
  return key;
}

function cellOf(acc: InsightStats, kind: string, value: string): InsightCell {
  const key = capped(acc, kind, value);
  let c = acc.cells.get(key);
  if (!c) {
    c = { count: 0, visitors: new HyperLogLog(INSIGHT_SKETCH_PRECISION), visibleMs: 0, scroll: 0, scrollSamples: 0 };
    acc.cells.set(key, c);
    count(acc, key, 1);
  }
  return c;
}

function count(acc: InsightStats, key: string, n: number): void {
  const [kind, value] = splitInsightKey(key);
  acc.perKind.set(kind, (acc.perKind.get(kind) ?? 0) + n);
  if (kind === 'prop') {
    const [name, k] = value.split('\u001f');
    const group = `prop\u001f${name}\u001f${k}`;
    acc.perKind.set(group, (acc.perKind.get(group) ?? 0) + n);
  }
}

export function insightStatsAggregate(opts: {
  propertyBreakdowns: boolean;
}): Aggregate<EventRecord, InsightStats, InsightStats> {
  return {
    create: () => ({ cells: new Map(), perKind: new Map() }),
    add(acc, e) {
      for (const [kind, value] of insightsOf(e, opts)) {
        const c = cellOf(acc, kind, value);
        c.count++;
        c.visitors.add(e.visitorId);
        if (kind === 'engagement' && e.engagement) {
          c.visibleMs += Math.max(0, Math.min(e.engagement.visibleMs, DAY));
          c.scroll += Math.max(0, Math.min(e.engagement.scrollDepth, 100));
          c.scrollSamples++;
        }
      }
      return acc;
    },
    merge(into, other) {
      for (const [key, o] of other.cells) {
        const [kind, value] = splitInsightKey(key);
        const c = cellOf(into, kind, value);
        c.count += o.count;
        c.visitors.merge(o.visitors);
        c.visibleMs += o.visibleMs;
        c.scroll += o.scroll;
        c.scrollSamples += o.scrollSamples;
      }
      return into;
    },
    result(acc) {
      const cells = new Map<string, InsightCell>();
      for (const [k, c] of acc.cells) cells.set(k, { ...c, visitors: c.visitors.clone() });
      return { cells, perKind: new Map(acc.perKind) };
    },
    toJSON: (acc) =>
      [...acc.cells].map(([k, c]) => [k, c.count, c.visibleMs, c.scroll, c.scrollSamples, c.visitors.toJSON()]),
    fromJSON(json) {
      const acc: InsightStats = { cells: new Map(), perKind: new Map() };
      for (const [i, entry] of asArray(json, 'insight stats').entries()) {
        const cell = asArray(entry, `insight stats[${i}]`);
        const k = cell[0];
        if (typeof k !== 'string') throw new TypeError(`snapshot: insight stats[${i}][0] must be a string`);
        const [n, vis, scroll, samples] = [1, 2, 3, 4].map((c) => asNumber(cell[c], `insight stats[${i}][${c}]`)) as [
          number,
          number,
          number,
          number,
        ];
        acc.cells.set(k, {
          count: n,
          visibleMs: vis,
          scroll,
          scrollSamples: samples,
          visitors: HyperLogLog.fromJSON(cell[5] ?? null),
        });
        count(acc, k, 1);
      }
      return acc;
    },
  };
}
