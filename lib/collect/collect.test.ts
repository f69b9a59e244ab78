import { describe, expect, it } from 'vitest';
import { hostnameAllowed } from '../sites/find-site-by-key';
import { eventTime } from './event-time';
import { nextPeriodStart, periodStart, previousPeriodStart } from './identity/periods';
import { visitorId } from './identity/visitor-id';
import { collectBodySchema, MAX_CLIENT_AGE_MS } from './payload';
import { RateLimiter } from './rate-limit';

describe('event time', () => {
  const now = 1_800_000_000_000;
  it('is the server time when the client sent no times', () => {
    expect(eventTime(now)).toBe(now);
  });
  it('uses the client-reported age, not the client clock, so skew does not matter', () => {
    const skewed = 5_000_000_000; // client clock years off
    expect(eventTime(now, skewed - 4000, skewed)).toBe(now - 4000);
  });
  it('clamps the age to [0, 15 min]', () => {
    expect(eventTime(now, 2000, 1000)).toBe(now);
    expect(eventTime(now, 0, 10 * MAX_CLIENT_AGE_MS)).toBe(now - MAX_CLIENT_AGE_MS);
  });
});

describe('salt periods', () => {
  const t = Date.UTC(2026, 10, 21, 15, 30); // Saturday 21 Nov 2026
  it('starts days at UTC midnight, weeks on Monday, months on the 1st', () => {
    expect(periodStart('day', t)).toBe(Date.UTC(2026, 10, 21));
    expect(periodStart('week', t)).toBe(Date.UTC(2026, 10, 16));
    expect(periodStart('month', t)).toBe(Date.UTC(2026, 10, 1));
  });
  it('knows the previous period', () => {
    expect(previousPeriodStart('day', t)).toBe(Date.UTC(2026, 10, 20));
    expect(previousPeriodStart('week', t)).toBe(Date.UTC(2026, 10, 9));
    expect(previousPeriodStart('month', t)).toBe(Date.UTC(2026, 9, 1));
  });
  it('knows when the period rotates', () => {
    expect(nextPeriodStart('day', t)).toBe(Date.UTC(2026, 10, 22));
    expect(nextPeriodStart('week', t)).toBe(Date.UTC(2026, 10, 23));
    expect(nextPeriodStart('month', t)).toBe(Date.UTC(2026, 11, 1));
    // At the rotation itself the next one is a whole period away; a short month ends on time.
    expect(nextPeriodStart('day', Date.UTC(2026, 10, 22))).toBe(Date.UTC(2026, 10, 23));
    expect(nextPeriodStart('month', Date.UTC(2027, 1, 28, 23))).toBe(Date.UTC(2027, 2, 1));
    expect(nextPeriodStart('month', Date.UTC(2027, 0, 31, 23))).toBe(Date.UTC(2027, 1, 1));
  });
});

describe('visitor id', () => {
  const salt = Buffer.alloc(32, 1);
  it('is stable for one salt, site, IP and user agent, and changes when any of them does', () => {
    const id = visitorId(salt, 'site', '1.2.3.4', 'UA');
    expect(visitorId(salt, 'site', '1.2.3.4', 'UA')).toBe(id);
    expect(visitorId(Buffer.alloc(32, 2), 'site', '1.2.3.4', 'UA')).not.toBe(id);
    expect(visitorId(salt, 'other', '1.2.3.4', 'UA')).not.toBe(id);
    expect(visitorId(salt, 'site', '1.2.3.5', 'UA')).not.toBe(id);
    expect(visitorId(salt, 'site', '1.2.3.4', 'UA2')).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).not.toContain('1.2.3.4');
  });
});

describe('rate limiter', () => {
  it('allows a burst up to the per-minute limit, then refills continuously', () => {
    const r = new RateLimiter();
    const t0 = 1_000_000;
    for (let i = 0; i < 60; i++) expect(r.allow('s', 60, t0)).toBe(true);
    expect(r.allow('s', 60, t0)).toBe(false);
    expect(r.allow('s', 60, t0 + 999)).toBe(false);
    expect(r.allow('s', 60, t0 + 1000)).toBe(true);
    expect(r.allow('other', 60, t0)).toBe(true);
  });
});

describe('hostname allow-list', () => {
  it('admits listed hosts, wildcard subdomains, and anything when the list is empty', () => {
    expect(hostnameAllowed(['shop.test'], 'shop.test')).toBe(true);
    expect(hostnameAllowed(['shop.test'], 'www.shop.test')).toBe(false);
    expect(hostnameAllowed(['*.shop.test'], 'www.shop.test')).toBe(true);
    expect(hostnameAllowed(['*.shop.test'], 'shop.test')).toBe(true);
    expect(hostnameAllowed(['*.shop.test'], 'evilshop.test')).toBe(false);
    expect(hostnameAllowed([], 'anything.example')).toBe(true);
  });
});

describe('collect payload', () => {
  const ok = { s: 'key', u: 'https://shop.test/p' };
  it('accepts one event or a batch of up to 25', () => {
    expect(collectBodySchema.safeParse(ok).success).toBe(true);
    expect(collectBodySchema.safeParse(Array(25).fill(ok)).success).toBe(true);
    expect(collectBodySchema.safeParse(Array(26).fill(ok)).success).toBe(false);
    expect(collectBodySchema.safeParse([]).success).toBe(false);
  });
  it('bounds properties: at most 30, keys ≤ 64 bytes, values ≤ 256 bytes, flat scalars only', () => {
    const props = (p: unknown) => collectBodySchema.safeParse({ ...ok, p }).success;
    expect(props(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])))).toBe(true);
    expect(props(Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i])))).toBe(false);
    expect(props({ ['k'.repeat(65)]: 1 })).toBe(false);
    expect(props({ k: 'é'.repeat(129) })).toBe(false); // 258 bytes in UTF-8
    expect(props({ k: { deep: { deeper: 1 } } })).toBe(false);
    expect(props({ k: [1, 2] })).toBe(false);
    expect(props({ plan: 'pro', seats: 3, trial: false })).toBe(true);
  });
  it('bounds the event name to 120 characters and requires an absolute http(s) URL', () => {
    expect(collectBodySchema.safeParse({ ...ok, n: 'x'.repeat(120) }).success).toBe(true);
    expect(collectBodySchema.safeParse({ ...ok, n: 'x'.repeat(121) }).success).toBe(false);
    expect(collectBodySchema.safeParse({ ...ok, u: 'javascript:alert(1)' }).success).toBe(false);
    expect(collectBodySchema.safeParse({ ...ok, u: 'https://shop.test/' + 'x'.repeat(2000) }).success).toBe(false);
  });
  it('strips fields it does not know, such as a smuggled IP', () => {
    const r = collectBodySchema.parse({ ...ok, ip: '1.2.3.4', userAgent: 'x' });
    expect(r).not.toHaveProperty('ip');
    expect(r).not.toHaveProperty('userAgent');
  });
});
