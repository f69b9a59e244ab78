import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { identify } from '@/lib/collect/identity/identify';
import { ROTATION_GRACE_MS, type SaltRotation } from '@/lib/collect/identity/periods';
import { clearSaltCache } from '@/lib/collect/identity/salts';
import { enforceRetention } from '@/lib/events/retention';
import { MINUTE } from '@/lib/time';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Visitor ids across a salt rotation, on fixed instants (never the wall clock): a visitor active
// in the last ROTATION_GRACE_MS before the rotation keeps their id for ROTATION_GRACE_MS after
// it; anyone else gets the new period's id. What that needs is written by collect itself
// (rotation_handovers), never read from the events archive.

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

let d: TestDatabase;
let p: pg.Pool;
let teamId = '';

beforeAll(async () => {
  d = await freshDatabase('identify');
  p = new pg.Pool({ connectionString: d.url });
  teamId = (
    await p.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Identity') RETURNING id")
  ).rows[0]!.id;
});
afterAll(async () => {
  await p?.end();
  await d?.drop();
});
beforeEach(() => clearSaltCache());

async function newSite(rotation: SaltRotation = 'day'): Promise<string> {
  const r = await p.query<{ id: string }>(
    "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, salt_rotation) VALUES (gen_random_uuid(), $1, 'Shop', 'shop.test', $2, ARRAY['shop.test'], $3) RETURNING id",
    [teamId, `k${randomBytes(8).toString('hex')}`, rotation],
  );
  return r.rows[0]!.id;
}

const handovers = async (siteId: string) =>
  (await p.query('SELECT 1 FROM rotation_handovers WHERE site_id = $1', [siteId])).rowCount;

describe('visitor ids across a salt rotation', () => {
  it('a visitor active just before midnight keeps their id within the grace period, and gets the new one after it', async () => {
    const who = { siteId: await newSite(), rotation: 'day' as const, ip: '203.0.113.9', userAgent: CHROME };
    const midnight = Date.UTC(2026, 10, 22);
    const idBefore = await identify(p, { ...who, now: midnight - 10 * MINUTE });
    expect(await identify(p, { ...who, now: midnight + 10 * MINUTE })).toBe(idBefore);
    expect(await identify(p, { ...who, now: midnight + ROTATION_GRACE_MS - 1 })).toBe(idBefore);
    const after = await identify(p, { ...who, now: midnight + ROTATION_GRACE_MS });
    expect(after).not.toBe(idBefore);
    // The new id is simply the new period's: the same all day.
    expect(await identify(p, { ...who, now: midnight + 12 * 60 * MINUTE })).toBe(after);
  });

  it('a visitor first seen after the rotation gets the new id at once', async () => {
    const who = { siteId: await newSite(), rotation: 'day' as const, ip: '198.51.100.1', userAgent: CHROME };
    const midnight = Date.UTC(2026, 10, 25);
    const stranger = await identify(p, { ...who, now: midnight + 10 * MINUTE });
    expect(stranger).toBe(await identify(p, { ...who, now: midnight + 12 * 60 * MINUTE }));
    expect(stranger).not.toBe(await identify(p, { ...who, now: midnight - 12 * 60 * MINUTE }));
  });

  it('a visitor last active before the last 30 minutes of the day gets the new id after midnight', async () => {
    const who = { siteId: await newSite(), rotation: 'day' as const, ip: '198.51.100.2', userAgent: CHROME };
    const midnight = Date.UTC(2026, 10, 27);
    const evening = await identify(p, { ...who, now: midnight - ROTATION_GRACE_MS - 1 });
    expect(await handovers(who.siteId)).toBe(0);
    expect(await identify(p, { ...who, now: midnight + 5 * MINUTE })).not.toBe(evening);
  });

  it('does not read the events archive: an archived event alone hands nobody over', async () => {
    const siteId = await newSite();
    const who = { siteId, rotation: 'day' as const, ip: '198.51.100.3', userAgent: CHROME };
    const midnight = Date.UTC(2026, 10, 29);
    // The previous day's id, computed at noon (no handover written then)…
    const yesterday = await identify(p, { ...who, now: midnight - 12 * 60 * MINUTE });
    // …and an archived event under it at 23:50, as the workers would have stored it.
    await p.query(
      "INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record) VALUES ($1, $2, $3, 'pageview', 'http://shop.test/', $4, '{}')",
      [randomUUID(), siteId, yesterday, new Date(midnight - 10 * MINUTE).toISOString()],
    );
    expect(await identify(p, { ...who, now: midnight + 10 * MINUTE })).not.toBe(yesterday);
  });

  it('writes a handover only in the last 30 minutes of a period, once per visitor', async () => {
    const who = { siteId: await newSite(), rotation: 'day' as const, ip: '198.51.100.4', userAgent: CHROME };
    const midnight = Date.UTC(2026, 11, 1);
    await identify(p, { ...who, now: midnight - 12 * 60 * MINUTE });
    expect(await handovers(who.siteId)).toBe(0);
    for (const m of [29, 20, 1]) await identify(p, { ...who, now: midnight - m * MINUTE });
    expect(await handovers(who.siteId)).toBe(1);
  });

  it('weekly salts hand a visitor over from Sunday night to Monday', async () => {
    const who = { siteId: await newSite('week'), rotation: 'week' as const, ip: '198.51.100.5', userAgent: CHROME };
    const monday = Date.UTC(2026, 11, 7); // Monday 7 Dec 2026
    const sunday = await identify(p, { ...who, now: monday - 15 * MINUTE });
    expect(await identify(p, { ...who, now: monday + 20 * MINUTE })).toBe(sunday);
    expect(await identify(p, { ...who, now: monday + ROTATION_GRACE_MS })).not.toBe(sunday);
  });

  it('handovers go once their grace period is over (retention pass) and with their site', async () => {
    const siteA = await newSite();
    const siteB = await newSite();
    const midnight = Date.UTC(2026, 11, 3);
    for (const siteId of [siteA, siteB])
      await identify(p, { siteId, rotation: 'day', ip: '198.51.100.6', userAgent: CHROME, now: midnight - 5 * MINUTE });
    expect([await handovers(siteA), await handovers(siteB)]).toEqual([1, 1]);
    await enforceRetention(p, midnight + ROTATION_GRACE_MS - 1);
    expect(await handovers(siteA)).toBe(1);
    await p.query('DELETE FROM sites WHERE id = $1', [siteB]);
    expect(await handovers(siteB)).toBe(0);
    await enforceRetention(p, midnight + ROTATION_GRACE_MS);
    expect(await handovers(siteA)).toBe(0);
  });

  it('forgets salts two periods old', async () => {
    const who = { siteId: await newSite(), rotation: 'day' as const, ip: '203.0.113.10', userAgent: CHROME };
    await identify(p, { ...who, now: Date.UTC(2026, 11, 10, 23, 50) });
    await identify(p, { ...who, now: Date.UTC(2026, 11, 11, 12) });
    await identify(p, { ...who, now: Date.UTC(2026, 11, 12, 12) });
    const salts = await p.query<{ period_start: Date }>(
      "SELECT period_start FROM salts WHERE rotation = 'day' AND period_start >= '2026-12-10' ORDER BY period_start",
    );
    expect(salts.rows.map((r) => r.period_start.toISOString())).toEqual([
      '2026-12-11T00:00:00.000Z',
      '2026-12-12T00:00:00.000Z',
    ]);
  });
});
