// Rows the insights job writes per event with custom-event property breakdowns on
// (EVENT_PROPERTY_BREAKDOWNS=true, the default) vs off, side by side on the same traffic
// (`npm run bench -- event-cardinality`). Each minute window of each source partition writes one
// event_rollups row per distinct (kind, value) cell — and the same cells again into its hour and
// day rows — so cells per minute window ÷ events in it is the write amplification. Traffic: a
// shop's custom events (Signup {plan, seats, trial}, Purchase {sku, amount}, …) at a given rate
// per minute, 40 % of events custom, the rest pageviews/engagement/outbound. Also a flood of
// random property values to show the caps (100 values per key, 1,000 per kind) holding.
// Flags: --per-minute <n> events per minute window (default 2000). Last line: one JSON object.

import { randomUUID } from 'node:crypto';
import type { EventRecord } from '@/lib/events/record';
import { insightStatsAggregate } from '@/workers/insights/event-stats';
import { flag } from './support/args';

const PER_MINUTE = flag('per-minute', 2000, { integer: true });

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function minute(r: () => number, flood: boolean): EventRecord[] {
  const out: EventRecord[] = [];
  for (let i = 0; i < PER_MINUTE; i++) {
    const x = r();
    const base = {
      v: 1 as const,
      eventId: randomUUID(),
      siteId: 's',
      visitorId: `v${Math.floor(r() * PER_MINUTE)}`,
      url: 'https://s.test/',
      hostname: 's.test',
      path: `/p${Math.floor(r() * 50)}`,
      channel: 'direct' as const,
      device: 'desktop' as const,
      browser: 'Chrome',
      os: 'Linux',
      ts: i,
    };
    if (flood) out.push({ ...base, name: 'Search', props: { query: randomUUID(), page: Math.floor(r() * 5) } });
    else if (x < 0.2)
      out.push({
        ...base,
        name: 'Signup',
        props: {
          plan: ['free', 'pro', 'team'][Math.floor(r() * 3)]!,
          seats: 1 + Math.floor(r() * 20),
          trial: r() < 0.5,
        },
      });
    else if (x < 0.3)
      out.push({
        ...base,
        name: 'Purchase',
        props: { sku: `sku-${Math.floor(r() * 40)}`, amount: Math.floor(r() * 200) },
      });
    else if (x < 0.4) out.push({ ...base, name: 'Newsletter' });
    else if (x < 0.45)
      out.push({ ...base, name: 'outbound', props: { url: `https://partner${Math.floor(r() * 10)}.example/` } });
    else if (x < 0.6)
      out.push({
        ...base,
        name: 'engagement',
        engagement: { visibleMs: Math.floor(r() * 60_000), scrollDepth: Math.floor(r() * 100) },
      });
    else out.push({ ...base, name: 'pageview' });
  }
  return out;
}

function cells(events: EventRecord[], propertyBreakdowns: boolean): number {
  const agg = insightStatsAggregate({ propertyBreakdowns });
  let acc = agg.create();
  for (const e of events) acc = agg.add(acc, e);
  return acc.cells.size;
}

const shop = minute(prng(1), false);
const flood = minute(prng(2), true);
const on = cells(shop, true);
const off = cells(shop, false);
const floodOn = cells(flood, true);
// Three rows per cell: the minute row, and the hour and day rows it updates.
const perEvent = (n: number) => (3 * n) / PER_MINUTE;
console.log(`[event-cardinality] ${PER_MINUTE} events in one minute window, 40 % custom events with properties`);
console.log(
  `[event-cardinality] property breakdowns off: ${off} cells → ${perEvent(off).toFixed(3)} rows written per event (minute + hour + day)`,
);
console.log(
  `[event-cardinality] property breakdowns on:  ${on} cells → ${perEvent(on).toFixed(3)} rows written per event`,
);
console.log(
  `[event-cardinality] flood of ${PER_MINUTE} random property values: ${floodOn} cells (caps: 100 values per key, then (other))`,
);
console.log(`[event-cardinality] ratio (on ÷ off): ${(on / off).toFixed(1)}×`);
console.log(
  JSON.stringify({
    bench: 'event-cardinality',
    eventsPerMinute: PER_MINUTE,
    cellsOff: off,
    cellsOn: on,
    rowsPerEventOff: +perEvent(off).toFixed(4),
    rowsPerEventOn: +perEvent(on).toFixed(4),
    floodCells: floodOn,
    ratio: +(on / off).toFixed(2),
  }),
);
