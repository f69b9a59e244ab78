import { describe, expect, it } from 'vitest';
import type { EventRecord } from '@/lib/events/record';
import type { Json } from '@/lib/stream';
import { sessionStatsAggregate, visitAttribution, type SessionStats } from './session-stats';

// A visit's source and entry page are its landing's (its first pageview), its device and country
// its first event's; fixed instants, no clock.

const T = Date.parse('2026-03-10T14:00:00Z');
const MIN = 60_000;

const event = (over: Partial<EventRecord>): EventRecord => ({
  v: 1,
  eventId: `e${Math.random()}`,
  siteId: '00000000-0000-4000-8000-000000000000',
  visitorId: 'v',
  name: 'pageview',
  url: 'https://s.test/',
  hostname: 's.test',
  path: '/',
  channel: 'direct',
  device: 'desktop',
  browser: 'Firefox',
  os: 'Linux',
  ts: T,
  ...over,
});

const ping = event({
  name: 'engagement',
  path: '/docs',
  engagement: { visibleMs: 3000, scrollDepth: 20 },
  device: 'mobile',
});
const landing = event({ path: '/pricing', channel: 'search', referrerHost: 'www.google.com', ts: T + 2 * MIN });
const inside = event({ path: '/signup', channel: 'internal', ts: T + 3 * MIN });

function run(events: EventRecord[]): SessionStats {
  const agg = sessionStatsAggregate();
  return events.reduce((acc, e) => agg.add(acc, e), agg.create());
}

describe('visit attribution', () => {
  it('a visit opened by an engagement ping takes its source and entry page from the first pageview, its device from the first event', () => {
    const a = visitAttribution(run([ping, landing, inside]));
    expect([a.path, a.channel, a.referrerHost, a.device]).toEqual(['/pricing', 'search', 'www.google.com', 'mobile']);
  });

  it('whatever order the events arrive in, and when a late event merges two windows', () => {
    const agg = sessionStatsAggregate();
    expect(visitAttribution(run([inside, landing, ping])).path).toBe('/pricing');
    const merged = agg.merge(run([inside]), run([ping, landing]));
    expect(visitAttribution(merged).referrerHost).toBe('www.google.com');
  });

  it('without a pageview, the first event is all there is', () => {
    expect(visitAttribution(run([ping])).path).toBe('/docs');
  });

  it('survives its snapshot; a snapshot from before landings keeps its first event as the landing', () => {
    const agg = sessionStatsAggregate();
    const s = run([ping, landing]);
    expect(visitAttribution(agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(s))) as Json))).toEqual(
      visitAttribution(s),
    );
    // An open visit written by the previous version: first event "/" from a newsletter, 1 pageview.
    const old = JSON.parse(
      JSON.stringify(agg.toJSON(run([event({ channel: 'email', referrerHost: 'newsletter.test' })]))),
    ) as Record<string, Json>;
    delete old.landing;
    delete old.landingTs;
    const restored = agg.add(agg.fromJSON(old), inside);
    expect([visitAttribution(restored).path, visitAttribution(restored).channel]).toEqual(['/', 'email']);
  });

  it('its checkpoint form: a landing that is the first event is written once, nulls left out; every form restores exactly', () => {
    const agg = sessionStatsAggregate();
    const roundTrip = (x: SessionStats) => agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(x))) as Json);
    const landedFirst = run([landing, inside]); // the landing pageview is the first event
    const pingFirst = run([ping, landing, inside]); // an engagement ping before the landing
    const noPageview = run([ping]);
    const utm = run([event({ utm: { source: 'news', medium: 'email', campaign: 'dec' }, country: 'DE' })]);
    for (const x of [landedFirst, pingFirst, noPageview, utm]) expect(roundTrip(x)).toEqual(x);
    const json = (x: SessionStats) => agg.toJSON(x) as Record<string, Json>;
    expect(json(landedFirst).landing).toBe('first');
    expect(json(utm).landing).toBe('first');
    expect(json(pingFirst).landing).toMatchObject({ path: '/pricing', referrerHost: 'www.google.com' });
    expect(json(noPageview).landing).toBeNull();
    expect(json(landedFirst).first).not.toHaveProperty('utmSource');
    // The same landing at another time than the first event is not "first".
    const later = { ...landedFirst, firstTs: landedFirst.firstTs - 1 };
    expect(json(later).landing).not.toBe('first');
    expect(roundTrip(later)).toEqual(later);
    // The full form written before (every key, the landing copied out) still restores.
    const full = JSON.parse(
      JSON.stringify({ ...landedFirst, first: { ...landedFirst.first }, landing: { ...landedFirst.landing! } }),
    ) as Json;
    expect(agg.fromJSON(full)).toEqual(landedFirst);
    // What it saves for an open visit of the common kind (pageviews only, no UTM).
    expect(JSON.stringify(agg.toJSON(landedFirst)).length).toBeLessThan(0.6 * JSON.stringify(full).length);
  });
});
