import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../events/record';
import { DIMENSIONS, isEventDimension, isSessionDimension } from './dimensions';
import {
  dimensionSpec,
  eventDimensionValues,
  NO_COUNTRY,
  NO_REFERRER,
  visitDimensionValues,
  type VisitColumns,
} from './dimension-registry';

const event = (over: Partial<EventRecord>): EventRecord => ({
  v: 1,
  eventId: '00000000-0000-4000-8000-000000000000',
  siteId: '00000000-0000-4000-8000-000000000001',
  visitorId: 'v',
  name: 'pageview',
  url: 'https://shop.test/a',
  hostname: 'shop.test',
  path: '/a',
  channel: 'direct',
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  ts: 0,
  ...over,
});
const visit = (over: Partial<VisitColumns>): VisitColumns => ({
  entry_path: '/a',
  exit_path: '/b',
  channel: 'direct',
  referrer_host: null,
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  country: null,
  ...over,
});
const valuesOf = (pairs: [{ name: string }, string | null][]) => Object.fromEntries(pairs.map(([d, v]) => [d.name, v]));

describe('the dimension registry', () => {
  it('reads from events exactly the event dimensions, and from visits exactly the visit dimensions', () => {
    for (const d of DIMENSIONS) {
      expect(dimensionSpec(d).event !== null, d).toBe(isEventDimension(d));
      expect(dimensionSpec(d).visit !== null, d).toBe(isSessionDimension(d));
    }
  });

  it('gives a navigation inside the site no referrer and no channel, and an arrival without a referrer the direct label', () => {
    const internal = valuesOf(eventDimensionValues(event({ channel: 'internal', referrerHost: 'shop.test' })));
    expect(internal).toMatchObject({ page: '/a', referrer: null, channel: null });
    expect(valuesOf(eventDimensionValues(event({})))).toMatchObject({
      referrer: NO_REFERRER,
      channel: 'direct',
      country: NO_COUNTRY,
    });
    expect(
      valuesOf(eventDimensionValues(event({ channel: 'search', referrerHost: 'google.com', country: 'DE' }))),
    ).toMatchObject({ referrer: 'google.com', channel: 'search', country: 'DE' });
  });

  it('reads sources off landings only: an engagement ping or a custom event carries no referrer, so it has no source', () => {
    const landing = { channel: 'referral' as const, referrerHost: 'blog.test', utm: { source: 'newsletter' } };
    expect(valuesOf(eventDimensionValues(event(landing)))).toMatchObject({
      referrer: 'blog.test',
      channel: 'referral',
      utm_source: 'newsletter',
    });
    for (const name of ['engagement', 'signup']) {
      // As collect records them: no referrer sent, so "direct" — which is not where the visitor came from.
      const values = valuesOf(eventDimensionValues(event({ name, channel: 'direct', utm: { source: 'newsletter' } })));
      expect(values, name).toMatchObject({
        page: '/a',
        referrer: null,
        channel: null,
        utm_source: null,
        country: NO_COUNTRY,
      });
    }
  });

  it('counts an empty UTM value as no value, on events and on visits', () => {
    expect(valuesOf(eventDimensionValues(event({ utm: { source: '', medium: 'email' } })))).toMatchObject({
      utm_source: null,
      utm_medium: 'email',
      utm_campaign: null,
    });
    expect(valuesOf(visitDimensionValues(visit({ utm_source: '', utm_medium: 'email' })))).toMatchObject({
      utm_source: null,
      utm_medium: 'email',
      utm_campaign: null,
    });
  });

  it('labels a visit without a referrer or country as the events are labelled', () => {
    expect(valuesOf(visitDimensionValues(visit({})))).toEqual({
      entry_page: '/a',
      exit_page: '/b',
      referrer: NO_REFERRER,
      channel: 'direct',
      utm_source: null,
      utm_medium: null,
      utm_campaign: null,
      country: NO_COUNTRY,
      device: 'desktop',
      browser: 'Chrome',
      os: 'Linux',
    });
  });
});
