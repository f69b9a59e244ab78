import { describe, expect, it } from 'vitest';
import { compilePathPattern } from '@/lib/analytics/path-pattern';
import type pg from 'pg';
import { contentGroupOf, loadDimensions, localDate, localDayStart } from './dimensions';

describe('content group patterns', () => {
  it('"**" spans path segments, "*" stays within one, and the first matching group wins', () => {
    expect(compilePathPattern('/blog/**').test('/blog/2026/11/post')).toBe(true);
    expect(compilePathPattern('/docs/*').test('/docs/api')).toBe(true);
    expect(compilePathPattern('/docs/*').test('/docs/api/v2')).toBe(false);
    expect(compilePathPattern('/a.b').test('/axb')).toBe(false);
    const site = {
      timezone: 'UTC',
      sessionGapMs: 1,
      contentGroups: [
        { name: 'Guides', pattern: compilePathPattern('/docs/guides/**') },
        { name: 'Docs', pattern: compilePathPattern('/docs/**') },
      ],
    };
    expect(contentGroupOf(site, '/docs/guides/x')).toBe('Guides');
    expect(contentGroupOf(site, '/docs/api')).toBe('Docs');
    expect(contentGroupOf(site, '/pricing')).toBe('');
  });

  it('a pathological pattern from the database costs a hostile path milliseconds, and one over the caps is ignored', async () => {
    const rows = {
      sites: [{ id: 's1', timezone: 'UTC', session_gap_minutes: 30, updated_at: new Date(0) }],
      groups: [
        { site_id: 's1', name: 'Evil', pattern: '/**/**/**/**/x' },
        { site_id: 's1', name: 'Over the caps', pattern: `/${'*/'.repeat(9)}` },
        { site_id: 's1', name: 'All', pattern: '/**' },
      ],
    };
    const db = {
      query: async (sql: string) => ({ rows: sql.includes('content_groups') ? rows.groups : rows.sites }),
    } as unknown as pg.Pool;
    const site = (await loadDimensions(db)).sites.get('s1');
    expect(site?.contentGroups.map((g) => g.name)).toEqual(['Evil', 'All']);
    // 300 slashes took the backtracking regex seconds (~length⁵); 2,000 would take days.
    const started = performance.now();
    expect(contentGroupOf(site, '/'.repeat(300))).toBe('All');
    expect(contentGroupOf(site, '/'.repeat(2000))).toBe('All');
    expect(contentGroupOf(site, `${'/'.repeat(2000)}x`)).toBe('');
    expect(performance.now() - started).toBeLessThan(250);
  });
});

describe('local days', () => {
  it('finds the start of the local calendar day in the site timezone, across DST', () => {
    const t = Date.UTC(2026, 10, 21, 3, 30); // 22:30 on the 20th in New York (EST, UTC−5)
    expect(localDate(t, 'America/New_York')).toBe('2026-11-20');
    expect(new Date(localDayStart(t, 'America/New_York')).toISOString()).toBe('2026-11-20T05:00:00.000Z');
    expect(new Date(localDayStart(t, 'Asia/Kolkata')).toISOString()).toBe('2026-11-20T18:30:00.000Z');
    expect(new Date(localDayStart(Date.UTC(2026, 6, 1, 12), 'Europe/Berlin')).toISOString()).toBe(
      '2026-06-30T22:00:00.000Z',
    );
    expect(localDayStart(t, 'UTC')).toBe(Date.UTC(2026, 10, 21));
  });
});
