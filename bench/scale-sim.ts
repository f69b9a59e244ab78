// A scaled-out Eddy on one machine, over loopback, run as `npm run bench -- scale-sim
// [--rates 250,500,1000,1500,2000,2500,3000] [--step 20] [--drain 60] [--catch-up-limit 10]
// [--ack-p99-limit 2000] [--final-drain 240] [--only scaled|baseline] [--scaled-first]`:
// - scaled: 3 web processes (server/index.ts, production build) behind a round-robin HTTP proxy
//   written here (node:http, its own process), 4 worker processes (`workers/cli.ts` with the
//   stream jobs rollups, sessions, insights, funnels), real Kafka with 12 events partitions;
// - baseline, in the same run: 1 web process behind the same proxy, 1 worker process with the
//   same jobs, 6 partitions (the default) — what one process of each runs today.
// Each on a fresh database and bus namespace (bench/support/e2e-stack.ts), one after the other
// (an idle stack is not free), baseline first unless --scaled-first.
// Load: bench/support/load-generator.ts in open loop (a schedule, not waiting for answers), in
// steps of increasing rate until the topology no longer keeps up (then it drains, is checked and
// stopped). Per step: accepted/s, 202 latency, each job's lag (consumer_progress next offsets vs
// the topic's high watermarks) when the step ends, how long until every job's lag is 0 again,
// end-to-end latency 202 → commit of the rollups transaction that applied the event (a batch-log
// trigger on consumer_progress joined to the archived event by xmin, as in e2e-latency), rows
// written per table (pg_stat counters of the stack's own database), each job's batches, and CPU
// per process group. At the end, per topology: every job caught up and rollups pageviews
// (minute, hour and day) = archived events = events answered 202.
// Nothing is pinned: everything (the stack, its proxy, the load, PostgreSQL, Kafka, and whatever
// else runs on the machine) shares its cores, and the report prints how busy it was.
// Human-readable lines first; the last line is one JSON object.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { KafkaBus } from '@/lib/bus/kafka';
import { env } from '@/lib/env';
import { buildIfNeeded } from '../scripts/build-if-needed';
import {
  installBatchLog,
  pipelineTopics,
  sleep,
  spawnWorker,
  storedProgress,
  type WorkerProcess,
} from './support/e2e-pipeline';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { flag, flagList } from './support/args';
import type { LoadOptions, LoadResult } from './support/load-generator';
import { cpuSeconds, freePort, machineCpu, repoRoot, spawnNode, type Child } from './support/processes';
import { benchServices, type BenchServices } from './support/services';

const STREAM_JOBS = ['rollups', 'sessions', 'insights', 'funnels'] as const;

// --- The proxy (this file run with --proxy '<json>', in its own process) --------------------

interface ProxyOptions {
  port: number;
  upstreams: string[];
  /** The header the web processes trust for the client IP (their TRUSTED_PROXY_HEADER). */
  clientIpHeader: string;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

/**
 * Round robin over the web processes, one request at a time, keep-alive both ways. Only
 * /api/collect POSTs (and their preflights) are forwarded. The client IP header is set as nginx's
 * `$proxy_add_x_forwarded_for` does: what arrived, then the peer's address; the web processes
 * read its first entry, which is the visitor the load generator plays (as a CDN in front would
 * have set it).
 */
function runProxy(o: ProxyOptions): void {
  const upstreams = o.upstreams.map((u) => ({
    url: new URL(u),
    agent: new http.Agent({ keepAlive: true, maxSockets: 512 }),
  }));
  let turn = 0;
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/api/collect') || (req.method !== 'POST' && req.method !== 'OPTIONS')) {
      res.writeHead(404).end();
      return;
    }
    const up = upstreams[turn++ % upstreams.length]!;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    const arrived = req.headers[o.clientIpHeader];
    const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    headers[o.clientIpHeader] = arrived ? `${Array.isArray(arrived) ? arrived.join(', ') : arrived}, ${peer}` : peer;
    headers.host = up.url.host;
    const forward = http.request(
      { agent: up.agent, host: up.url.hostname, port: up.url.port, method: req.method, path: req.url, headers },
      (answer) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    forward.once('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(o.port, '127.0.0.1', () => console.log(`proxy listening on ${o.port} → ${o.upstreams.join(' ')}`));
  process.once('SIGTERM', () => process.exit(0));
}

// --- The benchmark ----------------------------------------------------------------------------

const RATES = flagList('rates', [250, 500, 1000, 1500, 2000, 2500, 3000]);
const STEP_S = flag('step', 20);
const DRAIN_S = flag('drain', 60);
/** A step is kept up with when every job is back at lag 0 within this many seconds after it. */
const CATCH_UP_LIMIT_S = flag('catch-up-limit', 10);
/** …and the collect edge answered 99 % within this many ms (open loop: a saturated edge shows as a growing queue, not as fewer answers). */
const ACK_P99_LIMIT_MS = flag('ack-p99-limit', 2000);
/** A topology that stopped keeping up gets this long to apply its backlog before it is checked. */
const FINAL_DRAIN_S = flag('final-drain', 240);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
/** `--scaled-first`: run the scaled topology before the baseline (to see the machine's drift). */
const SCALED_FIRST = process.argv.includes('--scaled-first');
/** Open loop over at most this many connections to the proxy. */
const CONNECTIONS = 512;
/** Accepted ≥ this share of the offered rate, and fewer answers than this share not 202. */
const ACCEPTED_SHARE = 0.95;
const ERROR_SHARE = 0.005;

interface TopologySpec {
  name: 'baseline' | 'scaled';
  webs: number;
  workers: number;
  partitions: number;
}
const TOPOLOGIES: TopologySpec[] = (
  [
    { name: 'baseline', webs: 1, workers: 1, partitions: 6 },
    { name: 'scaled', webs: 3, workers: 4, partitions: 12 },
  ] as const
)
  .filter((t) => !ONLY || t.name === ONLY)
  .sort((a, b) => (SCALED_FIRST ? b.webs - a.webs : a.webs - b.webs));

const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
const outDir = path.join(repoRoot, env().EDDY_DATA_DIR, 'bench', `scale-sim-${runId}`);

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
/** Nearest-rank quantile. */
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

interface Topology {
  spec: TopologySpec;
  stack: E2eStack;
  webs: Child[];
  workers: WorkerProcess[];
  proxy: Child;
  proxyUrl: string;
  pool: pg.Pool;
  topic: string;
  /** Events answered 202 over every load run against it (warm-up included). */
  acceptedTotal: number;
  steps: StepResult[];
  final?: FinalCheck;
  /** Cores used with no load, per group. */
  idle?: Record<string, number>;
  stopped: boolean;
}

interface JobBatches {
  batches: number;
  records: number;
  meanTxMs: number;
  /** Records applied per second of transaction time: what one partition can take at this batch size, back to back. */
  recordsPerTxSecond: number;
  /** Sum of transaction time / (window × partitions): how busy the average partition's chain was. */
  partitionBusyShare: number;
  /** Records committed while the load ran, per second: at a step it cannot keep up with, the job's capacity in this topology. */
  appliedPerSecInWindow: number;
}

interface StepResult {
  topology: string;
  rate: number;
  acceptedPerSec: number;
  statuses: Record<string, number>;
  ackP50Ms: number;
  ackP99Ms: number;
  /** Per job: high watermark − stored next offset, summed over partitions, when the load stopped. */
  lagAtEnd: Record<string, number>;
  /** The largest total lag (all jobs) sampled during the step. */
  maxLag: number;
  /** Seconds from the end of the load until every job's lag was 0 (null: not within the drain limit). */
  catchUpS: number | null;
  e2eP50Ms: number;
  e2eP99Ms: number;
  /** Accepted events of the step whose applying rollups transaction was found. */
  e2eCovered: number;
  accepted: number;
  sustained: boolean;
  /** Rows inserted + updated + deleted per table (pg_stat), from the step's start until it was drained. */
  rows: Record<string, { ins: number; upd: number; del: number }>;
  rowsPerEvent: number;
  /** CPU ms per accepted event: web processes over the load window; workers, PostgreSQL (the stack's backends) and the Kafka broker from the step's start until drained. */
  cpuMsPerEvent: { web: number; workers: number; postgres: number; kafka: number; proxy: number; load: number };
  /** Shares of one core over the load window. */
  cpuShare: {
    web: number;
    workers: number;
    postgres: number;
    kafka: number;
    proxy: number;
    load: number;
    machine: number;
  };
  jobs: Record<string, JobBatches>;
  loadAverage: number;
}

interface FinalCheck {
  /** Bytes on disk per archived event, per table (heap, indexes and TOAST; partitions summed). */
  bytesPerEvent: Record<string, number>;
  caughtUp: boolean;
  acceptedTotal: number;
  rollupPageviews: { minute: number; hour: number; day: number };
  archived: number;
  exact: boolean;
}

async function startTopology(services: BenchServices, spec: TopologySpec): Promise<Topology> {
  console.log(
    `[${spec.name}] starting: ${spec.webs} web, ${spec.workers} worker process(es), ${spec.partitions} partitions`,
  );
  const stack = await startE2eStack({
    adminUrl: services.adminUrl,
    brokers: services.brokers,
    partitions: spec.partitions,
    logDir: outDir,
    label: spec.name,
    worker: false,
  });
  const webs: Child[] = [stack.web];
  const workers: WorkerProcess[] = [];
  const pool = new pg.Pool({ connectionString: stack.db.url, max: 3, application_name: 'bench-observer' });
  let proxy: Child | undefined;
  try {
    await installBatchLog(pool);
    const urls = [stack.url];
    for (let i = 2; i <= spec.webs; i++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const web = spawnNode(`${spec.name}-web-${i}`, ['--import', 'tsx', 'server/index.ts'], {
        env: { ...stack.env, PORT: String(port), PUBLIC_URL: url, NEXTAUTH_URL: url },
        logFile: path.join(outDir, `${spec.name}-web-${i}.log`),
      });
      webs.push(web);
      urls.push(url);
    }
    for (const w of webs.slice(1)) await w.waitForLine(/listening on/, 90_000);
    for (let i = 1; i <= spec.workers; i++) {
      workers.push(
        spawnWorker({
          name: `${spec.name}-worker-${i}`,
          jobs: [...STREAM_JOBS],
          env: stack.env,
          logFile: path.join(outDir, `${spec.name}-worker-${i}.log`),
        }),
      );
    }
    for (const w of workers)
      for (const job of STREAM_JOBS) await w.waitForLine(new RegExp(`job ${job} running`), 90_000);
    const port = await freePort();
    const options: ProxyOptions = {
      port,
      upstreams: urls,
      clientIpHeader: stack.env.TRUSTED_PROXY_HEADER ?? 'x-forwarded-for',
    };
    proxy = spawnNode(
      `${spec.name}-proxy`,
      ['--import', 'tsx', 'bench/scale-sim.ts', '--proxy', JSON.stringify(options)],
      { env: stack.env, logFile: path.join(outDir, `${spec.name}-proxy.log`) },
    );
    await proxy.waitForLine(/proxy listening/, 60_000);
    return {
      spec,
      stack,
      webs,
      workers,
      proxy,
      proxyUrl: `http://127.0.0.1:${port}`,
      pool,
      topic: pipelineTopics(stack.namespace).events,
      acceptedTotal: 0,
      steps: [],
      stopped: false,
    };
  } catch (e) {
    await Promise.all([...webs.slice(1), ...workers, ...(proxy ? [proxy] : [])].map((c) => c.stop()));
    await pool.end();
    await stack.stop();
    throw e;
  }
}

async function stopTopology(t: Topology): Promise<void> {
  if (t.stopped) return;
  t.stopped = true;
  await Promise.all([t.proxy.stop(), ...t.workers.map((w) => w.stop()), ...t.webs.slice(1).map((w) => w.stop())]);
  await t.pool.end();
  await t.stack.stop(); // the first web process, then the database
}

const processesOf = (t: Topology) => ({
  web: t.webs.map((w) => w.pid),
  workers: t.workers.map((w) => w.pid),
  proxy: [t.proxy.pid],
});
const cpuOf = (pids: number[]) => pids.reduce((n, pid) => n + (cpuSeconds(pid) || 0), 0);

/** The process listening on a local TCP port (the Kafka broker), from `ss`; undefined if unknown. */
function listenerPid(port: string): number | undefined {
  const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

/**
 * CPU seconds used by the PostgreSQL backends of the stack's own database (client backends and
 * autovacuum workers; not the server's shared background processes), sampled while they live: a
 * backend first seen after the first sample counts from 0, one that ended between samples loses
 * its last second.
 */
class BackendCpu {
  private seen = new Map<number, { first: number; last: number }>();
  private started = false;
  constructor(private readonly pool: pg.Pool) {}
  async sample(): Promise<void> {
    const r = await this.pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    for (const { pid } of r.rows) {
      const cpu = cpuSeconds(pid);
      if (Number.isNaN(cpu)) continue;
      const s = this.seen.get(pid);
      if (s) s.last = cpu;
      else this.seen.set(pid, { first: this.started ? 0 : cpu, last: cpu });
    }
    this.started = true;
  }
  seconds(): number {
    return [...this.seen.values()].reduce((n, s) => n + s.last - s.first, 0);
  }
}

/** Per job: high watermark − stored next offset, summed over the topic's partitions. */
async function lagPerJob(bus: KafkaBus, t: Topology): Promise<Record<string, number>> {
  const [highs, progress] = await Promise.all([bus.topicOffsets(t.topic), storedProgress(t.pool, t.topic)]);
  const out: Record<string, number> = {};
  for (const job of STREAM_JOBS) {
    out[job] = highs.reduce(
      (n, h) =>
        n +
        Number(BigInt(h.high) - (progress.find((p) => p.job === job && p.partition === h.partition)?.nextOffset ?? 0n)),
      0,
    );
  }
  return out;
}
const totalLag = (lag: Record<string, number>) => Object.values(lag).reduce((a, b) => a + b, 0);

/** Waits until every job's lag is 0; seconds waited, or null after `limitS`. */
async function drain(bus: KafkaBus, t: Topology, limitS: number): Promise<number | null> {
  const from = Date.now();
  for (;;) {
    if (totalLag(await lagPerJob(bus, t)) === 0) return (Date.now() - from) / 1000;
    if (Date.now() - from > limitS * 1000) return null;
    await sleep(250);
  }
}

type TableCounts = Map<string, { ins: number; upd: number; del: number }>;
/** Tuples written per table of the stack's database (partitions summed into their parent's name). */
async function tableCounts(t: Topology): Promise<TableCounts> {
  const r = await t.pool.query<{ name: string; ins: string; upd: string; del: string }>(
    `SELECT coalesce(p.relname, c.relname) AS name, sum(s.n_tup_ins)::text AS ins, sum(s.n_tup_upd)::text AS upd, sum(s.n_tup_del)::text AS del
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
       LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
      GROUP BY 1`,
  );
  return new Map(r.rows.map((x) => [x.name, { ins: Number(x.ins), upd: Number(x.upd), del: Number(x.del) }]));
}

async function runLoad(
  t: Topology,
  rate: number,
  durationS: number,
  label: string,
  seed: number,
  onWindow?: { start(): void; end(): void },
): Promise<LoadResult> {
  const acksFile = path.join(outDir, `${label}-acks.tsv`);
  const options: LoadOptions = {
    url: `${t.proxyUrl}/api/collect`,
    siteKey: t.stack.site.key,
    concurrency: CONNECTIONS,
    warmupS: 0,
    durationS,
    seed,
    rate,
    acksFile,
  };
  const load = spawnNode(
    `${label}-load`,
    ['--import', 'tsx', 'bench/support/load-generator.ts', JSON.stringify(options)],
    { env: t.stack.env, logFile: path.join(outDir, `${label}-load.log`) },
  );
  await load.waitForLine(/^window start/, 60_000);
  onWindow?.start();
  await load.waitForLine(/^window end/, (durationS + 60) * 1000);
  onWindow?.end();
  const code = await load.exited;
  const last = load.lines.filter((l) => l.startsWith('{')).pop();
  if (code !== 0 || !last) throw new Error(`load generator failed (${code}): ${load.lines.slice(-10).join('\n')}`);
  const result = JSON.parse(last) as LoadResult;
  t.acceptedTotal += result.acceptedTotal;
  return result;
}

/** Per accepted event of the step: 202 → commit of the rollups transaction that archived it. */
async function endToEnd(t: Topology, label: string, since: number): Promise<{ latencies: number[]; covered: number }> {
  const acks = new Map<string, number>();
  for (const line of readFileSync(path.join(outDir, `${label}-acks.tsv`), 'utf8').split('\n')) {
    const [id, , answered] = line.split('\t');
    if (id && answered) acks.set(id, Number(answered));
  }
  const r = await t.pool.query<{ event_id: string; at: Date }>(
    `SELECT e.event_id::text, b.at FROM events e JOIN test_batch_log b ON b.job = 'rollups' AND b.txid = e.xmin::text::bigint
      WHERE e.site_id = $1 AND e.received_at >= $2`,
    [t.stack.site.id, new Date(since - 5000).toISOString()],
  );
  const latencies: number[] = [];
  for (const row of r.rows) {
    const ack = acks.get(row.event_id);
    if (ack !== undefined) latencies.push(row.at.getTime() - ack);
  }
  return { latencies, covered: latencies.length };
}

async function jobBatches(t: Topology, from: number, loadEnd: number, to: number): Promise<Record<string, JobBatches>> {
  const windowS = (to - from) / 1000;
  const r = await t.pool.query<{ job: string; batches: number; records: string; tx_ms: number; in_window: string }>(
    `SELECT job, count(*)::int AS batches, sum(to_offset - from_offset)::text AS records, coalesce(sum(extract(epoch FROM at - tx_started) * 1000), 0)::float8 AS tx_ms,
            coalesce(sum(to_offset - from_offset) FILTER (WHERE at <= $3), 0)::text AS in_window
       FROM test_batch_log WHERE at >= $1 AND at <= $2 GROUP BY job`,
    [new Date(from).toISOString(), new Date(to).toISOString(), new Date(loadEnd).toISOString()],
  );
  const out: Record<string, JobBatches> = {};
  for (const x of r.rows) {
    const records = Number(x.records);
    out[x.job] = {
      batches: x.batches,
      records,
      meanTxMs: round1(x.tx_ms / Math.max(1, x.batches)),
      recordsPerTxSecond: round1(records / Math.max(1e-9, x.tx_ms / 1000)),
      partitionBusyShare: round3(x.tx_ms / 1000 / windowS / t.spec.partitions),
      appliedPerSecInWindow: round1(Number(x.in_window) / ((loadEnd - from) / 1000)),
    };
  }
  return out;
}

/** Cores each group uses with no load at all (timers, ticks, consumer fetch loops): the topology's fixed cost. */
async function idleCost(t: Topology, seconds: number): Promise<Record<string, number>> {
  const pids = processesOf(t);
  const kafkaPid = listenerPid(t.stack.brokers[0]?.split(':').pop() ?? '');
  const backends = new BackendCpu(t.pool);
  await backends.sample();
  const take = () => ({
    web: cpuOf(pids.web),
    workers: cpuOf(pids.workers),
    proxy: cpuOf(pids.proxy),
    kafka: kafkaPid ? cpuSeconds(kafkaPid) : NaN,
    at: Date.now(),
  });
  const a = take();
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    await sleep(1000);
    await backends.sample();
  }
  const b = take();
  const s = (b.at - a.at) / 1000;
  return {
    web: round3((b.web - a.web) / s),
    workers: round3((b.workers - a.workers) / s),
    postgres: round3(backends.seconds() / s),
    kafka: round3((b.kafka - a.kafka) / s),
    proxy: round3((b.proxy - a.proxy) / s),
  };
}

async function step(bus: KafkaBus, t: Topology, rate: number, index: number): Promise<StepResult> {
  const label = `${t.spec.name}-${rate}`;
  const before = await tableCounts(t);
  const pids = processesOf(t);
  const kafkaPid = listenerPid(t.stack.brokers[0]?.split(':').pop() ?? '');
  const backends = new BackendCpu(t.pool);
  await backends.sample();
  const sample = () => ({
    web: cpuOf(pids.web),
    workers: cpuOf(pids.workers),
    proxy: cpuOf(pids.proxy),
    kafka: kafkaPid ? cpuSeconds(kafkaPid) : NaN,
    postgres: backends.seconds(),
    machine: machineCpu(),
    at: Date.now(),
  });
  let w0 = sample();
  let w1 = w0;
  let sampling = true;
  let maxLag = 0;
  const lagSampler = (async () => {
    while (sampling) {
      maxLag = Math.max(maxLag, totalLag(await lagPerJob(bus, t)));
      await backends.sample();
      await sleep(1000);
    }
  })();
  let lagAtEnd: Record<string, number> = {};
  let lagRead: Promise<void> = Promise.resolve();
  const stepStart = Date.now();
  const result = await runLoad(t, rate, STEP_S, label, 1000 + index, {
    start: () => {
      w0 = sample();
    },
    end: () => {
      w1 = sample();
      lagRead = lagPerJob(bus, t).then((l) => {
        lagAtEnd = l;
      });
    },
  });
  await lagRead;
  const catchUpS = await drain(bus, t, DRAIN_S);
  sampling = false;
  await lagSampler;
  await backends.sample();
  const drained = Date.now();
  const workersCpu = cpuOf(pids.workers) - w0.workers;
  const postgresCpu = backends.seconds() - w0.postgres;
  const kafkaCpu = (kafkaPid ? cpuSeconds(kafkaPid) : NaN) - w0.kafka;
  const drainedS = (drained - w0.at) / 1000;
  await sleep(1500); // pg_stat counters are flushed by each backend about once a second
  const after = await tableCounts(t);
  const rows: StepResult['rows'] = {};
  let rowsTotal = 0;
  for (const [name, a] of after) {
    const b = before.get(name) ?? { ins: 0, upd: 0, del: 0 };
    const d = { ins: a.ins - b.ins, upd: a.upd - b.upd, del: a.del - b.del };
    if (d.ins || d.upd || d.del) rows[name] = d;
    if (name !== 'test_batch_log') rowsTotal += d.ins + d.upd + d.del;
  }
  const e2e = await endToEnd(t, label, stepStart);
  const windowS = (w1.at - w0.at) / 1000;
  const jobs = await jobBatches(t, w0.at, w1.at, drained);
  const errors = Object.entries(result.statuses)
    .filter(([k]) => k !== '202')
    .reduce((n, [, v]) => n + v, 0);
  const sent = Object.values(result.statuses).reduce((a, b) => a + b, 0);
  const acceptedPerSec = result.accepted / result.windowS;
  const sustained =
    acceptedPerSec >= ACCEPTED_SHARE * rate &&
    errors <= ERROR_SHARE * Math.max(1, sent) &&
    result.latencyMs.p99 <= ACK_P99_LIMIT_MS &&
    catchUpS !== null &&
    catchUpS <= CATCH_UP_LIMIT_S;
  const perEvent = (cpu: number) => round3((cpu * 1000) / Math.max(1, result.accepted));
  const share = (cpu: number) => round3(cpu / windowS);
  const m = (w1.machine.busy - w0.machine.busy) / Math.max(1e-9, w1.machine.total - w0.machine.total);
  return {
    topology: t.spec.name,
    rate,
    acceptedPerSec: round1(acceptedPerSec),
    statuses: result.statuses,
    ackP50Ms: result.latencyMs.p50,
    ackP99Ms: result.latencyMs.p99,
    lagAtEnd,
    maxLag,
    catchUpS: catchUpS === null ? null : round1(catchUpS),
    e2eP50Ms: round1(quantile(e2e.latencies, 0.5)),
    e2eP99Ms: round1(quantile(e2e.latencies, 0.99)),
    e2eCovered: e2e.covered,
    accepted: result.accepted,
    sustained,
    rows,
    rowsPerEvent: round1(rowsTotal / Math.max(1, result.acceptedTotal)),
    cpuMsPerEvent: {
      web: perEvent(w1.web - w0.web),
      workers: perEvent(workersCpu),
      postgres: perEvent(postgresCpu),
      kafka: perEvent(kafkaCpu),
      proxy: perEvent(w1.proxy - w0.proxy),
      load: result.cpuS ? perEvent(result.cpuS) : NaN,
    },
    // Web, proxy and load over the load window; workers, PostgreSQL and Kafka until drained.
    cpuShare: {
      web: share(w1.web - w0.web),
      workers: round3(workersCpu / drainedS),
      postgres: round3(postgresCpu / drainedS),
      kafka: round3(kafkaCpu / drainedS),
      proxy: share(w1.proxy - w0.proxy),
      load: share(result.cpuS),
      machine: round3(m),
    },
    jobs,
    loadAverage: round1(os.loadavg()[0]!),
  };
}

function printStep(s: StepResult): void {
  const lag = STREAM_JOBS.map((j) => `${j} ${s.lagAtEnd[j] ?? '?'}`).join(', ');
  console.log(
    `[${s.topology}] ${s.rate}/s offered: ${s.acceptedPerSec} accepted/s ${JSON.stringify(s.statuses)}; 202 p50 ${s.ackP50Ms} ms, p99 ${s.ackP99Ms} ms; ` +
      `lag when the load stopped: ${lag} (max total ${s.maxLag}); back to 0 after ${s.catchUpS === null ? `> ${DRAIN_S}` : s.catchUpS} s; ` +
      `202 → rollups commit p50 ${s.e2eP50Ms} ms, p99 ${s.e2eP99Ms} ms (${s.e2eCovered}/${s.accepted}); ${s.sustained ? 'kept up' : 'NOT kept up'}`,
  );
  console.log(
    `[${s.topology}]   CPU ms/event: web ${s.cpuMsPerEvent.web}, workers ${s.cpuMsPerEvent.workers}, PostgreSQL backends ${s.cpuMsPerEvent.postgres}, Kafka broker ${s.cpuMsPerEvent.kafka}, proxy ${s.cpuMsPerEvent.proxy}, load ${s.cpuMsPerEvent.load}; ` +
      `cores: web ${s.cpuShare.web}, workers ${s.cpuShare.workers}, PostgreSQL ${s.cpuShare.postgres}, Kafka ${s.cpuShare.kafka}, proxy ${s.cpuShare.proxy}, load ${s.cpuShare.load}; machine ${Math.round(s.cpuShare.machine * 100)} % busy, load average ${s.loadAverage}`,
  );
  const rows = Object.entries(s.rows)
    .filter(([n]) => n !== 'test_batch_log')
    .sort((a, b) => b[1].ins + b[1].upd + b[1].del - (a[1].ins + a[1].upd + a[1].del))
    .map(([n, r]) => `${n} ${r.ins}/${r.upd}/${r.del}`)
    .join(', ');
  console.log(`[${s.topology}]   rows ins/upd/del until drained (${s.rowsPerEvent} per event): ${rows}`);
  for (const [job, b] of Object.entries(s.jobs)) {
    console.log(
      `[${s.topology}]   ${job}: ${b.batches} batches of ${round1(b.records / Math.max(1, b.batches))} records, mean transaction ${b.meanTxMs} ms, ${b.recordsPerTxSecond} records per transaction-second, partition chains busy ${Math.round(b.partitionBusyShare * 100)} %; ${b.appliedPerSecInWindow} records/s applied while the load ran`,
    );
  }
}

async function finalCheck(bus: KafkaBus, t: Topology): Promise<FinalCheck> {
  const drainedIn = await drain(bus, t, FINAL_DRAIN_S);
  const r = await t.pool.query<{ granularity: string; n: number }>(
    "SELECT granularity::text, coalesce(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND dimension = '' GROUP BY 1",
    [t.stack.site.id],
  );
  const pv = (g: string) => r.rows.find((x) => x.granularity === g)?.n ?? 0;
  const archived = (
    await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE site_id = $1', [t.stack.site.id])
  ).rows[0]!.n;
  const rollupPageviews = { minute: pv('minute'), hour: pv('hour'), day: pv('day') };
  const sizes = await t.pool.query<{ name: string; bytes: string }>(
    `SELECT coalesce(p.relname, c.relname) AS name, sum(pg_total_relation_size(c.oid))::text AS bytes
       FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
      WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace GROUP BY 1`,
  );
  const bytesPerEvent = Object.fromEntries(
    sizes.rows
      // Tables of at least 1 MB: below that, a table's size is its empty pages and dead tuples, not its rows.
      .filter((x) => Number(x.bytes) >= 1 << 20 && x.name !== 'test_batch_log')
      .map((x): [string, number] => [x.name, Math.round(Number(x.bytes) / Math.max(1, archived))])
      .sort((a, b) => b[1] - a[1]),
  );
  const exact =
    drainedIn !== null &&
    [rollupPageviews.minute, rollupPageviews.hour, rollupPageviews.day, archived].every((n) => n === t.acceptedTotal);
  return {
    bytesPerEvent,
    caughtUp: drainedIn !== null,
    acceptedTotal: t.acceptedTotal,
    rollupPageviews,
    archived,
    exact,
  };
}

/** After its last step: drained, checked, stopped. */
async function retire(bus: KafkaBus, t: Topology): Promise<void> {
  t.final = await finalCheck(bus, t);
  const f = t.final;
  console.log(
    `[${t.spec.name}] check: every job caught up: ${f.caughtUp}; ${f.acceptedTotal} events answered 202; rollups pageviews minute ${f.rollupPageviews.minute}, hour ${f.rollupPageviews.hour}, day ${f.rollupPageviews.day}; archived ${f.archived}: ${f.exact ? 'exact' : 'DIFFERENT'}`,
  );
  console.log(
    `[${t.spec.name}] bytes on disk per event: ${Object.entries(f.bytesPerEvent)
      .map(([n, b]) => `${n} ${b}`)
      .join(', ')}`,
  );
  await stopTopology(t);
}

/** The highest offered rate kept up with, before the first step that was not (0 if none). */
function maxSustained(steps: StepResult[]): number {
  let best = 0;
  for (const s of steps) {
    if (!s.sustained) break;
    best = s.rate;
  }
  return best;
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(
    `[bench] scale-sim: ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim()}), load average ${load}; rates ${RATES.join(', ')}/s, ${STEP_S} s each; CONSUMER_CONCURRENCY ${env().CONSUMER_CONCURRENCY}; logs in ${path.relative(repoRoot, outDir)}`,
  );
  const services = await benchServices({ kafka: true });
  const bus = new KafkaBus(services.brokers, 'bench-observer');
  const topologies: Topology[] = [];
  try {
    console.log(
      `[bench] PostgreSQL ${new URL(services.adminUrl).host}, Kafka ${services.brokers.join(',')}${services.started.length ? ` (started here: ${services.started.join(', ')})` : ''}`,
    );
    buildIfNeeded();
    // One topology at a time, the other stopped: an idle stack is not free (each worker's jobs run a
    // tick transaction per partition every 2 s; the idle scaled stack took ~0.3 of a core in a smoke run).
    for (const spec of TOPOLOGIES) {
      const t = await startTopology(services, spec);
      topologies.push(t);
      // Warm-up: consumer groups formed, code paths warm, every process has produced and applied.
      // 15 s at 100/s, then a pause: after 5 s at 50/s a just-started scaled stack still answered in seconds for 14 s.
      await runLoad(t, 100, 15, `${t.spec.name}-warmup`, 1);
      if ((await drain(bus, t, 120)) === null)
        throw new Error(`${t.spec.name}: the warm-up was not applied within 120 s`);
      console.log(`[${t.spec.name}] warm-up: ${t.acceptedTotal} events applied by every job`);
      await sleep(5000);
      t.idle = await idleCost(t, 10);
      console.log(
        `[${t.spec.name}] idle for 10 s (cores): ${Object.entries(t.idle)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      for (const [i, rate] of RATES.entries()) {
        const s = await step(bus, t, rate, i);
        t.steps.push(s);
        printStep(s);
        if (!s.sustained) break;
      }
      await retire(bus, t);
    }

    console.log('');
    const summary = Object.fromEntries(topologies.map((t) => [t.spec.name, maxSustained(t.steps)]));
    for (const t of topologies) {
      const best = t.steps.find((s) => s.rate === summary[t.spec.name]);
      console.log(
        `[${t.spec.name}] ${t.spec.webs} web / ${t.spec.workers} worker / ${t.spec.partitions} partitions: highest rate kept up with ${summary[t.spec.name]}/s` +
          (best
            ? ` (e2e p99 ${best.e2eP99Ms} ms, 202 p99 ${best.ackP99Ms} ms, back at lag 0 ${best.catchUpS} s after the step)`
            : '') +
          `; counted exactly: ${t.final?.exact ?? false}`,
      );
    }
    const base = summary.baseline ?? 0;
    const scaled = summary.scaled ?? 0;
    const ratio = topologies.length === 2 && base > 0 ? round3(scaled / base) : null;
    if (topologies.length === 2)
      console.log(`[bench] scaled / baseline highest rate kept up with: ${ratio ?? 'n/a'} (${scaled} vs ${base}/s)`);
    console.log(
      JSON.stringify({
        bench: 'scale-sim',
        baseline_max_sustained_per_sec: summary.baseline ?? null,
        scaled_max_sustained_per_sec: summary.scaled ?? null,
        scaled_vs_baseline_ratio: ratio,
        counted_exactly: topologies.every((t) => t.final?.exact === true),
        step_s: STEP_S,
        catch_up_limit_s: CATCH_UP_LIMIT_S,
        ack_p99_limit_ms: ACK_P99_LIMIT_MS,
        consumer_concurrency: env().CONSUMER_CONCURRENCY,
        final: Object.fromEntries(topologies.map((t) => [t.spec.name, t.final])),
        idle_cores: Object.fromEntries(topologies.map((t) => [t.spec.name, t.idle])),
        cores: os.availableParallelism(),
        steps: topologies.flatMap((t) =>
          t.steps.map((s) => ({
            topology: s.topology,
            rate: s.rate,
            accepted_per_sec: s.acceptedPerSec,
            ack_p50_ms: s.ackP50Ms,
            ack_p99_ms: s.ackP99Ms,
            lag_at_end: s.lagAtEnd,
            catch_up_s: s.catchUpS,
            e2e_p50_ms: s.e2eP50Ms,
            e2e_p99_ms: s.e2eP99Ms,
            rows_per_event: s.rowsPerEvent,
            cpu_ms_per_event: s.cpuMsPerEvent,
            machine_busy: s.cpuShare.machine,
            load_average: s.loadAverage,
            sustained: s.sustained,
            rows: s.rows,
            jobs: s.jobs,
          })),
        ),
      }),
    );
  } finally {
    for (const t of topologies)
      await stopTopology(t).catch((e: unknown) => console.error(`[${t.spec.name}] stop: ${(e as Error).message}`));
    await bus.close();
    await services.stop();
  }
}

const proxyAt = process.argv.indexOf('--proxy');
if (proxyAt >= 0) runProxy(JSON.parse(process.argv[proxyAt + 1] ?? '{}') as ProxyOptions);
else {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exit(1);
    },
  );
}
