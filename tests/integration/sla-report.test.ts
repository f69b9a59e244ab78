import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool } from '@/lib/db/client';
import { env, setEnv } from '@/lib/env';
import { slaReport } from '@/lib/sla/report';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// What the SLA page reads: compliance per local day (a day starts at the site's midnight with the
// offset in force then, so the 23-hour DST day is one day), and the current state judged from the
// stored measurement — worse than the target is "breached", a stale one is "not measured".
// Dated around a fixed instant: the same at any hour.

const NOW = Date.parse('2026-03-30T10:00:00Z'); // Monday after Berlin's spring-forward (29 March)
let d: TestDatabase;
let admin: string;
let siteId: string;

beforeAll(async () => {
  admin = env().DATABASE_URL!;
  d = await freshDatabase('sla-report');
  setEnv({ DATABASE_URL: d.url });
  const team = (
    await pool().query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool().query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone) VALUES (gen_random_uuid(), $1, 's', 's.test', $2, 'Europe/Berlin') RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  await pool().query('INSERT INTO site_slas (site_id, target_ms) VALUES ($1, 5000)', [siteId]);
  const minute = (iso: string, breached: boolean) =>
    pool().query(
      'INSERT INTO sla_minutes (site_id, minute, freshness_ms, target_ms, breached) VALUES ($1, $2, $3, 5000, $4)',
      [siteId, iso, breached ? 9000 : 300, breached],
    );
  await minute('2026-03-28T22:59:00Z', true); // 23:59 on the 28th (CET)
  await minute('2026-03-28T23:00:00Z', false); // 00:00 on the 29th
  await minute('2026-03-29T21:59:00Z', true); // 23:59 on the 29th (CEST)
  await minute('2026-03-29T22:00:00Z', false); // 00:00 on the 30th
});
afterAll(async () => {
  await pool().end();
  setEnv({ DATABASE_URL: admin });
  await d?.drop();
});

describe('SLA report', () => {
  it('counts compliance per local day, the DST day as one', async () => {
    const r = await slaReport(siteId, NOW);
    expect(r.daily).toHaveLength(30);
    const byDay = Object.fromEntries(
      r.daily.slice(-3).map((x) => [new Date(x.day).toISOString(), [x.measuredMinutes, x.breachedMinutes, x.ratio]]),
    );
    expect(byDay).toEqual({
      '2026-03-27T23:00:00.000Z': [1, 1, 0],
      '2026-03-28T23:00:00.000Z': [2, 1, 0.5],
      '2026-03-29T22:00:00.000Z': [1, 0, 1],
    });
  });

  it('is breached while the measured freshness is worse than the target, and never within target on a stale measurement', async () => {
    await pool().query(
      "INSERT INTO site_freshness (site_id, measured_at, freshness_ms, cause) VALUES ($1, $2, 9000, 'stopped worker')",
      [siteId, new Date(NOW - 1000)],
    );
    let r = await slaReport(siteId, NOW);
    expect(r.current.state).toEqual({ kind: 'breached' });
    expect(r.current.cause).toBe('stopped worker');
    await pool().query('UPDATE site_freshness SET freshness_ms = 400, cause = NULL WHERE site_id = $1', [siteId]);
    expect((await slaReport(siteId, NOW)).current.state).toEqual({ kind: 'within' });
    r = await slaReport(siteId, NOW + 60_000);
    expect(r.current.state).toEqual({ kind: 'not measured', sinceMs: 61_000 });
  });
});
