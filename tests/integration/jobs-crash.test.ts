import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { KafkaBus } from '@/lib/bus/kafka';
import {
  batchTilingDifferences,
  caughtUp,
  clockEvents,
  createPipelineTopics,
  createSites,
  distinct,
  eventIdDifferences,
  installBatchLog,
  jobGroup,
  loggedBatches,
  offsetDifferences,
  pipelineTopics,
  produceEvents,
  rollupDifferences,
  sessionDifferences,
  sleep,
  spawnWorker,
  STREAM_JOBS,
  storedProgress,
  type Delivery,
  type WorkerProcess,
} from '@/bench/support/e2e-pipeline';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { generateVisits, MINUTE, outOfOrder, rng, type GeneratedEvent } from '../helpers/traffic';
import { eventually } from '../helpers/wait';
import { pipelineWorkerEnv } from './support/pipeline-worker';

// Crash recovery of the stream jobs as separate processes, on real Kafka (3 partitions) and real
// PostgreSQL. For each test crash point of workers/runtime.ts, a `rollups sessions` worker kills
// itself (SIGKILL) on its 8th batch while a fixed, seeded stream of events (with producer
// re-sends of the same event ids) is being produced; the state it leaves must be a committed
// prefix of each partition; a restarted worker must bring every partition to the topic's high
// watermark, and then the rollups equal the ground truth exactly, the sessions (one-minute gap,
// closed by a last event "now" on each partition) equal sessions by definition, every event id
// is applied once per job, committed offsets never run ahead of the database, and the committed
// batches tile each partition. The crash points run concurrently (each its own database and bus
// namespace): a killed member stays in the consumer group until its 30 s session times out, so
// each restart waits that long for its partitions. Also here: negative controls (a position
// stored past a rolled-back batch; corrupted rows) that the checks must catch, a failed COMMIT,
// and a restart with --from earliest.

const POINTS = ['before-tx', 'mid-tx', 'after-commit-before-offset', 'after-offset-before-live'] as const;
type CrashPoint = (typeof POINTS)[number];
const CRASH_AFTER = 8;
const CHUNKS = 16;
const logDir = path.resolve(import.meta.dirname, '../artifacts');

interface Scenario {
  point: CrashPoint;
  db: TestDatabase;
  pool: pg.Pool;
  namespace: string;
  sites: string[];
  deliveries: Delivery<GeneratedEvent>[];
  workers: WorkerProcess[];
  verified: boolean;
}

const scenarios = new Map<string, Scenario>();
let bus: KafkaBus;

beforeAll(() => {
  mkdirSync(logDir, { recursive: true });
  bus = new KafkaBus(kafkaBrokers(), 'jobs-crash-test');
});

afterAll(async () => {
  for (const s of scenarios.values()) {
    for (const w of s.workers) await w.stop(3000);
    await s.pool.end();
    await s.db.drop();
  }
  await bus?.close();
}, 60_000);

function workerEnv(s: Scenario, crash?: CrashPoint, crashJob?: string): Record<string, string | undefined> {
  return {
    ...pipelineWorkerEnv(s.db.url, s.namespace),
    EDDY_TEST_CRASH_POINT: crash,
    EDDY_TEST_CRASH_AFTER: crash ? String(CRASH_AFTER) : undefined,
    EDDY_TEST_CRASH_JOB: crashJob,
  };
}

/** Visits over the last ~12 minutes (event time recent, so nothing is beyond allowed lateness). */
function traffic(seed: number, sites: string[]): GeneratedEvent[] {
  const now = Date.now();
  const events = generateVisits({
    seed,
    sites,
    visitors: 120,
    start: Math.floor((now - 12 * MINUTE) / MINUTE) * MINUTE,
    spanMs: 3 * MINUTE,
    gapMs: 20_000,
  });
  if (events.some((e) => e.ts > now)) throw new Error('generated events in the future: shorten the span');
  return outOfOrder(events, 20_000, seed + 1);
}

/** Chunks of the arrival order, each followed by re-sends of 3 events already produced (same id, same key). */
function chunksWithResends(arrival: GeneratedEvent[], seed: number): GeneratedEvent[][] {
  const r = rng(seed + 2);
  const size = Math.ceil(arrival.length / CHUNKS);
  const chunks: GeneratedEvent[][] = [];
  for (let i = 0; i < arrival.length; i += size) {
    const chunk = arrival.slice(i, i + size);
    const resends = i === 0 ? [] : Array.from({ length: 3 }, () => arrival[Math.floor(r() * i)]!);
    chunks.push([...chunk, ...resends]);
  }
  return chunks;
}

/** Waits until PostgreSQL has no connection of `app` left (a killed worker's open transaction is then rolled back). */
async function backendsGone(s: Scenario, app: string): Promise<void> {
  await eventually(
    async () =>
      (
        await s.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
          [s.db.name, app],
        )
      ).rows[0]!.n === 0,
    15_000,
    `connections of ${app} closed`,
  );
}

/**
 * What a stopped worker left behind must be a committed prefix of every partition: for each job
 * and partition, exactly the events below the stored next offset are applied (event ids, and for
 * rollups the partition's minute, hour and day rows), and Kafka's committed offset is not ahead.
 */
async function prefixDifferences(s: Scenario): Promise<{ differences: string[]; committedBehindStored: number }> {
  const topic = pipelineTopics(s.namespace).events;
  const progress = await storedProgress(s.pool, topic);
  const differences: string[] = [];
  let committedBehindStored = 0;
  for (const job of STREAM_JOBS) {
    const committed = await bus.committedOffsets(jobGroup(s.namespace, job), topic);
    const applied: GeneratedEvent[] = [];
    for (const partition of [0, 1, 2]) {
      const next = progress.find((p) => p.job === job && p.partition === partition)?.nextOffset ?? 0n;
      const c = BigInt(committed.find((x) => x.partition === partition)?.offset ?? '0');
      if (c > next) differences.push(`${job}/${partition}: committed offset ${c} ahead of stored next offset ${next}`);
      if (c < next) committedBehindStored++;
      const prefix = s.deliveries.filter((d) => d.partition === partition && d.offset < next).map((d) => d.event);
      applied.push(...prefix);
      if (job === 'rollups') differences.push(...(await rollupDifferences(s.pool, prefix, s.sites, partition)));
    }
    differences.push(...(await eventIdDifferences(s.pool, new Set(distinct(applied).map((e) => e.eventId)), [job])));
  }
  return { differences, committedBehindStored };
}

interface Run {
  s: Scenario;
  topic: string;
  crashing: WorkerProcess;
  restarted: WorkerProcess;
  atCrash: { differences: string[]; committedBehindStored: number };
  chunksBeforeCrash: number;
  restartWaitMs: number;
}

/**
 * Starts a worker that kills itself at `point`, produces the seeded stream chunk by chunk until it
 * has died (asserting how), checks what it left, lets `meddle` change the database (negative
 * control), restarts a clean worker, produces the rest and waits until both jobs caught up.
 */
async function crashAndRestart(
  label: string,
  point: CrashPoint,
  seed: number,
  expect: ExpectStatic,
  meddle?: (s: Scenario) => Promise<void>,
  crashJob?: string,
): Promise<Run> {
  const db = await freshDatabase(`crash_${label}`);
  const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'jobs-crash-checker' });
  pool.on('error', () => undefined);
  const s: Scenario = {
    point,
    db,
    pool,
    namespace: `crash${randomBytes(3).toString('hex')}.`,
    sites: [],
    deliveries: [],
    workers: [],
    verified: false,
  };
  scenarios.set(label, s);
  s.sites = (await createSites(pool, ['alpha', 'beta'])).map((x) => x.id);
  // One-minute visits, so sessions close within the test (see clockEvents).
  await pool.query('UPDATE sites SET session_gap_minutes = 1 WHERE id = ANY($1::uuid[])', [s.sites]);
  await installBatchLog(pool);
  await createPipelineTopics(bus, s.namespace, 3);
  const topic = pipelineTopics(s.namespace).events;
  const arrival = traffic(seed, s.sites);
  const chunks = chunksWithResends(arrival, seed);
  const produce = async (i: number) => s.deliveries.push(...(await produceEvents(bus, topic, chunks[i]!)));

  // 1. A worker that kills itself at the crash point on its 8th batch (both jobs count).
  const crashing = spawnWorker({
    name: `crash-${label}-1`,
    jobs: ['rollups', 'sessions'],
    env: workerEnv(s, point, crashJob),
    logFile: path.join(logDir, `jobs-crash-${label}-1.log`),
  });
  s.workers.push(crashing);
  await crashing.waitForLine(/job sessions running/, 30_000);
  let dead = false;
  void crashing.ended.then(() => (dead = true));
  let next = 0;
  await produce(next++);
  // The first chunk applied (the group has formed), then chunk after chunk until the worker dies.
  await eventually(async () => dead || (await storedProgress(pool, topic)).length > 0, 30_000, 'first chunk applied');
  while (!dead && next < chunks.length) {
    await produce(next++);
    await sleep(250);
  }
  const end = await Promise.race([crashing.ended, sleep(30_000).then(() => null)]);
  expect(end, `worker killed itself at ${point}`).not.toBeNull();
  expect(end!.signal).toBe('SIGKILL');
  expect(crashing.lines.some((l) => l.includes(`[crash-test] dying at ${point}`))).toBe(true);
  const chunksBeforeCrash = next;
  expect(chunksBeforeCrash, 'crashed mid-stream, with chunks still to produce').toBeLessThan(chunks.length);

  // 2. What it left (its open transaction rolled back once its connections are gone).
  await backendsGone(s, crashing.name);
  await meddle?.(s);
  const atCrash = await prefixDifferences(s);

  // 3. Restart without the crash point and keep producing; more re-sends at the end.
  const restartedAt = Date.now();
  const restarted = spawnWorker({
    name: `crash-${label}-2`,
    jobs: ['rollups', 'sessions'],
    env: workerEnv(s),
    logFile: path.join(logDir, `jobs-crash-${label}-2.log`),
  });
  s.workers.push(restarted);
  while (next < chunks.length) {
    await produce(next++);
    await sleep(100);
  }
  const r = rng(seed + 3);
  s.deliveries.push(
    ...(await produceEvents(
      bus,
      topic,
      Array.from({ length: 20 }, () => arrival[Math.floor(r() * arrival.length)]!),
    )),
  );
  // Event time to the present on every partition: every traffic session closes.
  s.deliveries.push(...(await produceEvents(bus, topic, clockEvents(arrival[0]!, s.sites[0]!, 3))));
  await eventually(
    () => caughtUp(bus, pool, topic),
    90_000,
    `both jobs applied every partition up to its high watermark (${label})`,
  );
  return { s, topic, crashing, restarted, atCrash, chunksBeforeCrash, restartWaitMs: Date.now() - restartedAt };
}

describe.concurrent('a worker killed -9 at a crash point, then restarted', () => {
  POINTS.forEach((point, index) => {
    it(
      `${point}: what it left is a committed prefix; after the restart rollups equal the ground truth, each event id applied once per job, offsets consistent`,
      { timeout: 110_000 },
      async ({ expect }) => {
        const run = await crashAndRestart(point, point, 1000 + index, expect);
        const { s, topic, crashing, restarted } = run;
        expect(run.atCrash.differences).toEqual([]);
        // Killed between COMMIT and the offset commit: the database is ahead of Kafka somewhere.
        if (point === 'after-commit-before-offset') expect(run.atCrash.committedBehindStored).toBeGreaterThan(0);

        const all = s.deliveries.map((d) => d.event);
        const resent = s.deliveries.length - distinct(all).length;
        expect(resent, 'events re-sent with the same id').toBeGreaterThanOrEqual(40);
        expect(await rollupDifferences(s.pool, all, s.sites)).toEqual([]);
        expect(await eventIdDifferences(s.pool, new Set(all.map((e) => e.eventId)))).toEqual([]);
        expect(await sessionDifferences(s.pool, all, s.sites, MINUTE, (v) => !v.startsWith('clock-'))).toEqual([]);
        expect(await offsetDifferences(bus, s.pool, s.namespace)).toEqual([]);
        const batches = await loggedBatches(s.pool);
        expect(batchTilingDifferences(batches, await bus.topicOffsets(topic))).toEqual([]);
        // Both processes applied batches: the crashed one before dying, the restarted one after.
        const byCrashed = batches.filter((b) => b.app === crashing.name).length;
        const byRestarted = batches.filter((b) => b.app === restarted.name).length;
        expect(byCrashed).toBeGreaterThan(0);
        expect(byRestarted).toBeGreaterThan(0);
        s.verified = true;
        const deadlocks = [crashing, restarted]
          .flatMap((w) => w.lines)
          .filter((l) => l.includes('deadlock detected')).length;
        console.log(
          `[jobs-crash] ${point}: ${distinct(all).length} events + ${resent} re-sends; killed after ${run.chunksBeforeCrash}/${CHUNKS + 1} chunks; ` +
            `batches committed: ${byCrashed} by the killed worker, ${byRestarted} after the restart; restart caught up in ${run.restartWaitMs} ms; batches retried after a deadlock: ${deadlocks}`,
        );
        await restarted.stop();
        expect((await restarted.ended).code, 'graceful stop').toBe(0);
      },
    );
  });

  it(
    'negative control: a stored position past a rolled-back batch (what committing the offset before the transaction leaves) fails these checks',
    { timeout: 110_000 },
    async ({ expect }) => {
      let skipped: Delivery<GeneratedEvent>[] = [];
      const run = await crashAndRestart(
        'sabotage',
        'mid-tx',
        1100,
        expect,
        async (s) => {
          // Move the rollups position of the partition with the most unapplied records to its high watermark.
          const topic = pipelineTopics(s.namespace).events;
          const progress = await storedProgress(s.pool, topic);
          const highs = await bus.topicOffsets(topic);
          const lag = highs.map((h) => ({
            partition: h.partition,
            from: progress.find((p) => p.job === 'rollups' && p.partition === h.partition)?.nextOffset ?? 0n,
            to: BigInt(h.high),
          }));
          const worst = lag.sort((a, b) => Number(b.to - b.from - (a.to - a.from)))[0]!;
          expect(worst.to, 'records the killed worker fetched but never committed').toBeGreaterThan(worst.from);
          skipped = s.deliveries.filter(
            (d) => d.partition === worst.partition && d.offset >= worst.from && d.offset < worst.to,
          );
          await s.pool.query(
            "INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ('rollups', $1, $2, $3) ON CONFLICT (job, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
            [topic, worst.partition, worst.to.toString()],
          );
          // Killed inside a rollups batch: that batch's records are behind the rollups position by
          // construction (a sessions batch dying while rollups had caught up left nothing to skip).
        },
        'rollups',
      );
      const { s } = run;
      // The crash-time check already sees it: the database claims offsets whose events it lacks.
      expect(run.atCrash.differences).not.toEqual([]);
      // And after the restart caught up, events are missing: unless re-sent later, skipped ids were never applied by rollups.
      const all = s.deliveries.map((d) => d.event);
      const appliedElsewhere = new Set(s.deliveries.filter((d) => !skipped.includes(d)).map((d) => d.event.eventId));
      const lost = distinct(skipped.map((d) => d.event)).filter((e) => !appliedElsewhere.has(e.eventId));
      expect(
        lost.length,
        'skipped events that no other record (an earlier or later re-send) brought in',
      ).toBeGreaterThan(0);
      const ids = await eventIdDifferences(s.pool, new Set(all.map((e) => e.eventId)));
      expect(
        ids.some((d) => d.startsWith(`rollups: ${lost.length} event id(s) never applied`)),
        ids.join('; '),
      ).toBe(true);
      const counted = lost.filter((e) => e.name !== 'engagement');
      const rollups = await rollupDifferences(s.pool, all, s.sites);
      if (counted.length) expect(rollups).not.toEqual([]);
      console.log(
        `[jobs-crash] negative control: ${skipped.length} record(s) skipped, ${lost.length} event(s) lost; the checker reported ${ids.length + rollups.length} difference(s), e.g. ${rollups[0] ?? ids[0]}`,
      );
    },
  );
});

describe.concurrent('a failed COMMIT', () => {
  // Regression test. workers/runtime.ts used to record a batch's checkpoint as committed
  // (committedState.set) inside the transaction callback, before COMMIT. When COMMIT itself fails
  // (here a deferred constraint trigger raises at commit time, as a terminated backend or a
  // commit-time constraint would), the catch block "restored" that uncommitted checkpoint,
  // kafkajs redelivered the batch, and its events, no longer in event_ids (rolled back), were added
  // a second time to operator state that already held them (fixed in 8d725df).
  it(
    'is retried without double counting: rollups and sessions still equal the ground truth',
    { timeout: 110_000 },
    async ({ expect }) => {
      const db = await freshDatabase('crash_commit_fails');
      const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'jobs-crash-checker' });
      pool.on('error', () => undefined);
      const s: Scenario = {
        point: 'mid-tx',
        db,
        pool,
        namespace: `crash${randomBytes(3).toString('hex')}.`,
        sites: [],
        deliveries: [],
        workers: [],
        verified: false,
      };
      scenarios.set('commit-fails', s);
      s.sites = (await createSites(pool, ['alpha', 'beta'])).map((x) => x.id);
      await pool.query('UPDATE sites SET session_gap_minutes = 1 WHERE id = ANY($1::uuid[])', [s.sites]);
      await createPipelineTopics(bus, s.namespace, 3);
      const topic = pipelineTopics(s.namespace).events;
      const arrival = traffic(1200, s.sites);
      const half = Math.floor(arrival.length / 2);
      const worker = spawnWorker({
        name: 'commit-fails',
        jobs: ['rollups', 'sessions'],
        env: workerEnv(s),
        logFile: path.join(logDir, 'jobs-crash-commit-fails.log'),
      });
      s.workers.push(worker);
      await worker.waitForLine(/job sessions running/, 30_000);
      s.deliveries.push(...(await produceEvents(bus, topic, arrival.slice(0, half))));
      await eventually(() => caughtUp(bus, pool, topic), 60_000, 'first half applied');

      // The next rollups batch fails at COMMIT, once (a sequence: its value survives the rollback).
      await pool.query(`
      CREATE SEQUENCE test_commit_failures;
      CREATE FUNCTION test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('test_commit_failures') = 1 THEN RAISE EXCEPTION 'injected failure at COMMIT'; END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER test_fail_commit AFTER UPDATE ON consumer_progress DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (NEW.job = 'rollups' AND NEW.next_offset <> OLD.next_offset) EXECUTE FUNCTION test_fail_commit();
    `);
      s.deliveries.push(...(await produceEvents(bus, topic, arrival.slice(half))));
      s.deliveries.push(...(await produceEvents(bus, topic, clockEvents(arrival[0]!, s.sites[0]!, 3))));
      await eventually(() => caughtUp(bus, pool, topic), 60_000, 'second half applied');
      expect(
        worker.lines.some((l) => l.includes('will be retried: injected failure at COMMIT')),
        'the injected failure happened',
      ).toBe(true);

      const all = s.deliveries.map((d) => d.event);
      expect(await eventIdDifferences(pool, new Set(all.map((e) => e.eventId)))).toEqual([]);
      expect(await rollupDifferences(pool, all, s.sites)).toEqual([]);
      expect(await sessionDifferences(pool, all, s.sites, MINUTE, (v) => !v.startsWith('clock-'))).toEqual([]);
    },
  );
});

describe.concurrent('a restart with --from earliest', () => {
  // `--from earliest` (workers/cli.ts, start modes) once discarded the partitions' stored positions and
  // checkpoint state (workers/runtime.ts onAssigned: DELETE FROM consumer_progress, restore(null))
  // and re-reads the topic. Every re-read event is already in event_ids, so claimEventIds returns
  // nothing and the fresh operators stay empty; the next events for a window still open then make
  // the rollups job *replace* that window's minute rows (workers/rollups/rollup-sink.ts) with the
  // new events alone, and the hour/day rows get the negative difference: counts already committed
  // are lost. A re-read of the same events should leave the totals as they were.
  it(
    'keeps what was already counted: rollups still equal the ground truth after more events arrive',
    { timeout: 110_000 },
    async ({ expect }) => {
      const db = await freshDatabase('crash_from_earliest');
      const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'jobs-crash-checker' });
      pool.on('error', () => undefined);
      const s: Scenario = {
        point: 'mid-tx',
        db,
        pool,
        namespace: `crash${randomBytes(3).toString('hex')}.`,
        sites: [],
        deliveries: [],
        workers: [],
        verified: false,
      };
      scenarios.set('from-earliest', s);
      s.sites = (await createSites(pool, ['alpha', 'beta'])).map((x) => x.id);
      await installBatchLog(pool);
      await createPipelineTopics(bus, s.namespace, 3);
      const topic = pipelineTopics(s.namespace).events;
      const arrival = traffic(1300, s.sites);
      const half = Math.floor(arrival.length / 2);
      const first = spawnWorker({
        name: 'from-earliest-1',
        jobs: ['rollups', 'sessions'],
        env: workerEnv(s),
        logFile: path.join(logDir, 'jobs-crash-from-earliest-1.log'),
      });
      s.workers.push(first);
      await first.waitForLine(/job sessions running/, 30_000);
      s.deliveries.push(...(await produceEvents(bus, topic, arrival.slice(0, half))));
      await eventually(() => caughtUp(bus, pool, topic), 60_000, 'first half applied');
      const all1 = s.deliveries.map((d) => d.event);
      expect(await rollupDifferences(pool, all1, s.sites)).toEqual([]);
      await first.stop();

      const second = spawnWorker({
        name: 'from-earliest-2',
        jobs: ['rollups', 'sessions', '--from', 'earliest'],
        env: workerEnv(s),
        logFile: path.join(logDir, 'jobs-crash-from-earliest-2.log'),
      });
      s.workers.push(second);
      await second.waitForLine(/job sessions running \(bus: kafka, from: earliest\)/, 30_000);
      // The re-read alone changes nothing: the stored next offsets skip every record already
      // applied (and event-id dedup would drop them anyway). Give it a few seconds to pass through.
      await new Promise((r) => setTimeout(r, 5000));
      expect(await rollupDifferences(pool, all1, s.sites), 'after re-reading the same events').toEqual([]);
      // …but the second half, in the same (still open) minutes, must add to the totals.
      s.deliveries.push(...(await produceEvents(bus, topic, arrival.slice(half))));
      await eventually(() => caughtUp(bus, pool, topic), 60_000, 'second half applied');
      const all = s.deliveries.map((d) => d.event);
      expect(await eventIdDifferences(pool, new Set(all.map((e) => e.eventId)))).toEqual([]);
      expect(await rollupDifferences(pool, all, s.sites)).toEqual([]);
    },
  );
});

describe('the ground-truth checker', () => {
  it('reports a corrupted minute row, a double-counted partition row, a double-applied hour delta and a missing event id (negative control)', async () => {
    const s = [...scenarios.values()].find((x) => x.verified);
    if (!s) throw new Error('needs one crash scenario that passed (its database is the fixture)');
    const all = s.deliveries.map((d) => d.event);
    const ids = new Set(all.map((e) => e.eventId));
    expect(await rollupDifferences(s.pool, all, s.sites)).toEqual([]);

    // One minute total off by one.
    const row = (
      await s.pool.query<{ site_id: string; bucket: Date; source_partition: number }>(
        "SELECT site_id, bucket, source_partition FROM rollups WHERE granularity = 'minute' AND dimension = '' AND pageviews > 0 AND site_id = ANY($1::uuid[]) ORDER BY bucket LIMIT 1",
        [s.sites],
      )
    ).rows[0]!;
    const key = [row.site_id, row.bucket.toISOString(), row.source_partition];
    await s.pool.query(
      "UPDATE rollups SET pageviews = pageviews + 1 WHERE site_id = $1 AND granularity = 'minute' AND bucket = $2 AND dimension = '' AND source_partition = $3",
      key,
    );
    const corrupted = await rollupDifferences(s.pool, all, s.sites);
    expect(corrupted).toHaveLength(1);
    expect(corrupted[0]).toContain(`minute ${row.site_id} ${row.bucket.toISOString()}`);
    await s.pool.query(
      "UPDATE rollups SET pageviews = pageviews - 1 WHERE site_id = $1 AND granularity = 'minute' AND bucket = $2 AND dimension = '' AND source_partition = $3",
      key,
    );

    // The same minute counted again under another source partition (a batch applied by two owners).
    await s.pool.query(
      `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events)
       SELECT site_id, granularity, bucket, dimension, value, 7, pageviews, events FROM rollups
       WHERE site_id = $1 AND granularity = 'minute' AND bucket = $2 AND dimension = '' AND source_partition = $3`,
      key,
    );
    expect((await rollupDifferences(s.pool, all, s.sites)).filter((d) => d.startsWith('minute '))).toHaveLength(1);
    await s.pool.query('DELETE FROM rollups WHERE site_id = $1 AND source_partition = 7', [row.site_id]);

    // An hour delta added twice (minute rows intact: only the hour comparison can see it).
    await s.pool.query(
      "UPDATE rollups SET pageviews = pageviews * 2 WHERE site_id = $1 AND granularity = 'hour' AND dimension = '' AND source_partition = $2 AND pageviews > 0",
      [row.site_id, row.source_partition],
    );
    const hours = await rollupDifferences(s.pool, all, s.sites);
    expect(hours.some((d) => d.startsWith('hour '))).toBe(true);
    expect(hours.some((d) => d.startsWith('minute '))).toBe(false);
    await s.pool.query(
      "UPDATE rollups SET pageviews = pageviews / 2 WHERE site_id = $1 AND granularity = 'hour' AND dimension = '' AND source_partition = $2 AND pageviews > 0",
      [row.site_id, row.source_partition],
    );

    // An event id never applied; a phantom one.
    const gone = [...ids][0]!;
    await s.pool.query("DELETE FROM event_ids WHERE job = 'sessions' AND event_id = $1", [gone]);
    await s.pool.query("INSERT INTO event_ids (job, event_id) VALUES ('rollups', gen_random_uuid())");
    const idDiffs = await eventIdDifferences(s.pool, ids);
    expect(idDiffs).toHaveLength(2);
    expect(idDiffs[0]).toContain(`rollups: 1 event id(s) applied that were never produced`);
    expect(idDiffs[1]).toContain(`sessions: 1 event id(s) never applied, e.g. ${gone}`);

    // A batch applied twice, and a range skipped, in the offset audit.
    const batches = [
      { app: 'a', job: 'rollups', partition: 0, from: 0n, to: 5n },
      { app: 'b', job: 'rollups', partition: 0, from: 3n, to: 8n },
      { app: 'b', job: 'sessions', partition: 0, from: 0n, to: 4n },
      { app: 'b', job: 'sessions', partition: 0, from: 6n, to: 8n },
    ];
    expect(batchTilingDifferences(batches, [{ partition: 0, high: '8' }])).toEqual([
      'rollups/0: batch by b applied [3, 8) after [.., 5)',
      'sessions/0: batch by b applied [6, 8) after [.., 4)',
    ]);

    // Put back, the checker passes again.
    await s.pool.query("DELETE FROM event_ids WHERE job = 'rollups' AND NOT (event_id = ANY($1::uuid[]))", [[...ids]]);
    await s.pool.query("INSERT INTO event_ids (job, event_id) VALUES ('sessions', $1)", [gone]);
    expect(await rollupDifferences(s.pool, all, s.sites)).toEqual([]);
    expect(await eventIdDifferences(s.pool, ids)).toEqual([]);
  });
});
