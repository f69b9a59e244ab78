import { closeDb, databaseUrl, pool, sizePool } from '@/lib/db/client';
import { createBus, ensureTopics, type Bus } from '@/lib/bus';
import type { EventRecord } from '@/lib/events/record';
import { alertsJob } from './alerts/alerts-job';
import { workerPresence } from './presence';
import { env, type Env } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { createSavepoint, restoreSavepoint } from './ops/savepoint';
import { replay } from './ops/replay';
import { peaksJob } from './peaks/peaks-job';
import { reconcileJob } from './reconcile/reconcile-job';
import { exportsJob } from './exports/exports-job';
import { importsJob } from './imports/run-import';
import { retentionJob } from './retention/retention-job';
import { rollupsJob } from './rollups/rollups-job';
import { runJob, type Job, type RunningJob, type StartMode } from './runtime';
import { sessionsJob } from './sessions/sessions-job';
import { funnelsJob } from './funnels/funnels-job';
import { DefinitionsTable } from './insights/definitions';
import { insightsJob } from './insights/insights-job';
import { SiteDimensionTable } from './shared/dimensions';

// npm run worker -- [rollups|sessions|insights|funnels|peaks|reconcile|alerts|all …] [--from checkpoint|earliest|latest|<ISO time>] [--from-savepoint <file>]
// npm run worker -- savepoint create <file>
// npm run worker -- replay --from <date> --to <date> [--schema <name>]
// Run more processes to scale out: rollups and sessions are consumer groups; peaks and reconcile
// take turns through PostgreSQL locks.

/** What a job is built from: the process's bus, settings and side inputs (the pool is the process's one). */
interface JobContext {
  bus: Bus;
  /** The parsed settings: each job factory takes the slice it reads, so no job calls env() itself. */
  settings: Env;
  dims: SiteDimensionTable;
  defs: DefinitionsTable;
}

/** A long-running loop job (peaks, reconcile, …): started once, stopped on shutdown. */
interface Loop {
  start(): void;
  stop(): Promise<void>;
}

/**
 * Every job a worker process can run, by name: stream jobs are consumer-group members run by
 * workers/runtime.ts; loops take turns through PostgreSQL locks. Order = start order of `all`.
 */
const REGISTRY = {
  rollups: { stream: (c: JobContext) => rollupsJob({ bus: c.bus, db: pool(), dims: c.dims, settings: c.settings }) },
  sessions: { stream: (c: JobContext) => sessionsJob({ bus: c.bus, db: pool(), dims: c.dims, settings: c.settings }) },
  peaks: { loop: (c: JobContext): Loop => peaksJob({ db: pool(), bus: c.bus, dims: c.dims, settings: c.settings }) },
  reconcile: { loop: (c: JobContext): Loop => reconcileJob({ db: pool(), bus: c.bus, dims: c.dims }) },
  insights: {
    stream: (c: JobContext) => insightsJob({ bus: c.bus, dims: c.dims, defs: c.defs, settings: c.settings }),
  },
  funnels: { stream: (c: JobContext) => funnelsJob({ bus: c.bus, defs: c.defs, dims: c.dims, settings: c.settings }) },
  retention: {
    // The embedded log's retention only when it is the bus (Kafka keeps its own).
    loop: (c: JobContext): Loop => {
      const j = retentionJob({
        db: pool(),
        logRetentionMs: c.bus.kind === 'embedded' ? c.settings.EMBEDDED_LOG_RETENTION_MS : undefined,
      });
      return { start: () => j.start(c.settings.RETENTION_INTERVAL_MS), stop: () => j.stop() };
    },
  },
  exports: { loop: (c: JobContext): Loop => exportsJob({ db: pool(), bus: c.bus }) },
  imports: { loop: (c: JobContext): Loop => importsJob({ db: pool(), bus: c.bus, settings: c.settings }) },
  alerts: {
    loop: (c: JobContext): Loop =>
      alertsJob({ db: pool(), bus: c.bus, intervalMs: c.settings.ALERTS_INTERVAL_MS, settings: c.settings }),
  },
} satisfies Record<string, { stream: (c: JobContext) => Job<EventRecord> } | { loop: (c: JobContext) => Loop }>;
type JobName = keyof typeof REGISTRY;
const JOBS = Object.keys(REGISTRY) as JobName[];

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new Error(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function startMode(from: string | undefined): StartMode {
  if (!from || from === 'checkpoint') return { from: 'checkpoint' };
  if (from === 'earliest' || from === 'latest') return { from };
  const at = Date.parse(from);
  if (Number.isNaN(at)) throw new Error(`--from must be checkpoint, earliest, latest or an ISO time; got "${from}"`);
  return { from: 'timestamp', at };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'savepoint') {
    if (args[1] !== 'create' || !args[2]) throw new Error('Usage: npm run worker -- savepoint create <file>');
    const sp = await createSavepoint(pool(), args[2]);
    console.log(`[savepoint] wrote ${args[2]}: ${sp.progress.length} partition checkpoint(s)`);
    await closeDb();
    return;
  }
  if (args[0] === 'replay') {
    const from = flag(args, '--from');
    const to = flag(args, '--to');
    if (!from || !to || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to)))
      throw new Error('Usage: npm run worker -- replay --from <date> --to <date> [--schema <name>]');
    const r = await replay({
      databaseUrl: databaseUrl(),
      from: new Date(from),
      to: new Date(to),
      settings: env(),
      schema: flag(args, '--schema'),
    });
    console.log(`[replay] ${r.events} archived event(s) replayed into schema ${r.schema}`);
    await closeDb();
    return;
  }

  const from = startMode(flag(args, '--from'));
  const savepoint = flag(args, '--from-savepoint');
  const names = (args.length === 0 || args.includes('all') ? [...JOBS] : args) as JobName[];
  for (const n of names) if (!JOBS.includes(n)) throw new Error(`Unknown job "${n}". Jobs: ${JOBS.join(', ')}, all`);
  const streams = names.filter((n) => 'stream' in REGISTRY[n]).length;
  // Per stream job: a transaction per partition applied at once and a dictionary insert beside
  // each, and one tick (workers/consumer/ticker.ts); plus the loops, presence and side inputs.
  sizePool(Math.max(10, streams * (env().CONSUMER_CONCURRENCY * 2 + 1) + 8));
  if (savepoint) {
    const sp = await restoreSavepoint(pool(), savepoint);
    console.log(`[worker] restored savepoint ${savepoint} from ${sp.createdAt}`);
  }

  const b = createBus();
  await ensureTopics(b);
  const dims = new SiteDimensionTable(pool());
  await dims.refresh();
  dims.start(env().DIMENSION_REFRESH_MS);
  // Goals and funnels (issue 14): their own side input, refreshed more often than site settings.
  const defs = new DefinitionsTable(pool());
  await defs.refresh();
  defs.start(env().DEFINITIONS_REFRESH_MS);

  const presence = workerPresence({ db: pool(), jobs: names });
  const consumers: RunningJob[] = [];
  const loops: Loop[] = [];
  const context: JobContext = { bus: b, settings: env(), dims, defs };
  for (const n of names) {
    const runOptions = {
      start: from,
      sessionTimeoutMs: env().CONSUMER_SESSION_TIMEOUT_MS,
      workerId: presence.workerId,
      partitionsConcurrently: env().CONSUMER_CONCURRENCY,
    };
    const entry: { stream: (c: JobContext) => Job<EventRecord> } | { loop: (c: JobContext) => Loop } = REGISTRY[n];
    if ('stream' in entry) consumers.push(await runJob(entry.stream(context), b, pool(), runOptions));
    else {
      const loop = entry.loop(context);
      loop.start();
      loops.push(loop);
    }
    console.log(`[worker ${process.pid}] job ${n} running (bus: ${b.kind}, from: ${from.from})`);
  }
  // Announced once every job runs: tests and operators read a heartbeat as "this worker is up".
  presence.start();
  // A consumer that stopped by itself will not come back: exit so the supervisor restarts us.
  void Promise.race(consumers.map((r) => r.consumer.crashed)).then((e) => {
    console.error(`[worker ${process.pid}] consumer crashed: ${e.message}`);
    process.exit(1);
  });
  const shutdown = async () => {
    dims.stop();
    defs.stop();
    await Promise.allSettled([...consumers.map((r) => r.stop()), ...loops.map((l) => l.stop())]);
    await presence.stop();
    await b.close();
    await closeDb();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((e: unknown) => {
  console.error(isEddyError(e) ? e.message : e instanceof Error ? e.message : e);
  process.exit(1);
});
