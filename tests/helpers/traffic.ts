import { randomUUID } from 'node:crypto';
import { localDate } from '@/lib/analytics/time-zone';
import type { EventRecordInput } from '@/lib/events/record';

// A seeded traffic generator and the ground truth computed independently from what it made.

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedEvent extends EventRecordInput {
  eventId: string;
  siteId: string;
  visitorId: string;
  ts: number;
  name: string;
  path: string;
}

const PATHS = ['/', '/pricing', '/blog/one', '/blog/two', '/docs/start', '/docs/api', '/about'];

/**
 * Visits of `visitors` visitors on `sites`, starting at `start`: each visitor makes 1–3 visits
 * separated by more than `gapMs`, each of 1–6 events at most `gapMs / 2` apart.
 */
export function generateVisits(opts: {
  seed: number;
  sites: string[];
  visitors: number;
  start: number;
  spanMs: number;
  gapMs: number;
}): GeneratedEvent[] {
  const r = rng(opts.seed);
  const out: GeneratedEvent[] = [];
  for (let v = 0; v < opts.visitors; v++) {
    const siteId = opts.sites[v % opts.sites.length]!;
    const visitorId = `visitor-${opts.seed}-${v}`;
    let t = opts.start + Math.floor(r() * opts.spanMs);
    const visits = 1 + Math.floor(r() * 3);
    for (let s = 0; s < visits; s++) {
      const n = 1 + Math.floor(r() * 6);
      for (let i = 0; i < n; i++) {
        const path = PATHS[Math.floor(r() * PATHS.length)]!;
        const name = r() < 0.85 ? 'pageview' : r() < 0.5 ? 'signup' : 'engagement';
        out.push({
          v: 1,
          eventId: randomUUID(),
          siteId,
          visitorId,
          name,
          url: `https://shop.test${path}`,
          hostname: 'shop.test',
          path,
          channel: i === 0 && r() < 0.3 ? 'search' : 'direct',
          device: r() < 0.3 ? 'mobile' : 'desktop',
          browser: 'Chrome',
          os: 'Linux',
          engagement: name === 'engagement' ? { visibleMs: Math.floor(r() * 20_000), scrollDepth: 50 } : undefined,
          ts: t,
          receivedAt: t,
        });
        t += 1000 + Math.floor(r() * (opts.gapMs / 2));
      }
      t += opts.gapMs + 60_000 + Math.floor(r() * opts.gapMs);
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/** Shuffles within a bounded delay: each event moves at most `maxDelayMs` behind its event time. */
export function outOfOrder<T extends { ts: number }>(events: T[], maxDelayMs: number, seed: number): T[] {
  const r = rng(seed);
  return events
    .map((e) => ({ e, arrival: e.ts + Math.floor(r() * maxDelayMs) }))
    .sort((a, b) => a.arrival - b.arrival)
    .map((x) => x.e);
}

export const MINUTE = 60_000;

export function truthPerMinute(events: GeneratedEvent[]): Map<string, { pageviews: number; events: number }> {
  const m = new Map<string, { pageviews: number; events: number }>();
  for (const e of events) {
    const k = `${e.siteId}|${Math.floor(e.ts / MINUTE) * MINUTE}`;
    const v = m.get(k) ?? { pageviews: 0, events: 0 };
    if (e.name === 'pageview') v.pageviews++;
    else if (e.name !== 'engagement') v.events++;
    m.set(k, v);
  }
  return m;
}

export interface TruthSession {
  siteId: string;
  visitorId: string;
  start: number;
  end: number;
  pageviews: number;
  events: number;
  entryPath: string;
  exitPath: string;
}

/**
 * Sessions by definition: consecutive events of a visitor at most `gapMs` apart share a session,
 * and a session is a visit once it has a pageview or a custom event (engagement pings alone are none).
 * Its entry page is its landing's — the first pageview — or its first event's without one.
 */
export function truthSessions(events: GeneratedEvent[], gapMs: number): TruthSession[] {
  const byVisitor = new Map<string, GeneratedEvent[]>();
  for (const e of events) {
    const k = `${e.siteId}|${e.visitorId}`;
    byVisitor.set(k, [...(byVisitor.get(k) ?? []), e]);
  }
  const out: TruthSession[] = [];
  for (const list of byVisitor.values()) {
    list.sort((a, b) => a.ts - b.ts);
    let cur: TruthSession | null = null;
    let landed = false;
    for (const e of list) {
      if (!cur || e.ts - cur.end > gapMs) {
        landed = false;
        if (cur && (cur.pageviews || cur.events)) out.push(cur);
        cur = {
          siteId: e.siteId,
          visitorId: e.visitorId,
          start: e.ts,
          end: e.ts,
          pageviews: 0,
          events: 0,
          entryPath: e.path,
          exitPath: e.path,
        };
      }
      cur.end = e.ts;
      cur.exitPath = e.path;
      if (e.name === 'pageview' && !landed) {
        cur.entryPath = e.path;
        landed = true;
      }
      if (e.name === 'pageview') cur.pageviews++;
      else if (e.name !== 'engagement') cur.events++;
    }
    if (cur && (cur.pageviews || cur.events)) out.push(cur);
  }
  return out;
}

/** The busiest sliding window per site (pageviews), by brute force over every window start. */
export function truthPeak(events: GeneratedEvent[], siteId: string, sizeMs: number, slideMs: number): number {
  const ts = events.filter((e) => e.siteId === siteId && e.name === 'pageview').map((e) => e.ts);
  if (ts.length === 0) return 0;
  let best = 0;
  const first = Math.floor((Math.min(...ts) - sizeMs) / slideMs) * slideMs;
  for (let s = first; s <= Math.max(...ts); s += slideMs) {
    const n = ts.filter((t) => t >= s && t < s + sizeMs).length;
    best = Math.max(best, n);
  }
  return best;
}

/**
 * What the peaks job keeps in peak_windows for a site: the busiest sliding window of each local
 * day (the day of the window's start, in `timeZone`), by brute force over every window start.
 * Days whose windows hold no pageview are left out.
 */
export function truthPeaksByDay(
  events: GeneratedEvent[],
  siteId: string,
  sizeMs: number,
  slideMs: number,
  timeZone: string,
): Map<string, number> {
  const ts = events.filter((e) => e.siteId === siteId && e.name === 'pageview').map((e) => e.ts);
  const out = new Map<string, number>();
  if (ts.length === 0) return out;
  const first = Math.floor((Math.min(...ts) - sizeMs) / slideMs) * slideMs;
  for (let s = first; s <= Math.max(...ts); s += slideMs) {
    const n = ts.filter((t) => t >= s && t < s + sizeMs).length;
    const day = localDate(s, timeZone);
    if (n > 0) out.set(day, Math.max(out.get(day) ?? 0, n));
  }
  return out;
}
