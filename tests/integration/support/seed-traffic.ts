import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { HyperLogLog, type Json } from '@/lib/stream';
import { zonedMidnight, localDate } from '@/lib/analytics/time-zone';
import { backfillFacts } from '@/lib/analytics/fact-backfill';
import type { Dimension } from '@/lib/analytics/dimensions';
import {
  EVENT_SPECS,
  NO_COUNTRY,
  NO_REFERRER,
  VISIT_SPECS,
  type DimensionSpec,
} from '@/lib/analytics/dimension-registry';

// Synthetic traffic for the dashboard tests: raw events (the archive the filtered views read)
// and the rollups the workers would derive from them, with the workers' semantics
// (workers/rollups/minute-stats.ts, workers/sessions): event dimensions carry pageviews, custom
// events and a visitor sketch; a visit's sessions, bounces and duration go to its start bucket
// and its entry dimensions; minute and hour buckets are UTC-aligned, day buckets start at the
// site's local midnight; rows are split by source partition. Deterministic for a given seed.

export interface SeedEvent {
  eventId: string;
  visitorId: string;
  ts: number;
  name: string;
  path: string;
  referrerHost?: string;
  channel: string;
  country?: string;
  device: string;
  browser: string;
  os: string;
  utm?: { source?: string; medium?: string; campaign?: string };
  visibleMs?: number;
}

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

const PAGES = ['/', '/pricing', '/blog/hello', '/blog/streams', '/docs', '/docs/install', '/about'];
const SOURCES: { referrerHost?: string; channel: string; utm?: SeedEvent['utm'] }[] = [
  { channel: 'direct' },
  { referrerHost: 'www.google.com', channel: 'search' },
  { referrerHost: 'news.ycombinator.com', channel: 'social' },
  {
    referrerHost: 'newsletter.example',
    channel: 'email',
    utm: { source: 'newsletter', medium: 'email', campaign: 'launch' },
  },
];
const COUNTRIES = ['DE', 'US', 'IN', 'FR', undefined];
const DEVICES: [string, string, string][] = [
  ['desktop', 'Chrome', 'Linux'],
  ['mobile', 'Safari', 'iOS'],
  ['desktop', 'Firefox', 'Windows'],
  ['tablet', 'Chrome', 'Android'],
];

/**
 * Visitors with 1–3 visits each on the given local days (between 08:00 and 20:00 local), each
 * visit 1–5 pageviews a few minutes apart, sometimes an engagement or a custom event.
 */
export function generateTraffic(opts: {
  seed: number;
  days: string[];
  timezone: string;
  visitorsPerDay: number;
}): SeedEvent[] {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const events: SeedEvent[] = [];
  for (const day of opts.days) {
    const midnight = zonedMidnight(day, opts.timezone);
    for (let v = 0; v < opts.visitorsPerDay; v++) {
      const visitorId = `v-${day}-${v}`;
      const [device, browser, os] = pick(DEVICES);
      const country = pick(COUNTRIES);
      const visits = 1 + Math.floor(rnd() * 3);
      let t = midnight + (8 * 60 + Math.floor(rnd() * 8 * 60)) * 60_000;
      for (let s = 0; s < visits; s++) {
        const source = pick(SOURCES);
        const pageviews = 1 + Math.floor(rnd() ** 2 * 5);
        for (let p = 0; p < pageviews; p++) {
          const first = p === 0;
          events.push({
            eventId: randomUUID(),
            visitorId,
            ts: t,
            name: 'pageview',
            path: first && rnd() < 0.5 ? '/' : pick(PAGES),
            ...(first ? source : { channel: 'internal' }),
            country,
            device,
            browser,
            os,
          });
          if (rnd() < 0.3)
            events.push({
              ...events[events.length - 1]!,
              eventId: randomUUID(),
              ts: t + 20_000,
              name: 'engagement',
              visibleMs: Math.floor(rnd() * 30_000),
            });
          if (rnd() < 0.05)
            events.push({ ...events[events.length - 1]!, eventId: randomUUID(), ts: t + 25_000, name: 'signup' });
          t += 30_000 + Math.floor(rnd() * 4 * 60_000);
        }
        // The next visit starts after more than the 30-minute gap.
        t += (45 + Math.floor(rnd() * 90)) * 60_000;
      }
    }
  }
  return events.sort((a, b) => a.ts - b.ts);
}

interface RollupCell {
  granularity: 'minute' | 'hour' | 'day';
  bucket: number;
  dimension: string;
  value: string;
  partition: number;
  pageviews: number;
  events: number;
  visitors: HyperLogLog | null;
  sessions: number;
  bounces: number;
  durationMs: number;
  visitPageviews: number;
}

/**
 * The totals cell and one cell per dimension with a value. The values are the oracle's own reading
 * (an independent check of the jobs'); the dimensions and empty labels are the registry's.
 */
function cellsOf(dims: readonly DimensionSpec[], values: Partial<Record<Dimension, string>>): [string, string][] {
  return [['', ''], ...dims.flatMap((d): [string, string][] => (values[d.name] ? [[d.name, values[d.name]!]] : []))];
}

/** An event's own values, as the oracle reads them. */
function ownValues(e: SeedEvent): Partial<Record<Dimension, string>> {
  // Navigations inside the site are no source: not a referrer, not a channel.
  const source = e.channel !== 'internal';
  return {
    page: e.path,
    referrer: source ? (e.referrerHost ?? NO_REFERRER) : undefined,
    channel: source ? e.channel : undefined,
    utm_source: e.utm?.source,
    utm_medium: e.utm?.medium,
    utm_campaign: e.utm?.campaign,
    country: e.country ?? NO_COUNTRY,
    device: e.device,
    browser: e.browser,
    os: e.os,
  };
}

const partitionOf = (visitorId: string, partitions: number) =>
  [...visitorId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % partitions;

export function rollupsOf(events: SeedEvent[], timezone: string, gapMinutes: number, partitions = 3): RollupCell[] {
  const cells = new Map<string, RollupCell>();
  const dayStart = new Map<string, number>();
  const localDay = (ts: number) => {
    const d = localDate(ts, timezone);
    if (!dayStart.has(d)) dayStart.set(d, zonedMidnight(d, timezone));
    return dayStart.get(d)!;
  };
  const cell = (g: RollupCell['granularity'], bucket: number, dimension: string, value: string, partition: number) => {
    const k = `${g}|${bucket}|${dimension}|${value}|${partition}`;
    let c = cells.get(k);
    if (!c)
      cells.set(
        k,
        (c = {
          granularity: g,
          bucket,
          dimension,
          value,
          partition,
          pageviews: 0,
          events: 0,
          visitors: null,
          sessions: 0,
          bounces: 0,
          durationMs: 0,
          visitPageviews: 0,
        }),
      );
    return c;
  };
  const buckets = (ts: number): [RollupCell['granularity'], number][] => [
    ['minute', Math.floor(ts / 60_000) * 60_000],
    ['hour', Math.floor(ts / 3_600_000) * 3_600_000],
    ['day', localDay(ts)],
  ];
  for (const e of events) {
    const part = partitionOf(e.visitorId, partitions);
    const dims = cellsOf(EVENT_SPECS, ownValues(e));
    for (const [g, b] of buckets(e.ts)) {
      for (const [d, v] of dims) {
        const c = cell(g, b, d, v, part);
        if (e.name === 'pageview') c.pageviews++;
        else if (e.name !== 'engagement') c.events++;
        (c.visitors ??= new HyperLogLog(14)).add(e.visitorId);
      }
    }
  }
  // Visits: the sessions job's attribution.
  const byVisitor = new Map<string, SeedEvent[]>();
  for (const e of events) byVisitor.set(e.visitorId, [...(byVisitor.get(e.visitorId) ?? []), e]);
  for (const [visitorId, list] of byVisitor) {
    const part = partitionOf(visitorId, partitions);
    let session: SeedEvent[] = [];
    const flush = () => {
      if (!session.length) return;
      const first = session[0]!;
      const last = session[session.length - 1]!;
      const pageviews = session.filter((e) => e.name === 'pageview').length;
      const custom = session.filter((e) => e.name !== 'pageview' && e.name !== 'engagement').length;
      const engaged = session.reduce((n, e) => n + (e.name === 'engagement' ? (e.visibleMs ?? 0) : 0), 0);
      const bounce = pageviews <= 1 && custom === 0 && engaged < 10_000;
      // Engagement pings alone are no visit (the sessions job's rule).
      if (pageviews === 0 && custom === 0) {
        session = [];
        return;
      }
      // Its first event's values (a generated visit never begins with a navigation inside the site), entry and exit page.
      const dims = cellsOf(VISIT_SPECS, { ...ownValues(first), entry_page: first.path, exit_page: last.path });
      for (const [g, b] of buckets(first.ts)) {
        for (const [d, v] of dims) {
          const c = cell(g, b, d, v, part);
          c.sessions++;
          c.bounces += bounce ? 1 : 0;
          c.durationMs += last.ts - first.ts;
          c.visitPageviews += pageviews;
        }
      }
      session = [];
    };
    for (const e of list) {
      if (session.length && e.ts - session[session.length - 1]!.ts > gapMinutes * 60_000) flush();
      session.push(e);
    }
    flush();
  }
  return [...cells.values()];
}

/** The visits of the traffic as the sessions job would store them (`sessions` rows). */
export function visitsOf(events: SeedEvent[], gapMinutes: number): SeedEvent[][] {
  const byVisitor = new Map<string, SeedEvent[]>();
  for (const e of events) byVisitor.set(e.visitorId, [...(byVisitor.get(e.visitorId) ?? []), e]);
  const visits: SeedEvent[][] = [];
  for (const list of byVisitor.values()) {
    let session: SeedEvent[] = [];
    // Engagement pings alone are no visit (the sessions job's rule).
    const isVisit = (v: SeedEvent[]) => v.some((e) => e.name !== 'engagement');
    for (const e of list) {
      if (session.length && e.ts - session[session.length - 1]!.ts > gapMinutes * 60_000) {
        if (isVisit(session)) visits.push(session);
        session = [];
      }
      session.push(e);
    }
    if (session.length && isVisit(session)) visits.push(session);
  }
  return visits;
}

/**
 * Events (archive), rollups, the visits (`sessions`) and the facts filtered views read — the facts
 * through lib/analytics/fact-backfill.ts, which derives them as the jobs do.
 */
export async function insertTraffic(
  db: pg.Pool,
  siteId: string,
  events: SeedEvent[],
  cells: RollupCell[],
  gapMinutes = 30,
): Promise<void> {
  const visits = visitsOf(events, gapMinutes);
  for (let i = 0; i < visits.length; i += 2000) {
    const chunk = visits.slice(i, i + 2000).map((v) => {
      const first = v[0]!;
      const last = v[v.length - 1]!;
      const pageviews = v.filter((e) => e.name === 'pageview').length;
      const custom = v.filter((e) => e.name !== 'pageview' && e.name !== 'engagement').length;
      const engaged = v.reduce((n, e) => n + (e.name === 'engagement' ? (e.visibleMs ?? 0) : 0), 0);
      return { first, last, pageviews, custom, engaged, bounce: pageviews <= 1 && custom === 0 && engaged < 10_000 };
    });
    await db.query(
      `INSERT INTO sessions (site_id, visitor_id, started_at, ended_at, duration_ms, pageviews, events, engaged_ms, entry_path, exit_path, bounce, channel,
         referrer_host, utm_source, utm_medium, utm_campaign, device, browser, os, country, source_partition)
       SELECT $1, u.visitor, u.started, u.ended, u.dur, u.pv, u.ev, u.eng, u.entry, u.exit, u.bounce, u.channel, u.ref, u.us, u.um, u.uc, u.device, u.browser, u.os, u.country, 0
         FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::int[], $7::int[], $8::int[], $9::text[], $10::text[], $11::bool[], $12::text[],
                     $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
           AS u(visitor, started, ended, dur, pv, ev, eng, entry, exit, bounce, channel, ref, us, um, uc, device, browser, os, country)`,
      [
        siteId,
        chunk.map((v) => v.first.visitorId),
        chunk.map((v) => new Date(v.first.ts).toISOString()),
        chunk.map((v) => new Date(v.last.ts).toISOString()),
        chunk.map((v) => v.last.ts - v.first.ts),
        chunk.map((v) => v.pageviews),
        chunk.map((v) => v.custom),
        chunk.map((v) => v.engaged),
        chunk.map((v) => v.first.path),
        chunk.map((v) => v.last.path),
        chunk.map((v) => v.bounce),
        chunk.map((v) => (v.first.channel === 'internal' ? 'direct' : v.first.channel)),
        chunk.map((v) => (v.first.channel === 'internal' ? null : (v.first.referrerHost ?? null))),
        chunk.map((v) => v.first.utm?.source ?? null),
        chunk.map((v) => v.first.utm?.medium ?? null),
        chunk.map((v) => v.first.utm?.campaign ?? null),
        chunk.map((v) => v.first.device),
        chunk.map((v) => v.first.browser),
        chunk.map((v) => v.first.os),
        chunk.map((v) => v.first.country ?? null),
      ],
    );
  }
  await insertArchive(db, siteId, events, cells);
  await backfillFacts(db, siteId);
}

async function insertArchive(db: pg.Pool, siteId: string, events: SeedEvent[], cells: RollupCell[]): Promise<void> {
  for (let i = 0; i < events.length; i += 2000) {
    const chunk = events.slice(i, i + 2000);
    await db.query(
      `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record)
       SELECT u.id, $1, u.visitor, u.name, u.url, u.ts, u.record
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[]) AS u(id, visitor, name, url, ts, record)`,
      [
        siteId,
        chunk.map((e) => e.eventId),
        chunk.map((e) => e.visitorId),
        chunk.map((e) => e.name),
        chunk.map((e) => `https://shop.example${e.path}`),
        chunk.map((e) => new Date(e.ts).toISOString()),
        chunk.map((e) =>
          JSON.stringify({
            v: 1,
            eventId: e.eventId,
            siteId,
            visitorId: e.visitorId,
            name: e.name,
            url: `https://shop.example${e.path}`,
            hostname: 'shop.example',
            path: e.path,
            referrerHost: e.referrerHost,
            channel: e.channel,
            utm: e.utm,
            device: e.device,
            browser: e.browser,
            os: e.os,
            country: e.country,
            engagement: e.name === 'engagement' ? { visibleMs: e.visibleMs ?? 0, scrollDepth: 50 } : undefined,
            ts: e.ts,
          }),
        ),
      ],
    );
  }
  for (let i = 0; i < cells.length; i += 2000) {
    const chunk = cells.slice(i, i + 2000);
    await db.query(
      `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events, visitors, sessions, bounces, duration_ms, visit_pageviews, updated_at)
       SELECT $1, u.g::"Granularity", u.b, u.d, u.v, u.p, u.pv, u.ev, u.vis, u.s, u.bo, u.du, u.vp, least(now(), u.b + interval '1 day')
         FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::jsonb[], $10::int[], $11::int[], $12::bigint[], $13::int[])
           AS u(g, b, d, v, p, pv, ev, vis, s, bo, du, vp)`,
      [
        siteId,
        chunk.map((c) => c.granularity),
        chunk.map((c) => new Date(c.bucket).toISOString()),
        chunk.map((c) => c.dimension),
        chunk.map((c) => c.value),
        chunk.map((c) => c.partition),
        chunk.map((c) => c.pageviews),
        chunk.map((c) => c.events),
        chunk.map((c) => (c.visitors ? JSON.stringify(c.visitors.toJSON() as unknown as Json) : null)),
        chunk.map((c) => c.sessions),
        chunk.map((c) => c.bounces),
        chunk.map((c) => c.durationMs),
        chunk.map((c) => c.visitPageviews),
      ],
    );
  }
}
