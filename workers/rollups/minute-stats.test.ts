import { describe, expect, it } from 'vitest';
import type { EventRecord } from '@/lib/events/record';
import { dimensionsOf } from './minute-stats';

// Sources are where visits come from (issue 12): an SPA's own navigations used to list the site
// as its second referrer and make "Internal" the top channel.

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

describe('rollup dimensions of an event', () => {
  it('give a navigation inside the site no referrer and no channel, and keep its page and visitor', () => {
    const dims = dimensionsOf({
      record: event({ channel: 'internal', referrer: 'https://shop.test/', referrerHost: 'shop.test' }),
      contentGroup: '',
    });
    expect(dims.map(([d]) => d)).not.toContain('referrer');
    expect(dims.map(([d]) => d)).not.toContain('channel');
    expect(dims).toContainEqual(['page', '/a']);
    expect(dims).toContainEqual(['', '']);
  });

  it('give an arrival from elsewhere its referrer and channel', () => {
    const dims = dimensionsOf({
      record: event({ channel: 'search', referrer: 'https://www.google.com/', referrerHost: 'google.com' }),
      contentGroup: '',
    });
    expect(dims).toContainEqual(['referrer', 'google.com']);
    expect(dims).toContainEqual(['channel', 'search']);
    expect(dimensionsOf({ record: event({}), contentGroup: '' })).toContainEqual(['referrer', '(direct)']);
  });

  it('count a server request (events API) only as a server request: no totals, page or visit dimension', () => {
    const dims = dimensionsOf({
      record: event({ name: 'request', path: '/api/orders', request: { method: 'GET', status: 503, durationMs: 4 } }),
      contentGroup: 'shop',
    });
    expect(dims).toEqual([
      ['event', 'request'],
      ['request_path', '/api/orders'],
      ['request_status', '5xx'],
    ]);
    // The same path as a custom event from the tracker still counts in the totals and the page.
    expect(dimensionsOf({ record: event({ name: 'request', path: '/api/orders' }), contentGroup: '' })).toContainEqual([
      '',
      '',
    ]);
  });
});
