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
  /** Device, browser, OS and country come from the first event of the visit (see `visitAttribution`). */
  first: SessionAttribution;
  /** The visit's first pageview — its landing — and its time; null before one. */
  landingTs: number | null;
  landing: SessionAttribution | null;
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

/**
 * What a visit is attributed to: its source and entry page are its landing's — the first pageview
 * — when it has one (a visit opened by the engagement ping of a tab closed after the gap, then a
 * pageview from a search engine, came from the search engine, entered on that page); device,
 * browser, OS and country are its first event's. Without a pageview, all the first event's.
 */
export function visitAttribution(s: SessionStats): SessionAttribution {
  const l = s.landing;
  if (!l) return s.first;
  return {
    ...s.first,
    path: l.path,
    channel: l.channel,
    referrerHost: l.referrerHost,
    utmSource: l.utmSource,
    utmMedium: l.utmMedium,
    utmCampaign: l.utmCampaign,
  };
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
  landingTs: null,
  landing: null,
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
      if (e.name === 'pageview' && (acc.landingTs === null || e.ts < acc.landingTs)) {
        acc.landingTs = e.ts;
        acc.landing = attribution(e);
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
      if (other.landingTs !== null && (into.landingTs === null || other.landingTs < into.landingTs)) {
        into.landingTs = other.landingTs;
        into.landing = { ...other.landing! };
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
    result: (acc) => ({ ...acc, first: { ...acc.first }, landing: acc.landing && { ...acc.landing } }),
    toJSON: encodeSessionStats,
    fromJSON: decodeSessionStats,
  };
}

// Every field of an attribution, checked by the compiler both ways (a field added to the type
// and not here would be silently left out of checkpoints).
const ATTRIBUTION_FIELDS: Record<keyof SessionAttribution, true> = {
  path: true,
  channel: true,
  referrerHost: true,
  utmSource: true,
  utmMedium: true,
  utmCampaign: true,
  device: true,
  browser: true,
  os: true,
  country: true,
};
const ATTRIBUTION_KEYS = Object.keys(ATTRIBUTION_FIELDS) as (keyof SessionAttribution)[];

/** The attribution without its empty (null) values: decoding reads a missing one as null. */
function compactAttribution(a: SessionAttribution): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const k of ATTRIBUTION_KEYS) if (a[k] !== null) out[k] = a[k];
  return out;
}

/**
 * The checkpoint form. Every open visit is in the sessions job's checkpoint twice (its value and
 * what it last emitted), and the whole checkpoint is written with every batch, so its size is
 * what a batch costs as visits pile up (1.3 KB per open visit before this form, 538 B with it and
 * the operator's own, docs/SCALING.md). Most visits land with their first event, so the landing
 * is then written as "first" instead of a second copy of the same attribution, and null values
 * are left out.
 */
function encodeSessionStats(acc: SessionStats): Json {
  const sameAsFirst =
    acc.landing !== null &&
    acc.landingTs === acc.firstTs &&
    ATTRIBUTION_KEYS.every((k) => acc.landing![k] === acc.first[k]);
  return {
    firstTs: acc.firstTs,
    first: compactAttribution(acc.first),
    landingTs: acc.landingTs,
    landing: acc.landing === null ? null : sameAsFirst ? 'first' : compactAttribution(acc.landing),
    lastTs: acc.lastTs,
    exitPath: acc.exitPath,
    pageviews: acc.pageviews,
    events: acc.events,
    engagedMs: acc.engagedMs,
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
  const attributionOf = (a: Record<string, Json>, at: string): SessionAttribution => ({
    path: text(a.path, `${at}.path`),
    channel: text(a.channel, `${at}.channel`),
    referrerHost: maybe(a.referrerHost, `${at}.referrerHost`),
    utmSource: maybe(a.utmSource, `${at}.utmSource`),
    utmMedium: maybe(a.utmMedium, `${at}.utmMedium`),
    utmCampaign: maybe(a.utmCampaign, `${at}.utmCampaign`),
    device: text(a.device, `${at}.device`),
    browser: text(a.browser, `${at}.browser`),
    os: text(a.os, `${at}.os`),
    country: maybe(a.country, `${at}.country`),
  });
  const first = attributionOf(f, 'first');
  const firstTs = asNumber(j.firstTs, 'session stats.firstTs');
  const pageviews = asNumber(j.pageviews, 'session stats.pageviews');
  // A snapshot from before landings were kept (no `landing` key): a visit with pageviews keeps
  // its first event as its landing, as it was attributed — a later pageview must not become it.
  const legacy = !('landing' in j);
  const landing =
    j.landing === 'first'
      ? { ts: asNumber(j.landingTs, 'session stats.landingTs'), a: { ...first } }
      : j.landing !== undefined && j.landing !== null
        ? {
            ts: asNumber(j.landingTs, 'session stats.landingTs'),
            a: attributionOf(asObject(j.landing, 'session stats.landing'), 'landing'),
          }
        : legacy && pageviews > 0
          ? { ts: firstTs, a: { ...first } }
          : null;
  return {
    firstTs,
    first,
    landingTs: landing?.ts ?? null,
    landing: landing?.a ?? null,
    lastTs: asNumber(j.lastTs, 'session stats.lastTs'),
    exitPath: text(j.exitPath, 'session stats.exitPath'),
    pageviews,
    events: asNumber(j.events, 'session stats.events'),
    engagedMs: asNumber(j.engagedMs, 'session stats.engagedMs'),
  };
}
