import { readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tumblingWindows, windowOperator, count } from '@/lib/stream';
import { createSavepoint, restoreSavepoint, SAVEPOINT_FORMAT } from '@/workers/ops/savepoint';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Savepoints: every job's positions and checkpoint state, exported as versioned JSON and
// restored into another database (a fresh install, or after an upgrade).

let source: TestDatabase;
let target: TestDatabase;
let a: pg.Pool;
let b: pg.Pool;
beforeAll(async () => {
  source = await freshDatabase('sp_src');
  target = await freshDatabase('sp_dst');
  a = new pg.Pool({ connectionString: source.url });
  b = new pg.Pool({ connectionString: target.url });
});
afterAll(async () => {
  await a?.end();
  await b?.end();
  await source?.drop();
  await target?.drop();
});

describe('savepoints', () => {
  it('export positions and operator state as versioned JSON and restore them into a fresh database', async () => {
    // A real operator snapshot with open windows, as a job would checkpoint it.
    const op = windowOperator(tumblingWindows(60_000), count(), { outOfOrdernessMs: 1000, allowedLatenessMs: 5000 });
    op.addPartition(0);
    op.process(0, 'site-a', 1_000, 1);
    op.process(0, 'site-a', 61_000, 1);
    op.advanceWatermark();
    const state = { operator: op.snapshot(), dimensionVersion: 3 };
    await a.query(
      "INSERT INTO consumer_progress (job, topic, partition, next_offset, state) VALUES ('rollups', 'events', 0, 42, $1), ('rollups', 'events', 1, 7, NULL), ('sessions', 'events', 0, 40, '{}')",
      [JSON.stringify(state)],
    );
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'eddy-sp-')), 'sp.json');
    const sp = await createSavepoint(a, file);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { format: string; version: number; progress: unknown[] };
    expect(json.format).toBe(SAVEPOINT_FORMAT);
    expect(json.version).toBe(1);
    expect(sp.progress).toHaveLength(3);

    // The target already has stale progress for these jobs: the savepoint replaces it.
    await b.query(
      "INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ('rollups', 'events', 5, 999)",
    );
    await restoreSavepoint(b, file);
    const q = 'SELECT job, topic, partition, next_offset::text, state FROM consumer_progress ORDER BY job, partition';
    expect((await b.query(q)).rows).toEqual((await a.query(q)).rows);
    // At a version no worker's memory holds (they count commits from 0): a running worker fences
    // on it and restores the savepoint's state rather than keeping its own.
    const versions = await b.query<{ version: string }>('SELECT version::text FROM consumer_progress');
    for (const r of versions.rows) expect(BigInt(r.version)).toBeGreaterThan(1_000_000_000_000n);

    // The restored operator continues exactly where the original would.
    const restored = windowOperator(tumblingWindows(60_000), count(), {
      outOfOrdernessMs: 1000,
      allowedLatenessMs: 5000,
    });
    const row = (
      await b.query<{ state: typeof state }>(
        "SELECT state FROM consumer_progress WHERE job = 'rollups' AND partition = 0",
      )
    ).rows[0]!;
    restored.restore(row.state.operator as never);
    restored.process(0, 'site-a', 200_000, 1);
    op.process(0, 'site-a', 200_000, 1);
    expect(restored.advanceWatermark()).toEqual(op.advanceWatermark());
  });

  it('refuses a file that is not an Eddy savepoint, with a clear error, and changes nothing', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'eddy-sp-')), 'bad.json');
    const fs = await import('node:fs');
    fs.writeFileSync(file, JSON.stringify({ format: 'something-else', version: 1, progress: [] }));
    const before = (await b.query('SELECT count(*)::int AS n FROM consumer_progress')).rows[0].n;
    await expect(restoreSavepoint(b, file)).rejects.toThrow(/is not an Eddy savepoint v1/);
    expect((await b.query('SELECT count(*)::int AS n FROM consumer_progress')).rows[0].n).toBe(before);
  });
});
