import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { env } from '@/lib/env';
import { migrate } from '@/lib/db/migrate';

// Each test file gets its own migrated database on the suite's PostgreSQL (DATABASE_URL, set by
// scripts/test.ts), so files cannot see each other's rows and can run in any order.

export function adminUrl(): string {
  const url = env().DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run tests through `npm test`, which starts PostgreSQL');
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function freshDatabase(label: string, opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `eddy_t_${label.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  const url = u.toString();
  if (opts.migrate !== false) await migrate(url);
  return {
    url,
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      // A pool's end() resolves before its sockets have closed; terminating those (FORCE) would
      // emit 'error' on clients nobody listens to any more. Give them a moment to go first.
      for (let i = 0; i < 40; i++) {
        const open = await c.query(
          'SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() LIMIT 1',
          [name],
        );
        if (open.rows.length === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
