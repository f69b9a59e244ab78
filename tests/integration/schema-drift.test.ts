import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { schemaDrift } from '@/lib/db/drift';
import { defaultMigrationsDir, migrate } from '@/lib/db/migrate';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Migrations are hand-written SQL (Prisma's schema engine cannot be downloaded here), so this
// test is what keeps them equal to prisma/schema.prisma.

const dbs: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

describe('schema drift', () => {
  it('the migrated database matches prisma/schema.prisma exactly', async () => {
    const d = await freshDatabase('drift');
    dbs.push(d);
    expect(await schemaDrift(d.url)).toEqual([]);
  });

  it('reports a column that a migration forgot (the check can fail)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eddy-migrations-'));
    cpSync(defaultMigrationsDir, dir, { recursive: true });
    const init = path.join(dir, '20261121000000_init', 'migration.sql');
    const sql = readFileSync(init, 'utf8');
    const broken = sql.replace('    "name" TEXT,\n', ''); // users.name: nothing later depends on it
    expect(broken).not.toBe(sql);
    writeFileSync(init, broken);
    const d = await freshDatabase('drift_neg', { migrate: false });
    dbs.push(d);
    await migrate(d.url, dir);
    expect(await schemaDrift(d.url)).toEqual(['column users.name: in schema.prisma, missing from database']);
  });

  it('records each migration in _prisma_migrations as Prisma does, and applies it only once', async () => {
    const d = await freshDatabase('drift_record', { migrate: false });
    dbs.push(d);
    const first = await migrate(d.url);
    const second = await migrate(d.url);
    const all = readdirSync(defaultMigrationsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(all[0]).toBe('20261121000000_init');
    expect(first.applied).toEqual(all);
    expect(second).toEqual({ applied: [], alreadyApplied: all });
    const c = new pg.Client({ connectionString: d.url });
    await c.connect();
    const r = await c.query(
      "SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations WHERE migration_name = '20261121000000_init'",
    );
    await c.end();
    const sql = readFileSync(path.join(defaultMigrationsDir, '20261121000000_init', 'migration.sql'));
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].checksum).toBe(createHash('sha256').update(sql).digest('hex'));
    expect(r.rows[0].finished_at).toBeInstanceOf(Date);
    expect(r.rows[0].applied_steps_count).toBe(1);
  });
});
