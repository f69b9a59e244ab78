import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  loggedBatches,
  offsetDifferences,
  pipelineTopics,
  produceEvents,
  rollupDifferences,
  sessionDifferences,
  sleep,
  spawnWorker,
  STREAM_JOBS,
  type Delivery,
  type LoggedBatch,
  type WorkerProcess,
} from '@/bench/support/e2e-pipeline';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { generateVisits, MINUTE, outOfOrder, rng, type GeneratedEvent } from '../helpers/traffic';
import { eventually } from '../helpers/wait';
import { pipelineWorkerEnv } from './support/pipeline-worker';

// Scale-out of the stream jobs: two `rollups sessions` worker processes in one consumer group
// share the events topic's 3 partitions on real Kafka while a seeded stream (with re-sends of
// the same event ids) is produced throughout. One is stopped gracefully (SIGTERM) mid-stream, so
// the other takes over its partitions, then started again (another rebalance). Who applied what
// comes from a trigger in this test's database that logs every committed batch with the
// worker's PGAPPNAME. At the end the rollups equal the ground truth exactly, the sessions
// (one-minute gap, closed by a last event "now" on each partition) equal sessions by definition,
// every event id was applied once per job, and the committed batches tile each partition
// without overlap.

const SEED = 4242;
const CHUNK = 30;
const logDir = path.resolve(import.meta.dirname, '../artifacts');

let db: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
const namespace = `scale${randomBytes(3).toString('hex')}.`;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  mkdirSync(logDir, { recursive: true });
  db = await freshDatabase('jobs_scale');
  pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'jobs-scale-checker' });
  pool.on('error', () => undefined);
  bus = new KafkaBus(kafkaBrokers(), 'jobs-scale-test');
  await installBatchLog(pool);
  await createPipelineTopics(bus, namespace, 3);
});

afterAll(async () => {
  for (const w of workers) await w.stop(3000);
  await bus?.close();
  await pool?.end();
  await db?.drop();
}, 60_000);

function startWorker(name: string): WorkerProcess {
  const w = spawnWorker({
    name,
    jobs: ['rollups', 'sessions'],
    // Three partitions applied at once per job (CONSUMER_CONCURRENCY): rebalances and restarts
    // with batches of several partitions in flight must lose and double-count nothing either.
    env: { ...pipelineWorkerEnv(db.url, namespace), CONSUMER_CONCURRENCY: '3', EDDY_TEST_CRASH_POINT: undefined },
    logFile: path.join(logDir, `jobs-scale-${name}.log`),
  });
  workers.push(w);
  return w;
}

/** Partition owners as the pipeline page shows them: job → partition → owning process's pid (null: no heartbeat). */
async function owners(): Promise<Map<string, Map<number, number | null>>> {
  const r = await pool.query<{ job: string; partition: number; pid: number | null }>(
    'SELECT o.job, o.partition, w.pid FROM partition_owners o LEFT JOIN worker_heartbeats w ON w.worker_id = o.worker_id ORDER BY 1, 2',
  );
  const m = new Map<string, Map<number, number | null>>();
  for (const row of r.rows) m.set(row.job, (m.get(row.job) ?? new Map()).set(row.partition, row.pid));
  return m;
}

/** Every partition of both stream jobs has a recorded, heartbeating owner, and together the owners are exactly `pids`. */
async function ownedBy(pids: (number | undefined)[]): Promise<boolean> {
  const o = await owners();
  const seen = new Set<number | null>();
  for (const job of STREAM_JOBS) {
    const parts = o.get(job);
    if (!parts || parts.size !== 3) return false;
    for (const pid of parts.values()) seen.add(pid);
  }
  return seen.size === pids.length && pids.every((p) => seen.has(p ?? -1));
}

/** Batches committed by `app` for `job` after batch log position `after` (index into the log). */
const batchesOf = (log: LoggedBatch[], app: string, job: string, after = 0) =>
  log.slice(after).filter((b) => b.app === app && b.job === job);

describe('two worker processes in one consumer group', () => {
  it(
    'share the partitions; a graceful stop and a restart mid-stream (two rebalances) lose and double-count nothing',
    { timeout: 120_000 },
    async () => {
      const sites = (await createSites(pool, ['alpha', 'beta'])).map((x) => x.id);
      // One-minute visits, so sessions close within the test (see clockEvents).
      await pool.query('UPDATE sites SET session_gap_minutes = 1 WHERE id = ANY($1::uuid[])', [sites]);
      const topic = pipelineTopics(namespace).events;
      const now = Date.now();
      const events = generateVisits({
        seed: SEED,
        sites,
        visitors: 600,
        start: Math.floor((now - 12 * MINUTE) / MINUTE) * MINUTE,
        spanMs: 3 * MINUTE,
        gapMs: 20_000,
      });
      expect(events.every((e) => e.ts <= now)).toBe(true);
      const arrival = outOfOrder(events, 20_000, SEED + 1);
      const r = rng(SEED + 2);
      const deliveries: Delivery<GeneratedEvent>[] = [];

      const a = startWorker('scale-a');
      const b = startWorker('scale-b');
      await Promise.all([a.waitForLine(/job sessions running/, 30_000), b.waitForLine(/job sessions running/, 30_000)]);

      // Production throughout: a chunk (plus 2 re-sends of earlier events) every 200 ms.
      let sent = 0;
      let fast = false;
      const producing = (async () => {
        while (sent < arrival.length) {
          const chunk = arrival.slice(sent, sent + CHUNK);
          const resends = sent === 0 ? [] : [0, 1].map(() => arrival[Math.floor(r() * sent)]!);
          sent += chunk.length;
          deliveries.push(...(await produceEvents(bus, topic, [...chunk, ...resends])));
          if (!fast) await sleep(200);
        }
      })();
      const stillProducing = () =>
        expect(sent, 'the phase finished while events were still being produced').toBeLessThan(arrival.length);

      // 1. Both processes commit batches for both jobs, between them on all three partitions.
      await eventually(
        async () => {
          const log = await loggedBatches(pool);
          return STREAM_JOBS.every((job) => {
            const pa = new Set(batchesOf(log, 'scale-a', job).map((x) => x.partition));
            const pb = new Set(batchesOf(log, 'scale-b', job).map((x) => x.partition));
            return (
              batchesOf(log, 'scale-a', job).length >= 5 &&
              batchesOf(log, 'scale-b', job).length >= 5 &&
              new Set([...pa, ...pb]).size === 3
            );
          });
        },
        45_000,
        'both workers committing batches of both jobs, on all partitions between them',
      );
      // The pipeline page's owner column: the runtime records each assignment under the process's heartbeat id.
      await eventually(() => ownedBy([a.process.pid, b.process.pid]), 15_000, 'partition owners recorded as A and B');
      stillProducing();

      // 2. Stop B gracefully mid-stream: it leaves the group and A takes over all three partitions.
      const stopAt = Date.now();
      await b.stop(15_000);
      expect((await b.ended).code, 'B stopped gracefully').toBe(0);
      const afterStop = (await loggedBatches(pool)).length;
      await eventually(
        async () => {
          const log = await loggedBatches(pool);
          return STREAM_JOBS.every(
            (job) => new Set(batchesOf(log, 'scale-a', job, afterStop).map((x) => x.partition)).size === 3,
          );
        },
        45_000,
        'A applying all three partitions of both jobs after B left',
      );
      await eventually(
        () => ownedBy([a.process.pid]),
        15_000,
        'A recorded as the owner of every partition after B left',
      );
      const takeoverMs = Date.now() - stopAt;
      stillProducing();

      // 3. Start B again: the partitions are split once more.
      const restartAt = Date.now();
      const b2 = startWorker('scale-b-2');
      await eventually(
        async () => {
          const log = await loggedBatches(pool);
          return STREAM_JOBS.every((job) => batchesOf(log, 'scale-b-2', job).length > 0);
        },
        45_000,
        'the restarted B committing batches of both jobs',
      );
      await eventually(
        () => ownedBy([a.process.pid, b2.process.pid]),
        15_000,
        'partition owners recorded as A and the restarted B',
      );
      const rejoinMs = Date.now() - restartAt;
      stillProducing();

      // 4. The rest of the stream, a last round of re-sends, then drain.
      fast = true;
      await producing;
      deliveries.push(
        ...(await produceEvents(
          bus,
          topic,
          Array.from({ length: 30 }, () => arrival[Math.floor(r() * arrival.length)]!),
        )),
      );
      deliveries.push(...(await produceEvents(bus, topic, clockEvents(arrival[0]!, sites[0]!, 3))));
      await eventually(
        () => caughtUp(bus, pool, topic),
        60_000,
        'both jobs applied every partition up to its high watermark',
      );

      const all = deliveries.map((d) => d.event);
      const resent = deliveries.length - distinct(all).length;
      expect(resent).toBeGreaterThan(100);
      expect(await rollupDifferences(pool, all, sites)).toEqual([]);
      expect(await eventIdDifferences(pool, new Set(all.map((e) => e.eventId)))).toEqual([]);
      expect(await sessionDifferences(pool, all, sites, MINUTE, (v) => !v.startsWith('clock-'))).toEqual([]);
      expect(await offsetDifferences(bus, pool, namespace)).toEqual([]);
      const log = await loggedBatches(pool);
      expect(batchTilingDifferences(log, await bus.topicOffsets(topic))).toEqual([]);

      const summary = ['scale-a', 'scale-b', 'scale-b-2']
        .map((app) => {
          const mine = log.filter((x) => x.app === app);
          const records = mine.filter((x) => x.job === 'rollups').reduce((n, x) => n + Number(x.to - x.from), 0);
          return `${app}: ${mine.length} batches (${records} rollups records)`;
        })
        .join(', ');
      const deadlocks = [a, b, b2].flatMap((w) => w.lines).filter((l) => l.includes('deadlock detected')).length;
      console.log(
        `[jobs-scale] ${distinct(all).length} events + ${resent} re-sends; ${summary}; takeover after SIGTERM ${takeoverMs} ms; restarted worker applying after ${rejoinMs} ms; batches retried after a deadlock: ${deadlocks}`,
      );
      await Promise.all([a.stop(), b2.stop()]);
      expect([(await a.ended).code, (await b2.ended).code]).toEqual([0, 0]);
      // Graceful stops take their presence with them: no stale owners or heartbeats on the page.
      expect((await pool.query('SELECT * FROM partition_owners')).rows).toEqual([]);
      expect((await pool.query('SELECT * FROM worker_heartbeats')).rows).toEqual([]);
    },
  );
});
