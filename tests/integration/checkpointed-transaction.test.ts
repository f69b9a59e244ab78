import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { pipelineOverview } from '@/lib/pipeline/overview';
import { checkpointedTransaction, type ProgressKey } from '@/workers/consumer/checkpoint';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// The consumer runtime's checkpointed transaction (workers/consumer/checkpoint.ts), on a real
// PostgreSQL and no bus: output, position and checkpoint commit together or not at all, and the
// progress row's lock fences two members working on one partition.

let d: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  d = await freshDatabase('checkpointed_tx');
  pool = new pg.Pool({ connectionString: d.url, max: 6 });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE output (partition int, n int)');
});
afterAll(async () => {
  await closeDb();
  await pool?.end();
  await d?.drop();
});

let next = 0;
const key = (): ProgressKey => ({ job: 'test-job', topic: 'events', partition: next++ });
const progress = async (k: ProgressKey) =>
  (
    await pool.query<{ next_offset: string; version: string; state: unknown }>(
      'SELECT next_offset::text, version::text, state FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = $3',
      [k.job, k.topic, k.partition],
    )
  ).rows[0];
const outputs = async (k: ProgressKey) =>
  (await pool.query<{ n: number }>('SELECT n FROM output WHERE partition = $1 ORDER BY n', [k.partition])).rows.map(
    (r) => r.n,
  );

describe('checkpointedTransaction', () => {
  it('commits the work, the next offset and the checkpoint together, with version + 1', async () => {
    const k = key();
    const r = await checkpointedTransaction(pool, k, { create: true }, async (tx, row) => {
      expect(row).toEqual({ next_offset: '0', version: '0', state: null });
      await tx.query('INSERT INTO output VALUES ($1, 1)', [k.partition]);
      return { write: 'done', state: { watermark: 5 }, nextOffset: '10' };
    });
    expect(r).toEqual({ written: 'done', version: '1', state: { watermark: 5 } });
    expect(await progress(k)).toEqual({ next_offset: '10', version: '1', state: { watermark: 5 } });
    expect(await outputs(k)).toEqual([1]);
    // A tick: no new position, a new checkpoint.
    await checkpointedTransaction(pool, k, { create: false }, async () => ({ write: 'tick', state: { watermark: 9 } }));
    expect(await progress(k)).toEqual({ next_offset: '10', version: '2', state: { watermark: 9 } });
  });

  it('commits nothing when the work fails after writing (output, position and checkpoint all stay)', async () => {
    const k = key();
    await checkpointedTransaction(pool, k, { create: true }, async () => ({
      write: null,
      state: { s: 1 },
      nextOffset: '3',
    }));
    await expect(
      checkpointedTransaction(pool, k, { create: true }, async (tx) => {
        await tx.query('INSERT INTO output VALUES ($1, 2)', [k.partition]);
        throw new Error('crash after writing');
      }),
    ).rejects.toThrow('crash after writing');
    expect(await progress(k)).toEqual({ next_offset: '3', version: '1', state: { s: 1 } });
    expect(await outputs(k)).toEqual([]);
  });

  it('a skip writes no checkpoint, and a tick before any batch finds no row to fence on', async () => {
    const k = key();
    expect(
      await checkpointedTransaction(pool, k, { create: false }, async () => ({ write: 'never', state: {} })),
    ).toEqual({ skip: 'no-progress-row' });
    expect(await progress(k)).toBeUndefined();
    expect(await checkpointedTransaction(pool, k, { create: true }, async () => ({ skip: 'nothing-new' }))).toEqual({
      skip: 'nothing-new',
    });
    expect(await progress(k)).toEqual({ next_offset: '0', version: '0', state: null });
  });

  it('fences: a second member waits on the row until the first commits, then sees its position and version', async () => {
    const k = key();
    await checkpointedTransaction(pool, k, { create: true }, async () => ({
      write: null,
      state: null,
      nextOffset: '5',
    }));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let firstIn!: () => void;
    const firstStarted = new Promise<void>((r) => (firstIn = r));
    // The "zombie": holds the row while it works.
    const zombie = checkpointedTransaction(pool, k, { create: true }, async (tx, row) => {
      firstIn();
      await held;
      await tx.query('INSERT INTO output VALUES ($1, 10)', [k.partition]);
      return { write: row.next_offset, state: { by: 'zombie' }, nextOffset: '8' };
    });
    await firstStarted;
    // The member that took the partition over: must not see offset 5 while the zombie works.
    const seen: string[] = [];
    const taker = checkpointedTransaction(pool, k, { create: true }, async (tx, row) => {
      seen.push(`${row.next_offset}@v${row.version}`);
      await tx.query('INSERT INTO output VALUES ($1, 20)', [k.partition]);
      return { write: row.next_offset, state: { by: 'taker' }, nextOffset: '12' };
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]); // still waiting on the row lock
    release();
    expect(await zombie).toMatchObject({ written: '5', version: '2' });
    expect(await taker).toMatchObject({ written: '8', version: '3' });
    expect(seen).toEqual(['8@v2']);
    expect(await progress(k)).toEqual({ next_offset: '12', version: '3', state: { by: 'taker' } });
    expect(await outputs(k)).toEqual([10, 20]);
  });

  it("reads the stored state only when it is not the version memory came from (another member's checkpoint)", async () => {
    const k = key();
    const first = await checkpointedTransaction(pool, k, { create: true }, async () => ({
      write: null,
      state: { windows: [1, 2, 3] },
      nextOffset: '4',
    }));
    expect(first).toMatchObject({ version: '1' });
    // Memory at the stored version: its own state is handed to the work, nothing is read. (A
    // marker unlike the stored one shows which it got.)
    const states: unknown[] = [];
    await checkpointedTransaction(
      pool,
      k,
      { create: true, known: { version: '1', state: { mine: true } } },
      async (_tx, row) => {
        states.push(row.state);
        return { write: null, state: { windows: [1, 2, 3, 4] }, nextOffset: '5' };
      },
    );
    // Memory behind (another member committed version 2 since): the stored state, as it is.
    await checkpointedTransaction(
      pool,
      k,
      { create: true, known: { version: '1', state: { mine: true } } },
      async (_tx, row) => {
        states.push([row.version, row.state]);
        return { skip: 'look only' };
      },
    );
    // No memory (a first assignment): the stored state.
    await checkpointedTransaction(pool, k, { create: false }, async (_tx, row) => {
      states.push(row.state);
      return { skip: 'look only' };
    });
    expect(states).toEqual([{ mine: true }, ['2', { windows: [1, 2, 3, 4] }], { windows: [1, 2, 3, 4] }]);
  });

  it('stores the checkpoint as the text written (json, not jsonb): NUL and lone surrogates round trip, and the pipeline page still reads the rest', async () => {
    // jsonb refused both escapes (and parsed the whole checkpoint on every write); the records
    // that reach a job are made storable first, but a checkpoint is the job's own data.
    const odd = { path: 'a\u0000b', half: '\ud800x', watermark: 1_765_000_000_000 };
    const k = key();
    await checkpointedTransaction(pool, k, { create: true }, async () => ({
      write: null,
      state: odd,
      nextOffset: '2',
    }));
    expect((await progress(k))?.state).toEqual(odd);
    const stored = await pool.query<{ type: string; text: string }>(
      'SELECT pg_typeof(state)::text AS type, state::text AS text FROM consumer_progress WHERE job = $1 AND partition = $2',
      [k.job, k.partition],
    );
    expect(stored.rows[0]).toEqual({ type: 'json', text: JSON.stringify(odd) });
    const plain = key();
    await checkpointedTransaction(pool, plain, { create: true }, async () => ({
      write: null,
      state: { operators: [[60_000, { watermark: 1_765_000_060_000 }]] },
      nextOffset: '1',
    }));
    setEnv({ DATABASE_URL: d.url });
    const page = await pipelineOverview(Date.now());
    const row = (p: ProgressKey) => page.partitions.find((r) => r.job === p.job && r.partition === p.partition);
    expect(row(k)?.watermark).toBeNull();
    expect(row(k)?.checkpointBytes).toBe(Buffer.byteLength(JSON.stringify(odd)));
    expect(row(plain)?.watermark).toBe(1_765_000_060_000);
  });
});
