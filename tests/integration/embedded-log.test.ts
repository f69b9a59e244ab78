import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus, eraseDeletedSitesFromLog, eraseSiteFromLog, trimLog } from '@/lib/bus/embedded';
import { partitionFor } from '@/lib/bus/partitioner';
import type { ConsumedBatch } from '@/lib/bus/types';
import { setEnv } from '@/lib/env';
import { DAY, HOUR } from '@/lib/time';
import { siteHash } from '@/lib/sites/site-data';
import { retentionJob } from '@/workers/retention/retention-job';
import { runJob, type Job, type RunningJob } from '@/workers/runtime';
import { ok } from '@/workers/consumer/outcome';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { eventually } from '../helpers/wait';

// The embedded log's retention (issue 16): records older than EMBEDDED_LOG_RETENTION_MS go, as a
// prefix of each partition, but never one a consumer group has not committed past — whether the
// group commits on the bus or, like the stream jobs, stores its position in consumer_progress.
// And a deleted site's records: erased by key at the deletion, consumed or not (a job reads across
// the hole), and the ones that arrive afterwards by the retention job's sweep.
// Record timestamps, deletion times and the trim's `now` are fixed instants; nothing reads the wall clock.

const NOW = Date.parse('2026-03-28T10:00:00.000Z');
const RETENTION = 7 * DAY;
const OLD = NOW - 8 * DAY;
const YOUNG = NOW - HOUR;

let d: TestDatabase;
let pool: pg.Pool;
let bus: EmbeddedBus;
const running: RunningJob[] = [];

beforeAll(async () => {
  d = await freshDatabase('embedded_log');
  pool = new pg.Pool({ connectionString: d.url, max: 8 });
  pool.on('error', () => undefined);
  setEnv({ DATABASE_URL: d.url, BUS_NAMESPACE: `log${randomBytes(3).toString('hex')}.` });
  bus = new EmbeddedBus(pool, d.url);
});
afterAll(async () => {
  await Promise.allSettled(running.map((r) => r.stop()));
  await bus?.close();
  await pool?.end();
  await d?.drop();
});

/** A key that the partitioner sends to this partition. */
function keyOn(partition: number, partitions: number): string {
  for (let i = 0; ; i++) if (partitionFor(`key${i}`, partitions) === partition) return `key${i}`;
}

let topicSeq = 0;
async function topic(partitions = 1): Promise<string> {
  const name = `t${++topicSeq}-${randomBytes(3).toString('hex')}`;
  await bus.createTopics([{ name, partitions }]);
  return name;
}

/** Sends records with these timestamps to one key (so one partition, in order). */
async function produce(t: string, timestamps: number[], key = 'k'): Promise<string[]> {
  const reports = await bus.producer().send(
    t,
    timestamps.map((timestamp, i) => ({ key, value: `r${i}`, timestamp })),
  );
  return reports.map((r) => r.offset);
}

const offsetsOf = async (t: string, partition = 0) =>
  (
    await pool.query<{ offset: string }>(
      'SELECT m."offset"::text AS offset FROM bus_messages m WHERE m.topic = $1 AND m.partition = $2 ORDER BY m."offset"',
      [t, partition],
    )
  ).rows.map((r) => Number(r.offset));

/** A group's commit on the bus, as a consumer's batch.commit writes it. */
async function commitOnBus(group: string, t: string, partition: number, nextOffset: number): Promise<void> {
  const consumer = bus.consumer({ groupId: group, topics: [t], fromBeginning: true, maxBatchSize: nextOffset });
  let done!: () => void;
  const committed = new Promise<void>((resolve) => (done = resolve));
  await consumer.run(async (batch: ConsumedBatch) => {
    if (batch.partition !== partition || BigInt(batch.messages[0]!.offset) !== 0n) return;
    batch.resolveOffset(String(nextOffset - 1));
    await batch.commit(String(nextOffset));
    done();
  });
  await committed;
  await consumer.stop();
}

/** A stream job (workers/runtime.ts, effectively-once) that notes the offsets it applies. */
async function reader(t: string): Promise<{ job: Job<string>; seen: number[] }> {
  // One name per topic: a second reader of the topic resumes where the first stopped.
  const seen: number[] = [];
  const job: Job<string> = {
    name: `reader-${t}`,
    topic: t,
    decode: (m) => ok(m.value?.toString('utf8') ?? ''),
    restore: () => undefined,
    release: () => undefined,
    apply: async (_tx, _partition, records) => {
      seen.push(...records.map((r) => Number(r.message.offset)));
      return {};
    },
  };
  running.push(await runJob(job, bus, pool, { sessionTimeoutMs: 6000 }));
  return { job, seen };
}

describe('embedded log retention', () => {
  it('trims records past the retention once every group has consumed them, as a prefix', async () => {
    const t = await topic();
    // An old record after a young one stays: the log is cut before the first young record only.
    await produce(t, [...Array<number>(11).fill(OLD), YOUNG, OLD, YOUNG]);
    await commitOnBus('g-all', t, 0, 14);
    const r = await trimLog(pool, { now: NOW, retentionMs: RETENTION });
    // (Past ten records, so offset order is not text order.)
    expect(r.deleted).toBe(11);
    expect(await offsetsOf(t)).toEqual([11, 12, 13]);
    const [offsets] = await bus.topicOffsets(t);
    expect(offsets).toEqual({ partition: 0, low: '11', high: '14' });
    // Nothing more to trim: a second pass deletes nothing.
    expect((await trimLog(pool, { now: NOW, retentionMs: RETENTION })).deleted).toBe(0);
  });

  it('never trims past the slowest group: a bus commit, a job position in consumer_progress, or a partition a group has not read', async () => {
    const t = await topic(2);
    const [a, b] = [keyOn(0, 2), keyOn(1, 2)];
    await produce(t, [...Array<number>(10).fill(OLD), YOUNG], a);
    await produce(t, Array<number>(4).fill(OLD), b);
    // Partition 0 (10 old records, then a young one): a fast group past all, a job at 6, a slow group at 3.
    await commitOnBus('g-fast', t, 0, 11);
    await pool.query("INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ('job-x', $1, 0, 6)", [
      t,
    ]);
    await commitOnBus('g-slow', t, 0, 3);
    // Partition 1: the fast group and the job are past its 4 records; the slow group has not read it.
    await commitOnBus('g-fast', t, 1, 4);
    await pool.query("INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ('job-x', $1, 1, 4)", [
      t,
    ]);

    let r = await trimLog(pool, { now: NOW, retentionMs: RETENTION });
    expect(r.deleted).toBe(3);
    expect(await offsetsOf(t, 0)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await offsetsOf(t, 1)).toEqual([0, 1, 2, 3]);
    expect(r.heldBack).toEqual([
      { topic: t, partition: 0, slowest: '3' },
      { topic: t, partition: 1, slowest: '0' },
    ]);

    // The slow group catches up on both partitions: now the job's stored position holds partition 0 back.
    await commitOnBus('g-slow', t, 1, 4);
    await pool.query(
      'UPDATE bus_group_offsets SET "offset" = 11 WHERE group_id = \'g-slow\' AND topic = $1 AND partition = 0',
      [t],
    );
    r = await trimLog(pool, { now: NOW, retentionMs: RETENTION });
    expect(await offsetsOf(t, 0)).toEqual([6, 7, 8, 9, 10]);
    expect(await offsetsOf(t, 1)).toEqual([]);
    // Once the job is past them too, only the young record is left.
    await pool.query(
      "UPDATE consumer_progress SET next_offset = 11 WHERE job = 'job-x' AND topic = $1 AND partition = 0",
      [t],
    );
    r = await trimLog(pool, { now: NOW, retentionMs: RETENTION });
    expect(await offsetsOf(t, 0)).toEqual([10]);
    expect(r.heldBack).toEqual([]);
    // An emptied partition keeps its offsets: the next record continues where the log was.
    const next = await bus.producer().send(t, [{ key: b, value: 'y', timestamp: YOUNG }]);
    expect(next[0]).toMatchObject({ partition: 1, offset: '4' });
  });

  it('trims a topic no group commits on (live notices) by age alone', async () => {
    const t = await topic();
    await produce(t, [OLD, OLD, YOUNG]);
    // A reader that never commits, as each web process's live relay.
    const r = await trimLog(pool, { now: NOW, retentionMs: RETENTION });
    expect(r.deleted).toBe(2);
    expect(await offsetsOf(t)).toEqual([2]);
  });

  it('the retention job trims the log when the bus is the embedded log, and leaves it alone otherwise', async () => {
    const t = await topic();
    await produce(t, [OLD, YOUNG]);
    const withoutLog = await retentionJob({ db: pool }).runOnce(NOW);
    expect(withoutLog?.log).toBeNull();
    expect(await offsetsOf(t)).toEqual([0, 1]);
    const pass = await retentionJob({ db: pool, logRetentionMs: RETENTION }).runOnce(NOW);
    expect(pass?.log?.deleted).toBeGreaterThanOrEqual(1);
    expect(await offsetsOf(t)).toEqual([1]);
  });

  it(
    'a job started after a trim begins at the first record the log still holds instead of seeking back forever',
    { timeout: 30_000 },
    async () => {
      const t = await topic();
      await produce(t, [OLD, OLD, OLD, YOUNG, YOUNG]);
      await trimLog(pool, { now: NOW, retentionMs: RETENTION });
      expect(await offsetsOf(t)).toEqual([3, 4]);
      const { job, seen } = await reader(t);
      await eventually(async () => seen.length === 2, 20_000, 'the job read the records the log holds');
      expect(seen).toEqual([3, 4]);
      const stored = await pool.query<{ next_offset: string }>(
        'SELECT next_offset::text FROM consumer_progress WHERE job = $1',
        [job.name],
      );
      expect(stored.rows[0]!.next_offset).toBe('5');
    },
  );
});

describe('erasing a deleted site from the embedded log', () => {
  it("erases the site's records by key on every topic, and no other site's", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const events = await topic(2);
    const live = await topic(1);
    await bus.producer().send(
      events,
      [a, b, a, b].map((site, i) => ({
        key: `${site}:visitor${i}`,
        value: JSON.stringify({ siteId: site }),
        timestamp: YOUNG,
      })),
    );
    await bus.producer().send(
      live,
      [a, b].map((site) => ({
        key: site,
        value: JSON.stringify({ type: 'changed', siteId: site, at: YOUNG }),
        timestamp: YOUNG,
      })),
    );
    // A key that only starts with the id's characters is another key.
    await bus.producer().send(live, [{ key: `${a}x`, value: 'other', timestamp: YOUNG }]);
    expect(await eraseSiteFromLog(pool, a)).toBe(3);
    const left = await pool.query<{ key: string }>(
      "SELECT convert_from(key, 'UTF8') AS key FROM bus_messages WHERE topic = ANY($1) ORDER BY 1",
      [[events, live]],
    );
    expect(left.rows.map((r) => r.key).sort()).toEqual([`${a}x`, b, `${b}:visitor1`, `${b}:visitor3`].sort());
    expect(await eraseSiteFromLog(pool, a)).toBe(0);
  });

  it(
    'a stream job reads on across the hole an erasure leaves where it had not read yet',
    { timeout: 30_000 },
    async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const t = await topic();
      const first = await reader(t);
      const send = (sites: string[]) =>
        bus.producer().send(
          t,
          sites.map((site, i) => ({ key: `${site}:v${i}`, value: site, timestamp: YOUNG })),
        );
      await send([b, b, b]);
      await eventually(async () => first.seen.length === 3, 20_000, 'the job read the first records');
      await running.pop()!.stop();
      // While the job is down, A's records arrive and are erased: its next batch starts at offset 5, past its position 3.
      await send([a, a, b, a, b]);
      expect(await eraseSiteFromLog(pool, a)).toBe(3);
      const { job, seen } = await reader(t);
      await eventually(async () => seen.length === 2, 20_000, "the job read B's records after the hole");
      expect(seen).toEqual([5, 7]);
      const stored = await pool.query<{ next_offset: string }>(
        'SELECT next_offset::text FROM consumer_progress WHERE job = $1',
        [job.name],
      );
      expect(stored.rows[0]!.next_offset).toBe('8');
    },
  );

  it("the retention job's sweep erases records of deleted sites that arrived after the deletion, and does not scan the log for deletions older than it", async () => {
    const [gone, goneLongAgo, kept] = [randomUUID(), randomUUID(), randomUUID()];
    const t = await topic();
    await bus.producer().send(
      t,
      [gone, kept, goneLongAgo, gone].map((site, i) => ({ key: `${site}:v${i}`, value: site, timestamp: YOUNG })),
    );
    // Deleted just before these records arrived (site-key cache, sends in flight).
    await pool.query('INSERT INTO deleted_sites (site_hash, deleted_at) VALUES ($1, $2)', [
      siteHash(gone),
      new Date(YOUNG - 60_000),
    ]);
    // Deleted long before the oldest record in the log: the sweep does not look for it (it cannot have records here
    // in real life; this one is planted to show the log is not scanned for it).
    await pool.query('INSERT INTO deleted_sites (site_hash, deleted_at) VALUES ($1, $2)', [
      siteHash(goneLongAgo),
      new Date(OLD - 30 * DAY),
    ]);
    expect(await eraseDeletedSitesFromLog(pool)).toBe(2);
    const left = await pool.query<{ key: string }>(
      'SELECT convert_from(key, \'UTF8\') AS key FROM bus_messages WHERE topic = $1 ORDER BY "offset"',
      [t],
    );
    expect(left.rows.map((r) => r.key)).toEqual([`${kept}:v1`, `${goneLongAgo}:v2`]);
    // Through the retention job, which runs it every pass.
    await bus.producer().send(t, [{ key: `${gone}:late`, value: gone, timestamp: YOUNG }]);
    const pass = await retentionJob({ db: pool }).runOnce(NOW);
    expect(pass?.erasedFromLog).toBe(1);
  });
});
