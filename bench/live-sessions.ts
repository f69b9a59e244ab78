// Live visits on real Kafka + PostgreSQL, run as `npm run bench -- live-sessions [--rate 5]
// [--duration 20] [--gap-ms 2000] [--events 30000] [--rounds 3]`:
// 1. Latency: a new visitor's first pageview → the visit counted for its site, as the dashboard
//    reads it: lib/analytics/stats.ts siteStats() (range today, rollups engine: summary.sessions),
//    polled every 20 ms. The live push does not carry visits yet (LiveSnapshot has pageviews per
//    minute only), so this is the rollups as read by the dashboard's data path, not the socket.
//    New visitors (one pageview each, a fixed open-loop schedule) are produced straight to the
//    events topic as the collect endpoint does (key site:visitor; the clock starts before the
//    send, so the produce with acks=all is included; the HTTP collect hop is not). The sessions
//    job runs in this process (workers/runtime.ts runJob, consumer group on Kafka). The k-th visit
//    counted is attributed to the k-th visitor sent. Another site's visitors keep the partitions'
//    watermarks moving (a live site has other traffic), as production traffic does.
// 2. Cost of speculation: N events (visitors with several pageviews, the last two minutes of
//    event time) produced to a fresh topic, then the sessions job drains them; events/s from its
//    first transaction to its last commit (batch log), and rows written (inserted + updated +
//    deleted in sessions and rollups, from pg_stat_user_tables) per event. On this shared machine
//    one pass per side swung the ratio from 0.43 to 1.66, so the sides alternate for --rounds
//    rounds (order flipped every round) and the medians are compared.
// Baseline side by side, same run, same code: sessionsJob({ earlyFiring: false }), i.e. the job
// before live visits, counting a visit when its gap closes (a short gap for both sides, so the
// baseline finishes; production's default is 30 min, and its visits then appear 30 min + late).
// Human-readable lines first; the last line is one JSON object.

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { KafkaBus } from '@/lib/bus/kafka';
import { env, setEnv } from '@/lib/env';
import { runJob, type RunningJob } from '../workers/runtime';
import { sessionsJob } from '../workers/sessions/sessions-job';
import { SiteDimensionTable } from '../workers/shared/dimensions';
import {
  caughtUp,
  createPipelineTopics,
  createSites,
  installBatchLog,
  loggedBatches,
  pipelineTopics,
  produceEvents,
  sleep,
  type TruthEvent,
} from './support/e2e-pipeline';
import { flag } from './support/args';
import { benchServices, freshBenchDatabase, type BenchServices } from './support/services';
import { SITE_HOST } from './support/traffic';

const RATE = flag('rate', 5);
const DURATION_S = flag('duration', 20);
const GAP_MS = flag('gap-ms', 2000);
const COST_EVENTS = flag('events', 30_000);
const COST_ROUNDS = flag('rounds', 3);
const PARTITIONS = env().EVENTS_PARTITIONS;
const POLL_MS = 20;
const CLOCK_PER_SEC = 10;
const GOAL_P50_MS = 250;
const GOAL_P99_MS = 1000;
const GOAL_THROUGHPUT_RATIO = 0.7;
const PATHS = ['/', '/pricing', '/blog', '/docs/getting-started', '/cart', '/about'];

type Mode = 'early' | 'on-time';
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
/** Nearest-rank quantile. */
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const stats = (xs: number[]) =>
  `p50 ${round1(quantile(xs, 0.5))} ms, p90 ${round1(quantile(xs, 0.9))} ms, p99 ${round1(quantile(xs, 0.99))} ms, max ${round1(Math.max(...xs))} ms (n ${xs.length})`;

/** Every site's session gap is GAP_MS (the sites table holds whole minutes). */
class ShortGapDimensions extends SiteDimensionTable {
  override site(siteId: string) {
    return { ...super.site(siteId), sessionGapMs: GAP_MS };
  }
}

function pageview(siteId: string, visitorId: string, i: number, ts: number): TruthEvent & Record<string, unknown> {
  const path = PATHS[i % PATHS.length]!;
  return {
    v: 1,
    eventId: randomUUID(),
    siteId,
    visitorId,
    name: 'pageview',
    url: `https://${SITE_HOST}${path}`,
    hostname: SITE_HOST,
    path,
    channel: i % 3 === 0 ? 'search' : 'direct',
    referrerHost: i % 3 === 0 ? 'google.com' : undefined,
    device: i % 4 === 0 ? 'mobile' : 'desktop',
    browser: 'Chrome',
    os: i % 2 ? 'Windows' : 'macOS',
    country: ['DE', 'US', 'FR'][i % 3],
    ts,
    receivedAt: ts,
  };
}

interface Side {
  db: Awaited<ReturnType<typeof freshBenchDatabase>>;
  pool: pg.Pool;
  bus: KafkaBus;
  namespace: string;
  dims: ShortGapDimensions;
  job?: RunningJob;
}

/** A fresh database and bus namespace, this process's settings pointed at them. */
async function openSide(services: BenchServices, label: string): Promise<Side> {
  const db = await freshBenchDatabase(services.adminUrl, label);
  const namespace = `ls${randomUUID().slice(0, 8)}.`;
  setEnv({ DATABASE_URL: db.url, BUS_NAMESPACE: namespace });
  const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'bench-sessions' });
  const bus = new KafkaBus(services.brokers, `bench-${label}`);
  await createPipelineTopics(bus, namespace, PARTITIONS);
  return { db, pool, bus, namespace, dims: new ShortGapDimensions(pool) };
}

async function closeSide(s: Side): Promise<void> {
  await s.job?.stop().catch(() => undefined);
  await s.bus.close().catch(() => undefined);
  await s.pool.end().catch(() => undefined);
  const { closeDb } = await import('@/lib/db/client');
  await closeDb().catch(() => undefined);
  await s.db.drop().catch(() => undefined);
}

interface LatencyResult {
  mode: Mode;
  sent: number;
  latencies: number[];
  counted: number;
  /** Rows written to sessions + rollups per event (new visitors and other traffic) in the live phase. */
  rowsPerEvent: number;
}

async function latency(services: BenchServices, mode: Mode): Promise<LatencyResult> {
  const side = await openSide(services, `live_sessions_${mode.replace('-', '_')}`);
  try {
    const [live, other] = await createSites(side.pool, ['live', 'other'], [SITE_HOST]);
    await side.dims.refresh();
    const { siteStats, statsQuerySchema } = await import('@/lib/analytics/stats');
    const query = statsQuerySchema.parse({ range: 'today', compare: 'none' });
    const site = { id: live!.id, timezone: 'UTC', sessionGapMinutes: 1 };
    const visits = async () => (await siteStats(site, query)).summary.sessions;

    const rowsBefore = await rowsWritten(side.pool);
    side.job = await runJob(
      sessionsJob({ bus: side.bus, db: side.pool, dims: side.dims, settings: env(), earlyFiring: mode === 'early' }),
      side.bus,
      side.pool,
      { start: { from: 'earliest' } },
    );
    const topic = pipelineTopics(side.namespace).events;

    // Other traffic throughout: visitors of the other site on every partition, CLOCK_PER_SEC/s.
    let clocking = true;
    let clockN = 0;
    const clock = (async () => {
      while (clocking) {
        await produceEvents(side.bus, topic, [pageview(other!.id, `other-${clockN % 200}`, clockN, Date.now())]);
        clockN++;
        await sleep(1000 / CLOCK_PER_SEC);
      }
    })();
    // Warm-up: the group has its partitions and has applied other-site batches on all of them.
    const warmUntil = Date.now() + 60_000;
    for (;;) {
      const r = await side.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM consumer_progress WHERE job = 'sessions' AND next_offset > 0",
      );
      if (r.rows[0]!.n >= PARTITIONS) break;
      if (Date.now() > warmUntil)
        throw new Error(
          `[${mode}] warm-up: the sessions job applied batches on ${r.rows[0]!.n}/${PARTITIONS} partitions in 60 s`,
        );
      await sleep(100);
    }
    await sleep(1000);

    // Counted visits, polled through the dashboard's query.
    const countedAt: number[] = [];
    let counted = await visits();
    if (counted !== 0) throw new Error(`[${mode}] ${counted} visits before any visitor`);
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const n = await visits();
        const now = Date.now();
        while (counted < n) countedAt[counted++] = now;
        await sleep(POLL_MS);
      }
    })();

    const n = Math.round(RATE * DURATION_S);
    const sentAt: number[] = [];
    const t0 = Date.now() + 100;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      sentAt[i] = Date.now();
      sends.push(produceEvents(side.bus, topic, [pageview(live!.id, `new-${i}`, i, sentAt[i]!)]));
    }
    await Promise.all(sends);
    // The baseline counts a visit once the watermark passed its gap: allow gap + out-of-orderness + idle + slack.
    const { OUT_OF_ORDERNESS_MS, IDLE_TIMEOUT_MS } = env();
    const until = Date.now() + GAP_MS + OUT_OF_ORDERNESS_MS + IDLE_TIMEOUT_MS + 15_000;
    while (counted < n && Date.now() < until) await sleep(50);
    await sleep(500); // more than n would be a double count
    polling = false;
    await poller;
    clocking = false;
    await clock;
    await side.job.stop();
    side.job = undefined;
    const rowsPerEvent = ((await rowsWritten(side.pool)) - rowsBefore) / (n + clockN);
    const latencies = countedAt.slice(0, n).map((at, k) => at - sentAt[k]!);
    console.log(
      `[${mode}] ${n} new visitors at ${RATE}/s; ${counted} visits counted by the dashboard query (${clockN} other-site pageviews kept the watermarks moving): ${stats(latencies)}; ` +
        `${round3(rowsPerEvent)} rows written to sessions + rollups per event (live traffic, small batches)`,
    );
    return { mode, sent: n, latencies, counted, rowsPerEvent };
  } finally {
    await closeSide(side);
  }
}

interface CostResult {
  mode: Mode;
  events: number;
  applyS: number;
  eventsPerSec: number;
  batches: number;
  rowsWritten: number;
  sessionsRows: number;
  visitsInRollups: number;
}

async function rowsWritten(pool: pg.Pool): Promise<number> {
  // Counters reach pg_stat after the writing backend reports them (≤ 1 s after its transaction).
  await sleep(1500);
  const r = await pool.query<{ n: string }>(
    "SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS n FROM pg_stat_user_tables WHERE relname IN ('sessions', 'rollups')",
  );
  return Number(r.rows[0]!.n);
}

async function cost(services: BenchServices, mode: Mode, count: number): Promise<CostResult> {
  const side = await openSide(services, `live_sessions_cost_${mode.replace('-', '_')}`);
  try {
    const sites = (await createSites(side.pool, ['alpha', 'beta', 'gamma'], [SITE_HOST])).map((s) => s.id);
    await side.dims.refresh();
    await installBatchLog(side.pool);
    const topic = pipelineTopics(side.namespace).events;
    // count/5 visitors, each 5 pageviews 1 s apart (one visit each); visits start throughout the last ten minutes, so few are still open at the end.
    const now = Date.now();
    const visitors = Math.max(1, Math.floor(count / 5));
    const events = Array.from({ length: count }, (_, i) => {
      const v = i % visitors;
      const nth = Math.floor(i / visitors);
      return pageview(
        sites[v % sites.length]!,
        `visitor-${v}`,
        i,
        now - 600_000 + Math.floor((v * 580_000) / visitors) + nth * 1000,
      );
    }).sort((a, b) => a.ts - b.ts);
    for (let i = 0; i < events.length; i += 1000) await produceEvents(side.bus, topic, events.slice(i, i + 1000));
    const before = await rowsWritten(side.pool);
    side.job = await runJob(
      sessionsJob({ bus: side.bus, db: side.pool, dims: side.dims, settings: env(), earlyFiring: mode === 'early' }),
      side.bus,
      side.pool,
      { start: { from: 'earliest' } },
    );
    const deadline = Date.now() + 300_000;
    while (!(await caughtUp(side.bus, side.pool, topic, ['sessions']))) {
      if (Date.now() > deadline) throw new Error(`[${mode}] sessions job did not catch up within 5 minutes`);
      await sleep(100);
    }
    await side.job.stop();
    side.job = undefined;
    const batches = (await loggedBatches(side.pool)).filter((b) => b.job === 'sessions');
    const firstTx = Math.min(...batches.map((b) => b.txStarted!));
    const lastCommit = Math.max(...batches.map((b) => b.at!));
    const written = (await rowsWritten(side.pool)) - before;
    const sessionsRows = (await side.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0]!.n;
    const visitsInRollups = (
      await side.pool.query<{ n: number }>(
        "SELECT COALESCE(sum(sessions), 0)::int AS n FROM rollups WHERE granularity = 'minute' AND dimension = ''",
      )
    ).rows[0]!.n;
    const applyS = (lastCommit - firstTx) / 1000;
    const r: CostResult = {
      mode,
      events: count,
      applyS,
      eventsPerSec: count / applyS,
      batches: batches.length,
      rowsWritten: written,
      sessionsRows,
      visitsInRollups,
    };
    console.log(
      `[cost ${mode}] ${count} events (${visitors} visitors) in ${round1(applyS)} s, first transaction → last commit: ${round1(r.eventsPerSec)} events/s in ${r.batches} batches; ` +
        `${written} rows written to sessions + rollups (${round3(written / count)} per event); ${sessionsRows} visits in the sessions table, ${visitsInRollups} in the minute rollups`,
    );
    return r;
  } finally {
    await closeSide(side);
  }
}

async function main(): Promise<void> {
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  const loadBefore = load();
  console.log(
    `[bench] live-sessions: ${os.availableParallelism()} cores, load average ${loadBefore}; ${RATE} new visitors/s for ${DURATION_S} s per side, session gap ${GAP_MS} ms; cost over ${COST_EVENTS} events`,
  );
  const services = await benchServices({ kafka: true });
  try {
    const e = env();
    console.log(
      `[bench] PostgreSQL ${new URL(services.adminUrl).host}, Kafka ${services.brokers.join(',')}, ${PARTITIONS} partitions; out-of-orderness ${e.OUT_OF_ORDERNESS_MS} ms, idle timeout ${e.IDLE_TIMEOUT_MS} ms`,
    );
    const early = await latency(services, 'early');
    const onTime = await latency(services, 'on-time');
    const rounds: Record<Mode, CostResult[]> = { early: [], 'on-time': [] };
    for (let r = 0; r < COST_ROUNDS; r++) {
      const order: Mode[] = r % 2 === 0 ? ['early', 'on-time'] : ['on-time', 'early'];
      for (const m of order) rounds[m].push(await cost(services, m, COST_EVENTS));
    }
    const median = (m: Mode) =>
      [...rounds[m]].sort((a, b) => a.eventsPerSec - b.eventsPerSec)[Math.floor(rounds[m].length / 2)]!;
    const costEarly = median('early');
    const costOnTime = median('on-time');
    const perRound = rounds.early.map((e, i) => round3(e.eventsPerSec / rounds['on-time'][i]!.eventsPerSec));

    const p50 = quantile(early.latencies, 0.5);
    const p99 = quantile(early.latencies, 0.99);
    const b50 = quantile(onTime.latencies, 0.5);
    const b99 = quantile(onTime.latencies, 0.99);
    const ratio = costEarly.eventsPerSec / costOnTime.eventsPerSec;
    console.log('');
    console.log(
      `[latency] first pageview → visit counted (dashboard query on the rollups), early firings: ${stats(early.latencies)}`,
    );
    console.log(
      `[baseline] same, visit counted when its ${GAP_MS} ms gap closes (earlyFiring: false): ${stats(onTime.latencies)}`,
    );
    console.log(
      `[latency] p50 ${round1(b50 / p50)}× sooner than the baseline with a ${GAP_MS} ms gap (with the default 30 min gap the baseline is ≥ 1,800,000 ms)`,
    );
    console.log(`[cost] per round early/on-time events/s: ${perRound.join(', ')}; medians over ${COST_ROUNDS} rounds:`);
    console.log(
      `[cost] events/s with early firings ${round1(costEarly.eventsPerSec)} vs without ${round1(costOnTime.eventsPerSec)}: ${round3(ratio)}× (goal ≥ ${GOAL_THROUGHPUT_RATIO}); rows written per event in that drain ${round3(costEarly.rowsWritten / costEarly.events)} vs ${round3(costOnTime.rowsWritten / costOnTime.events)}, in the live phase ${round3(early.rowsPerEvent)} vs ${round3(onTime.rowsPerEvent)}`,
    );
    const exact = early.counted === early.sent && onTime.counted === onTime.sent;
    const goals = p50 <= GOAL_P50_MS && p99 <= GOAL_P99_MS && ratio >= GOAL_THROUGHPUT_RATIO;
    console.log(
      `[bench] goals: p50 ${round1(p50)} ms (≤ ${GOAL_P50_MS}), p99 ${round1(p99)} ms (≤ ${GOAL_P99_MS}), throughput ratio ${round3(ratio)} (≥ ${GOAL_THROUGHPUT_RATIO}): ${goals ? 'met' : 'MISSED'}; load average before ${loadBefore}, after ${load()}`,
    );
    console.log(
      JSON.stringify({
        bench: 'live-sessions',
        p50_ms: round1(p50),
        p99_ms: round1(p99),
        baseline_p50_ms: round1(b50),
        baseline_p99_ms: round1(b99),
        p50_speedup: round1(b50 / p50),
        visitors: early.sent,
        rate_per_sec: RATE,
        gap_ms: GAP_MS,
        measured_at: 'rollups via dashboard siteStats()',
        counted_exactly: exact,
        worker_events_per_sec: round1(costEarly.eventsPerSec),
        baseline_worker_events_per_sec: round1(costOnTime.eventsPerSec),
        throughput_ratio: round3(ratio),
        throughput_ratio_per_round: perRound,
        rows_per_event: round3(costEarly.rowsWritten / costEarly.events),
        baseline_rows_per_event: round3(costOnTime.rowsWritten / costOnTime.events),
        live_rows_per_event: round3(early.rowsPerEvent),
        baseline_live_rows_per_event: round3(onTime.rowsPerEvent),
        load_average: loadBefore,
        goals_met: goals,
      }),
    );
  } finally {
    await services.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
