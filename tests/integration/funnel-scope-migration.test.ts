import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir, migrate } from '@/lib/db/migrate';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// The funnel scope migration on a database that already has funnels: those keep counting as they
// were defined (within their time limit); a funnel created afterwards without a scope is a
// one-visit funnel.

const SCOPE_MIGRATION = '20261207140000_funnel_scope';
const dbs: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

describe('funnel scope migration', () => {
  it("sets the funnels that exist to 'window' and makes 'visit' the default for new ones", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eddy-migrations-'));
    try {
      cpSync(defaultMigrationsDir, dir, { recursive: true });
      rmSync(path.join(dir, SCOPE_MIGRATION), { recursive: true });
      const d = await freshDatabase('funnel_scope', { migrate: false });
      dbs.push(d);
      await migrate(d.url, dir);
      const c = new pg.Client({ connectionString: d.url });
      await c.connect();
      try {
        const team = (
          await c.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
        ).rows[0]!.id;
        const site = (
          await c.query<{ id: string }>(
            "INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 's', 's.test', 'k-scope') RETURNING id",
            [team],
          )
        ).rows[0]!.id;
        await c.query(
          "INSERT INTO funnels (id, site_id, name, steps, window_minutes) VALUES (gen_random_uuid(), $1, 'old', '[]', 45)",
          [site],
        );
        expect((await migrate(d.url)).applied).toEqual([SCOPE_MIGRATION]);
        await c.query("INSERT INTO funnels (id, site_id, name, steps) VALUES (gen_random_uuid(), $1, 'new', '[]')", [
          site,
        ]);
        const rows = (
          await c.query<{ name: string; scope: string; window_minutes: number }>(
            'SELECT name, scope, window_minutes FROM funnels ORDER BY name',
          )
        ).rows;
        expect(rows).toEqual([
          { name: 'new', scope: 'visit', window_minutes: 60 },
          { name: 'old', scope: 'window', window_minutes: 45 },
        ]);
      } finally {
        await c.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
