import { asNumber, asObject, type Aggregate, type Json } from '@/lib/stream';
import type { EventRecord } from '@/lib/events/record';

// What a visit adds up to. Mergeable: a late event can join or bridge sessions, and the
// library merges their accumulators.

// Type aliases, not interfaces: plain JSON-shaped objects, so the accumulator encodes without a cast.
export type SessionAttribution = {
  path: string;
  channel: string;
  referrerHost: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  device: string;
  browser: string;
  os: string;
  country: string | null;
};

export type SessionStats = {
  firstTs: number;
  /** Source, landing page and device come from the first event of the visit. */
  first: SessionAttribution;
  lastTs: number;
  exitPath: string;
  pageviews: number;
  events: number;
  engagedMs: number;
};

/** A visit with at most one pageview, no custom event and under 10 s of visible time is a bounce. */
export const ENGAGED_THRESHOLD_MS = 10_000;

export function isBounce(s: SessionStats): boolean {
  return s.pageviews <= 1 && s.events === 0 && s.engagedMs < ENGAGED_THRESHOLD_MS;
}

function attribution(e: EventRecord): SessionAttribution {
  // A visit that starts with a navigation inside the site (a tab left open past the gap) came
  // from nowhere new: direct, as the dashboard's filtered views count it too.
  const internal = e.channel === 'internal';
  return {
    path: e.path,
    channel: internal ? 'direct' : e.channel,
    referrerHost: internal ? null : (e.referrerHost ?? null),
    utmSource: e.utm?.source ?? null,
    utmMedium: e.utm?.medium ?? null,
    utmCampaign: e.utm?.campaign ?? null,
    device: e.device,
    browser: e.browser,
    os: e.os,
    country: e.country ?? null,
  };
}

const EMPTY: SessionStats = {
  firstTs: Number.POSITIVE_INFINITY,
  first: {
    path: '/',
    channel: 'direct',
    referrerHost: null,
    utmSource: null,
    utmMedium: null,
    utmCampaign: null,
    device: 'other',
    browser: 'Unknown',
    os: 'Unknown',
    country: null,
  },
  lastTs: Number.NEGATIVE_INFINITY,
  exitPath: '/',
  pageviews: 0,
  events: 0,
  engagedMs: 0,
};

export function sessionStatsAggregate(): Aggregate<EventRecord, SessionStats, SessionStats> {
  return {
    create: () => ({ ...EMPTY, first: { ...EMPTY.first } }),
    add(acc, e) {
      if (e.ts < acc.firstTs) {
        acc.firstTs = e.ts;
        acc.first = attribution(e);
      }
      if (e.ts >= acc.lastTs) {
        acc.lastTs = e.ts;
        acc.exitPath = e.path;
      }
      if (e.name === 'pageview') acc.pageviews++;
      else if (e.name === 'engagement') acc.engagedMs += e.engagement?.visibleMs ?? 0;
      else acc.events++;
      return acc;
    },
    merge(into, other) {
      if (other.firstTs < into.firstTs) {
        into.firstTs = other.firstTs;
        into.first = { ...other.first };
      }
      if (other.lastTs >= into.lastTs) {
        into.lastTs = other.lastTs;
        into.exitPath = other.exitPath;
      }
      into.pageviews += other.pageviews;
      into.events += other.events;
      into.engagedMs += other.engagedMs;
      return into;
    },
    result: (acc) => ({ ...acc, first: { ...acc.first } }),
    toJSON: (acc) => ({ ...acc, first: { ...acc.first } }),
    fromJSON: decodeSessionStats,
  };
}

function decodeSessionStats(json: Json): SessionStats {
  const j = asObject(json, 'session stats');
  const f = asObject(j.first, 'session stats.first');
  const text = (x: Json | undefined, path: string): string => {
    if (typeof x !== 'string') throw new TypeError(`snapshot: ${path} must be a string`);
    return x;
  };
  const maybe = (x: Json | undefined, path: string): string | null =>
    x === null || x === undefined ? null : text(x, path);
  return {
    firstTs: asNumber(j.firstTs, 'session stats.firstTs'),
    first: {
      path: text(f.path, 'first.path'),
      channel: text(f.channel, 'first.channel'),
      referrerHost: maybe(f.referrerHost, 'first.referrerHost'),
      utmSource: maybe(f.utmSource, 'first.utmSource'),
      utmMedium: maybe(f.utmMedium, 'first.utmMedium'),
      utmCampaign: maybe(f.utmCampaign, 'first.utmCampaign'),
      device: text(f.device, 'first.device'),
      browser: text(f.browser, 'first.browser'),
      os: text(f.os, 'first.os'),
      country: maybe(f.country, 'first.country'),
    },
    lastTs: asNumber(j.lastTs, 'session stats.lastTs'),
    exitPath: text(j.exitPath, 'session stats.exitPath'),
    pageviews: asNumber(j.pageviews, 'session stats.pageviews'),
    events: asNumber(j.events, 'session stats.events'),
    engagedMs: asNumber(j.engagedMs, 'session stats.engagedMs'),
  };
}
