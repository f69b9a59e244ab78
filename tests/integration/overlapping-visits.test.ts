import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeColumnar, columnarStore } from '@/lib/analytics/columnar/engine';
import { factLoad } from '@/lib/analytics/fact-engine';
import { resolveRange } from '@/lib/analytics/range';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Filtered by a visit attribute (entry page, a source, an event filter), a view counts the events
// inside the matching visits. A visitor's visits can overlap in `visit_facts` (a site's session gap
// changed while a late event arrived: the new gap's operator opens a visit inside one the old
// operator wrote), and an event inside two matching visits is still one event. PostgreSQL answers
// with EXISTS; the columnar copy joins events to visits and must first cut the overlaps, or it
// counts such an event twice. Facts are written directly, as the jobs write them; a fixed day.

const DAY0 = Date.parse('2026-11-03T00:00:00.000Z');
const NOW = Date.parse('2026-11-06T00:00:00.000Z');
const MIN = 60_000;
const VISITOR = 77n;
const OTHER = 78n;

let d: TestDatabase;
let pool: pg.Pool;
let siteId: string;

async function id(dimension: string, value: string): Promise<number> {
  return (
    await pool.query<{ id: number }>(
      'INSERT INTO dimension_values (site_id, dimension, value) VALUES ($1, $2, $3) RETURNING id',
      [siteId, dimension, value],
    )
  ).rows[0]!.id;
}

beforeAll(async () => {
  d = await freshDatabase('overlapping_visits');
  pool = new pg.Pool({ connectionString: d.url });
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone) VALUES (gen_random_uuid(), $1, 'S', 's.example', $2, 'UTC') RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  const home = await id('page', '/');
  const docs = await id('page', '/docs');
  const other = await id('page', '/other');
  const [referrer, direct, country, device, browser, os] = [
    await id('referrer', '(direct)'),
    await id('channel', 'direct'),
    await id('country', 'DE'),
    await id('device', 'desktop'),
    await id('browser', 'Firefox'),
    await id('os', 'Linux'),
  ];
  const event = (visitor: bigint, at: number, page: number) =>
    pool.query(
      `INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os)
       VALUES ($1, $2, gen_random_uuid(), $3, 0, $4, NULL, $5, NULL, NULL, NULL, $6, $7, $8, $9)`,
      [siteId, new Date(DAY0 + at * MIN), visitor.toString(), page, direct, country, device, browser, os],
    );
  const visit = (visitor: bigint, from: number, to: number, pageviews: number, entry: number) =>
    pool.query(
      `INSERT INTO visit_facts (site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, entry_page, exit_page, referrer, channel,
         utm_source, utm_medium, utm_campaign, country, device, browser, os)
       VALUES ($1, $2, $3, $4, $5, $6, false, $7, $7, $13, $8, NULL, NULL, NULL, $9, $10, $11, $12)`,
      [
        siteId,
        new Date(DAY0 + from * MIN),
        visitor.toString(),
        new Date(DAY0 + to * MIN),
        pageviews,
        (to - from) * MIN,
        entry,
        direct,
        country,
        device,
        browser,
        os,
        referrer,
      ],
    );
  // The visitor's pages at 10:00, 10:05, 10:10 and 10:20. The old gap's visit runs 10:00–10:20,
  // both entered on "/"; the new gap's operator opened one at 10:05–10:10 (a late event).
  for (const at of [600, 605, 610, 620]) await event(VISITOR, at, at === 605 ? docs : home);
  await visit(VISITOR, 600, 620, 4, home);
  await visit(VISITOR, 605, 610, 2, home);
  // Another visitor, entered elsewhere: not in the filter.
  await event(OTHER, 700, other);
  await visit(OTHER, 700, 700, 1, other);
}, 60_000);

afterAll(async () => {
  await closeColumnar();
  await closeDb();
  await pool?.end();
  await d?.drop();
});

describe.each(['columnar', 'postgres'] as const)('overlapping visits (%s)', (engine) => {
  beforeAll(async () => {
    setEnv({ DATABASE_URL: d.url, FILTER_ENGINE: engine });
    if (engine === 'columnar') await columnarStore()!.start();
  });

  it('an event inside two matching visits is counted once', async () => {
    const p = resolveRange({ range: 'custom', from: '2026-11-03', to: '2026-11-03', compare: 'none' }, 'UTC', NOW);
    const r = await factLoad(
      siteId,
      p,
      { entry_page: '/' },
      { series: true, breakdowns: ['page'], limit: 10, now: NOW },
    );
    expect(r.summary.pageviews).toBe(4);
    expect(r.summary.visitors).toBe(1);
    expect(r.summary.sessions).toBe(2);
    expect(r.series.reduce((n, x) => n + x.pageviews, 0)).toBe(4);
    expect(r.breakdowns.page?.map((x) => [x.value, x.pageviews])).toEqual([
      ['/', 3],
      ['/docs', 1],
    ]);
    if (engine === 'columnar') expect(columnarStore()!.stats.reads).toBeGreaterThan(0);
  });
});
