import { describe, expect, it } from 'vitest';
import { apiEventSchema } from '@/lib/collect/api-events';
import { cleanPath, clientIp, isStaticPath, requestEvent, shouldSkip, type RequestFacts } from '../src/capture';

// What a request becomes, checked against Eddy's own schema for the events API, so the SDK
// and the server cannot drift apart.

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  url: '/orders/42?token=secret&page=2',
  headers: { host: 'shop.example', 'user-agent': 'Mozilla/5.0 Test', referer: 'https://news.example/a' },
  socketAddress: '203.0.113.7',
  encrypted: false,
  ...over,
});

describe('request capture', () => {
  it('strips the query by default and keeps only the parameters allowed', () => {
    expect(cleanPath('/orders/42?token=secret&page=2')).toBe('/orders/42');
    expect(cleanPath('/orders/42?token=secret&page=2', ['page'])).toBe('/orders/42?page=2');
    expect(cleanPath('/orders/42?token=secret&page=2', '*')).toBe('/orders/42?token=secret&page=2');
    expect(cleanPath('/a#frag')).toBe('/a');
  });

  it('takes the client address from the socket unless a proxy is trusted, and never a non-address', () => {
    const h = { 'x-forwarded-for': '198.51.100.1, 10.0.0.2', 'cf-connecting-ip': '198.51.100.9' };
    expect(clientIp(h, '10.0.0.3')).toBe('10.0.0.3');
    expect(clientIp(h, '10.0.0.3', true)).toBe('198.51.100.1');
    expect(clientIp(h, '10.0.0.3', 1)).toBe('10.0.0.2');
    expect(clientIp(h, '10.0.0.3', 2)).toBe('198.51.100.1');
    expect(clientIp(h, '10.0.0.3', 'cf-connecting-ip')).toBe('198.51.100.9');
    expect(clientIp({ 'x-forwarded-for': 'evil<script>' }, '10.0.0.3', true)).toBe('10.0.0.3');
    expect(clientIp({}, '::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('skips local development traffic and static files unless told otherwise', () => {
    expect(shouldSkip(facts(), '127.0.0.1', {})).toBe(true);
    expect(shouldSkip(facts(), '::1', {})).toBe(true);
    expect(shouldSkip(facts(), '127.0.0.1', { skipLocalhost: false })).toBe(false);
    for (const p of ['/app.js', '/styles/site.css?v=3', '/_next/static/chunks/x', '/logo.PNG', '/favicon.ico'])
      expect(shouldSkip(facts({ url: p }), '203.0.113.7', {}), p).toBe(true);
    expect(shouldSkip(facts({ url: '/app.js' }), '203.0.113.7', { skipStatic: false })).toBe(false);
    expect(isStaticPath('/api/orders')).toBe(false);
    expect(shouldSkip(facts({ url: '/health' }), '203.0.113.7', { skip: (r) => r.path === '/health' })).toBe(true);
  });

  it('produces an event the events API accepts, for ordinary and hostile requests alike', () => {
    const requests: RequestFacts[] = [
      facts(),
      facts({
        method: 'PROPFIND-WITH-A-VERY-LONG-NAME',
        url: `/${'x'.repeat(5000)}`,
        headers: { host: 'bad host\u0000', 'user-agent': 'u'.repeat(3000), referer: 'javascript:alert(1)' },
      }),
      facts({ url: '', headers: {} }),
      facts({ url: '/ünïcode/パス?q=1', headers: { host: '[2001:db8::1]:8080' } }),
    ];
    for (const f of requests) {
      const e = requestEvent(f, '203.0.113.7', 200, 1.23456, {});
      const parsed = apiEventSchema.safeParse({ ...e, id: crypto.randomUUID(), timestamp: Date.now() });
      expect(parsed.success, JSON.stringify(parsed.error?.issues[0])).toBe(true);
    }
    const e = requestEvent(facts(), '203.0.113.7', 404, 12.3456789, {});
    expect(e).toMatchObject({
      name: 'request',
      url: 'http://shop.example/orders/42',
      referrer: 'https://news.example/a',
      ip: '203.0.113.7',
      request: { method: 'GET', status: 404, duration_ms: 12.346 },
    });
  });
});
