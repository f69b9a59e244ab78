import { describe, expect, it } from 'vitest';
import { contentGroupOf, globToRegExp, localDate, localDayStart } from './dimensions';

describe('content group patterns', () => {
  it('"**" spans path segments, "*" stays within one, and the first matching group wins', () => {
    expect(globToRegExp('/blog/**').test('/blog/2026/11/post')).toBe(true);
    expect(globToRegExp('/docs/*').test('/docs/api')).toBe(true);
    expect(globToRegExp('/docs/*').test('/docs/api/v2')).toBe(false);
    expect(globToRegExp('/a.b').test('/axb')).toBe(false);
    const site = { timezone: 'UTC', sessionGapMs: 1, contentGroups: [{ name: 'Guides', pattern: globToRegExp('/docs/guides/**') }, { name: 'Docs', pattern: globToRegExp('/docs/**') }] };
    expect(contentGroupOf(site, '/docs/guides/x')).toBe('Guides');
    expect(contentGroupOf(site, '/docs/api')).toBe('Docs');
    expect(contentGroupOf(site, '/pricing')).toBe('');
  });
});

describe('local days', () => {
  it('finds the start of the local calendar day in the site timezone, across DST', () => {
    const t = Date.UTC(2026, 10, 21, 3, 30); // 22:30 on the 20th in New York (EST, UTC−5)
    expect(localDate(t, 'America/New_York')).toBe('2026-11-20');
    expect(new Date(localDayStart(t, 'America/New_York')).toISOString()).toBe('2026-11-20T05:00:00.000Z');
    expect(new Date(localDayStart(t, 'Asia/Kolkata')).toISOString()).toBe('2026-11-20T18:30:00.000Z');
    expect(new Date(localDayStart(Date.UTC(2026, 6, 1, 12), 'Europe/Berlin')).toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(localDayStart(t, 'UTC')).toBe(Date.UTC(2026, 10, 21));
  });
});
