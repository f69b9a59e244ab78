import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusConsumer, BusMessage, ConsumedBatch } from '@/lib/bus';
import type { Json } from '@/lib/stream';
import { applyBatchStep } from '@/workers/consumer/batch';
import { MemoryCheckpoints } from '@/workers/consumer/checkpoint';
import { NO_HOOKS } from '@/workers/consumer/hooks';
import { claimEventIds } from '@/workers/shared/event-ids';
import { dropDuplicates } from '@/workers/shared/event-steps';
import type { EventRecord } from '@/lib/events/record';
import type { Ready } from '@/workers/consumer/steps';
import type { Job } from '@/workers/consumer/job';
import { deadLetter, drop, ok } from '@/workers/consumer/outcome';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// The consumer runtime's batch step (workers/consumer/batch.ts) on a real PostgreSQL and no bus:
// the batch arrives as data, and what the bus would be told (resolve, commit, seek) is recorded.
// Output, position and checkpoint commit together; after-commit effects run only after COMMIT; a
// failure that is the data's fault is applied again record by record and the culprit
// dead-lettered; a failure that is the world's fault commits nothing and rolls memory back.

let d: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  d = await freshDatabase('batch_step');
  pool = new pg.Pool({ connectionString: d.url, max: 6 });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE output (partition int, "offset" bigint, value text)');
});
afterAll(async () => {
  await pool?.end();
  await d?.drop();
});

let nextPartition = 0;

/** A job that writes one row per record; `poison` throws (its own bug), a world failure can be armed. */
function testJob() {
  const restored: (Json | null)[] = [];
  const seenAfterCommit: number[] = [];
  const world = { failNext: false };
  let applied = 0;
  const job: Job<string> = {
    name: 'batch-step-test',
    topic: 'events',
    decode: (m) => {
      const v = m.value?.toString('utf8') ?? '';
      return v.startsWith('{') ? deadLetter('not a value this job reads') : ok(v);
    },
    steps: [
      {
        name: 'dups',
        judge: async (_tx, rs) => rs.map((r) => (r.record === 'dup' ? drop('duplicate') : ok(r.record))),
      },
    ],
    restore: (_p, state) => {
      restored.push(state);
      applied = typeof state === 'number' ? state : 0;
    },
    release: () => undefined,
    apply: async (tx, partition, records) => {
      if (world.failNext) {
        world.failNext = false;
        throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      }
      for (const r of records) {
        if (r.record === 'poison') throw new TypeError('cannot read what poison holds');
        await tx.query('INSERT INTO output VALUES ($1, $2, $3)', [partition, r.message.offset, r.record]);
        applied++;
      }
      return {
        state: applied,
        after: async () => {
          // Runs after COMMIT: another connection already sees the rows.
          const r = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM output WHERE partition = $1', [
            partition,
          ]);
          seenAfterCommit.push(r.rows[0]!.n);
        },
      };
    },
  };
  return { job, restored, seenAfterCommit, world };
}

function harness() {
  const partition = nextPartition++;
  const t = testJob();
  const memory = new MemoryCheckpoints(t.job);
  memory.assign(partition, undefined);
  const told = { resolved: [] as string[], committed: [] as string[], seeks: [] as string[] };
  const bus = { firstStoredOffset: async (_t: string, _p: number, from: string) => from } as unknown as Bus;
  const consumer = {
    seek: async (_t: string, _p: number, target: unknown) => void told.seeks.push(String(target)),
  } as unknown as BusConsumer;
  const batch = (first: number, values: string[]): ConsumedBatch => ({
    topic: 'events',
    partition,
    messages: values.map((v, i): BusMessage => ({
      topic: 'events',
      partition,
      offset: String(first + i),
      key: null,
      value: Buffer.from(v),
      timestamp: 0,
      headers: {},
    })),
    resolveOffset: (o) => void told.resolved.push(o),
    commit: async (n) => void told.committed.push(n),
    heartbeat: async () => undefined,
    isStale: () => false,
  });
  const step = (first: number, values: string[]) =>
    applyBatchStep({ job: t.job, bus, pool, hooks: NO_HOOKS, memory, consumer }, batch(first, values));
  const stored = async () => ({
    progress: (
      await pool.query<{ next_offset: string; state: Json }>(
        "SELECT next_offset::text, state FROM consumer_progress WHERE job = 'batch-step-test' AND partition = $1",
        [partition],
      )
    ).rows[0],
    output: (
      await pool.query<{ value: string }>('SELECT value FROM output WHERE partition = $1 ORDER BY "offset"', [
        partition,
      ])
    ).rows.map((r) => r.value),
    dead: (
      await pool.query<{ offset: string; reason: string }>(
        'SELECT "offset"::text AS offset, reason FROM dead_letters WHERE job = \'batch-step-test\' AND partition = $1 ORDER BY "offset"',
        [partition],
      )
    ).rows,
  });
  return { ...t, told, step, stored, memory, partition };
}

describe('the batch step', () => {
  it('commits output, position and checkpoint together, then tells the bus, then runs the effects', async () => {
    const h = harness();
    await h.step(0, ['a', 'b', 'c']);
    expect(await h.stored()).toEqual({ progress: { next_offset: '3', state: 3 }, output: ['a', 'b', 'c'], dead: [] });
    expect(h.told).toEqual({ resolved: ['2'], committed: ['3'], seeks: [] });
    expect(h.seenAfterCommit).toEqual([3]);
    // Delivered again (the bus commit was lost): nothing is applied twice.
    await h.step(0, ['a', 'b', 'c']);
    expect((await h.stored()).output).toEqual(['a', 'b', 'c']);
  });

  it('books every outcome: unreadable and failing records dead-lettered, drops left out, the rest applied', async () => {
    const h = harness();
    await h.step(0, ['a', '{unreadable', 'dup', 'poison', 'b']);
    const s = await h.stored();
    // The batch failed on its data (a TypeError from the job's code): applied again one record at a time.
    expect(s.output).toEqual(['a', 'b']);
    expect(s.dead).toEqual([
      { offset: '1', reason: 'not a value this job reads' },
      { offset: '3', reason: 'apply failed: cannot read what poison holds' },
    ]);
    expect(s.progress).toEqual({ next_offset: '5', state: 2 });
    expect(h.told.committed).toEqual(['5']);
  });

  it('commits nothing on a failure that is the world’s fault, puts memory back, and applies once when retried', async () => {
    const h = harness();
    await h.step(0, ['a']);
    h.world.failNext = true;
    await expect(h.step(1, ['b', 'c'])).rejects.toThrow(/serialize/);
    expect(await h.stored()).toEqual({ progress: { next_offset: '1', state: 1 }, output: ['a'], dead: [] });
    expect(h.told.committed).toEqual(['1']); // the bus heard nothing of the failed batch
    expect(h.restored.at(-1)).toBe(1); // memory back at the last committed checkpoint
    await h.step(1, ['b', 'c']);
    expect(await h.stored()).toEqual({ progress: { next_offset: '3', state: 3 }, output: ['a', 'b', 'c'], dead: [] });
  });

  it('does not apply a batch that starts past the stored position: it seeks back to it', async () => {
    const h = harness();
    await h.step(0, ['a']);
    await h.step(5, ['f', 'g']);
    expect(h.told.seeks).toEqual(['1']);
    expect(await h.stored()).toEqual({ progress: { next_offset: '1', state: 1 }, output: ['a'], dead: [] });
  });
});

describe('the batch step with event ids and the ledger', () => {
  // The dedup step on event_ids, as the event jobs run it, and a job that books the ledger: a
  // duplicate is booked once in its site's ledger row, only when its batch commits, however many
  // times the batch is attempted; an upper-case id (an events-API client's UUID) is not mistaken
  // for a duplicate of itself.
  const SITE = '7e57e57e-0000-4000-8000-000000000001';
  const POISON = 'ffffffff-ffff-4fff-bfff-ffffffffffff';
  type Rec = { eventId: string; siteId: string };

  function ledgerHarness() {
    const partition = nextPartition++;
    const name = `ledger-step-${partition}`;
    const job: Job<Rec> = {
      name,
      topic: 'events',
      booksLedger: true,
      decode: (m) => ok({ eventId: m.value!.toString('utf8'), siteId: SITE }),
      steps: [
        {
          name: 'event-ids',
          judge: async (tx, rs) => {
            const fresh = new Set(await claimEventIds(tx, name, rs));
            return rs.map((r) => (fresh.has(r) ? ok(r.record) : drop('duplicate', r.record.siteId)));
          },
        },
      ],
      restore: () => undefined,
      release: () => undefined,
      apply: async (tx, p, records) => {
        for (const r of records) {
          if (r.record.eventId === POISON) throw new TypeError('poison');
          await tx.query('INSERT INTO output VALUES ($1, $2, $3)', [
            p,
            r.message.offset,
            r.record.eventId.toLowerCase(),
          ]);
        }
        return { state: null };
      },
    };
    const memory = new MemoryCheckpoints(job);
    memory.assign(partition, undefined);
    const bus = { firstStoredOffset: async (_t: string, _p: number, from: string) => from } as unknown as Bus;
    const consumer = { seek: async () => undefined } as unknown as BusConsumer;
    const step = (first: number, ids: string[]) =>
      applyBatchStep(
        { job, bus, pool, hooks: NO_HOOKS, memory, consumer },
        {
          topic: 'events',
          partition,
          messages: ids.map((id, i) => ({
            topic: 'events',
            partition,
            offset: String(first + i),
            key: null,
            value: Buffer.from(id),
            timestamp: 0,
            headers: {},
          })),
          resolveOffset: () => undefined,
          commit: async () => undefined,
          heartbeat: async () => undefined,
          isStale: () => false,
        },
      );
    const applied = async () =>
      (
        await pool.query<{ value: string }>('SELECT value FROM output WHERE partition = $1 ORDER BY "offset"', [
          partition,
        ])
      ).rows.map((r) => r.value);
    return { step, applied };
  }
  const duplicates = async () =>
    (
      await pool.query<{ n: number }>(
        'SELECT coalesce(sum(duplicates), 0)::int AS n FROM ingestion_ledger WHERE site_id = $1',
        [SITE],
      )
    ).rows[0]!.n;

  it('books each duplicate once, on commit only, and never takes an upper-case id for a duplicate', async () => {
    const h = ledgerHarness();
    const before = await duplicates();
    const a = '0000000a-0000-4000-8000-000000000000';
    const b = '0000000b-0000-4000-8000-00000000abcd';
    const c = '0000000c-0000-4000-8000-000000000000';
    const d = '0000000d-0000-4000-8000-000000000000';
    // A re-send in the same batch; an upper-case id.
    await h.step(0, [a, b.toUpperCase(), a]);
    expect(await h.applied()).toEqual([a, b]);
    expect((await duplicates()) - before).toBe(1);
    // The upper-case event re-sent in lower case is the same event.
    await h.step(3, [b, c]);
    expect(await h.applied()).toEqual([a, b, c]);
    expect((await duplicates()) - before).toBe(2);
    // A batch that fails on its data is attempted twice (whole, then record by record): its
    // duplicate is booked once, by the attempt that commits.
    await h.step(5, [c, POISON, d]);
    expect(await h.applied()).toEqual([a, b, c, d]);
    expect((await duplicates()) - before).toBe(3);
  });
});

describe('the event-id step with a job that claims only some records', () => {
  it('lets the records the job does not count through without an event_ids row, and still drops re-sends of the ones it counts', async () => {
    const job = `claim-some-${nextPartition++}`;
    const rec = (eventId: string, siteId: string) =>
      ({ message: {} as BusMessage, record: { eventId, siteId } as EventRecord }) as Ready<EventRecord>;
    const withFunnels = '00000000-0000-4000-8000-00000000000a';
    const without = '00000000-0000-4000-8000-00000000000b';
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const step = dropDuplicates(job, (e) => e.siteId === withFunnels);
    const judge = async (records: Ready<EventRecord>[]) => {
      const c = await pool.connect();
      try {
        return (await step.judge(c, records)).map((o) => o.kind);
      } finally {
        c.release();
      }
    };
    const first = [rec(ids[0]!, withFunnels), rec(ids[1]!, without), rec(ids[2]!, withFunnels), rec(ids[1]!, without)];
    expect(await judge(first)).toEqual(['ok', 'ok', 'ok', 'ok']);
    // Re-sent: the counted ones are duplicates now, the uncounted pass again (they only move event time).
    expect(await judge([rec(ids[0]!, withFunnels), rec(ids[1]!, without), rec(ids[3]!, withFunnels)])).toEqual([
      'drop',
      'ok',
      'ok',
    ]);
    const rows = await pool.query<{ event_id: string }>(
      'SELECT event_id::text FROM event_ids WHERE job = $1 ORDER BY 1',
      [job],
    );
    expect(rows.rows.map((r) => r.event_id)).toEqual([ids[0]!, ids[2]!, ids[3]!].sort());
    // Without a predicate every record is claimed, as before.
    const all = dropDuplicates(`${job}-all`);
    const c = await pool.connect();
    try {
      expect((await all.judge(c, [rec(ids[1]!, without)])).map((o) => o.kind)).toEqual(['ok']);
      expect((await all.judge(c, [rec(ids[1]!, without)])).map((o) => o.kind)).toEqual(['drop']);
    } finally {
      c.release();
    }
  });
});
