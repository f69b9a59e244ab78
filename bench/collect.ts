// Benchmark of the collect endpoint, run as `npm run bench -- collect [--duration 15] [--warmup 3]
// [--concurrency 64] [--rounds 1]`. In one run, on this machine, against real Kafka:
// - route: the real Eddy web process (server/index.ts: Next.js production build + Socket.IO),
//   POST /api/collect through the Next.js route handler;
// - bare: a bare node:http server (bench/support/bare-collect-server.ts) calling the very same
//   ingest() with the same body cap and client-IP handling.
// Each is loaded by a separate load-generator process (pinned to another core than the server)
// with valid pageviews from desktop Chrome over fixed keep-alive connections for a fixed time;
// only 202 answers count, and the events topic must have grown by at least every 202 answered.
// Both share one fresh database (one site that allows the pages' host and never rate-limits)
// and one bus namespace. Human-readable lines first; the last line is one JSON object.
// Diagnostics: --profile (each server under `node --cpu-prof`, summarised for the measured
// window: where the CPU went, in µs per event), --only route|bare, --no-pin, and
// --previous-salt (seed the previous day's salt, as an installation older than a day has it).

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { KafkaBus } from '@/lib/bus/kafka';
import { previousPeriodStart } from '@/lib/collect/identity/periods';
import { childEnv, env } from '@/lib/env';
import { buildIfNeeded } from '../scripts/build-if-needed';
import type { LoadOptions, LoadResult } from './support/load-generator';
import { cpuSeconds, freePort, machineCpu, pinning, repoRoot, spawnNode, type Child } from './support/processes';
import { summariseProfile, type ProfileWindow } from './support/profile-summary';
import { flag } from './support/args';
import { benchServices, freshBenchDatabase } from './support/services';
import { SITE_HOST } from './support/traffic';

// route: Next.js route handler (COLLECT_VIA=next); edge: the same web process answering before Next.js
// (COLLECT_VIA=edge, the default in production); bare: a bare node:http server with the same ingest().
type Target = 'route' | 'bare' | 'edge';

const DURATION_S = flag('duration', 15);
const WARMUP_S = flag('warmup', 3);
const CONCURRENCY = flag('concurrency', 64);
const ROUNDS = flag('rounds', 1);
const PROFILE = process.argv.includes('--profile');
/** Diagnostics: measure one target only; seed the previous salt period as an installation older than a day has it. */
const ONLY = ((): Target | undefined => {
  const i = process.argv.indexOf('--only');
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v !== undefined && v !== 'route' && v !== 'bare' && v !== 'edge')
    throw new Error('--only needs route, edge or bare');
  return v;
})();
const PREVIOUS_SALT = process.argv.includes('--previous-salt');
const PARTITIONS = env().EVENTS_PARTITIONS;

const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
const outDir = path.join(repoRoot, env().EDDY_DATA_DIR, 'bench', `collect-${runId}`);
mkdirSync(outDir, { recursive: true });

interface Measurement {
  target: Target;
  round: number;
  load: LoadResult;
  eventsPerSec: number;
  /** Server CPU milliseconds per accepted event, in the measured window. */
  serverCpuMsPerEvent: number;
  serverCpuUtil: number;
  /** Broker CPU (share of one core) in the window, when the broker was started here. */
  kafkaCpuUtil: number;
  machineBusy: number;
  /** The measured window on the monotonic clock, to cut the server's CPU profile to it. */
  window: ProfileWindow;
  topicGrowth: number;
  ledger: { accepted: number; dropped: number };
}

interface Setup {
  dbUrl: string;
  brokers: string[];
  namespace: string;
  siteKey: string;
  siteId: string;
  secret: string;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

async function eventsOnTopic(bus: KafkaBus, topic: string): Promise<number> {
  // Right after a topic is created a broker may briefly answer "not the leader": ask again.
  for (let attempt = 1; ; attempt++) {
    try {
      return sum((await bus.topicOffsets(topic)).map((p) => Number(p.high)));
    } catch (e) {
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function ledgerTotals(dbUrl: string, siteId: string): Promise<{ accepted: number; dropped: number }> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query<{ accepted: string | null; dropped: string | null }>(
      `SELECT sum(accepted) AS accepted,
              sum(dropped_bot + dropped_spam + dropped_hostname + dropped_rate_limited + dropped_unknown_site + malformed) AS dropped
       FROM ingestion_ledger WHERE site_id = $1`,
      [siteId],
    );
    return { accepted: Number(r.rows[0]?.accepted ?? 0), dropped: Number(r.rows[0]?.dropped ?? 0) };
  } finally {
    await c.end();
  }
}

async function setUp(adminUrl: string, brokers: string[]): Promise<Setup & { dropDb(): Promise<void> }> {
  const db = await freshBenchDatabase(adminUrl, 'collect');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const siteKey = `s_bench${randomBytes(8).toString('hex')}`;
  const team = await c.query<{ id: string }>(
    "INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Bench team') RETURNING id",
  );
  const site = await c.query<{ id: string }>(
    `INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames)
     VALUES (gen_random_uuid(), $1, 'Bench shop', $2, $3, ARRAY[$2]) RETURNING id`,
    [team.rows[0]!.id, SITE_HOST, siteKey],
  );
  // High enough never to limit: every request of the benchmark must be accepted.
  await c.query('UPDATE sites SET rate_limit_per_minute = 100000000 WHERE id = $1', [site.rows[0]!.id]);
  if (PREVIOUS_SALT) {
    await c.query("INSERT INTO salts (rotation, period_start, salt) VALUES ('day', $1, $2)", [
      new Date(previousPeriodStart('day', Date.now())).toISOString(),
      randomBytes(32),
    ]);
  }
  await c.end();
  const namespace = `bench${randomBytes(4).toString('hex')}.`;
  const bus = new KafkaBus(brokers);
  await bus.createTopics([
    { name: `${namespace}events`, partitions: PARTITIONS },
    { name: `${namespace}live`, partitions: 1 },
  ]);
  await bus.close();
  return {
    dbUrl: db.url,
    brokers,
    namespace,
    siteKey,
    siteId: site.rows[0]!.id,
    secret: randomBytes(32).toString('base64url'),
    dropDb: db.drop,
  };
}

async function startServer(target: Target, setup: Setup, round: number): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv = childEnv({
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: setup.dbUrl,
    KAFKA_BROKERS: setup.brokers.join(','),
    BUS_NAMESPACE: setup.namespace,
    EVENTS_PARTITIONS: String(PARTITIONS),
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: url,
    AUTH_SECRET: setup.secret,
    NEXTAUTH_URL: url,
    NEXTAUTH_SECRET: setup.secret,
    // Both servers resolve the client IP the same way (lib/collect/client-ip.ts); trusting this
    // header lets the load generator play 20,000 visitors from one machine.
    TRUSTED_PROXY_HEADER: 'x-forwarded-for',
    TRUSTED_COUNTRY_HEADER: undefined,
    GEOIP_DATABASE: undefined,
    COLLECT_VIA: target === 'route' ? 'next' : 'edge',
  });
  const script = target === 'bare' ? 'bench/support/bare-collect-server.ts' : 'server/index.ts';
  const prof = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(outDir, `${target}-${round}-profile`)] : [];
  const child = spawnNode(target, [...prof, '--import', 'tsx', script], {
    env: serverEnv,
    cpu: pinning()?.server,
    logFile: path.join(outDir, `${target}-${round}-server.log`),
  });
  await child.waitForLine(/listening on/, 90_000);
  return { child, url };
}

/** One pageview must get 202 and land on the topic before any load (a just-created topic may need a moment: 503s are retried). */
async function smokeTest(url: string, setup: Setup, bus: KafkaBus, topic: string): Promise<void> {
  const before = await eventsOnTopic(bus, topic);
  let res: Response | undefined;
  for (let attempt = 1; attempt <= 10; attempt++) {
    res = await fetch(`${url}/api/collect`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        'user-agent':
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        'x-forwarded-for': '198.18.255.1',
      },
      body: JSON.stringify({ s: setup.siteKey, u: `https://${SITE_HOST}/smoke`, i: crypto.randomUUID() }),
    });
    if (res.status !== 503) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const after = await eventsOnTopic(bus, topic);
  if (res?.status !== 202 || after < before + 1) {
    throw new Error(
      `smoke test failed: status ${res?.status} (${await res?.text()}), topic grew by ${after - before} (expected at least 1)`,
    );
  }
}

async function measure(
  target: Target,
  setup: Setup,
  bus: KafkaBus,
  round: number,
  kafkaPid: number | undefined,
): Promise<Measurement> {
  const topic = `${setup.namespace}events`;
  const pin = pinning();
  console.log(`\n[${target}] round ${round}: starting the server${pin ? ` on core ${pin.server}` : ''}…`);
  const server = await startServer(target, setup, round);
  try {
    await smokeTest(server.url, setup, bus, topic);
    const topicBefore = await eventsOnTopic(bus, topic);
    const ledgerBefore = await ledgerTotals(setup.dbUrl, setup.siteId);
    const options: LoadOptions = {
      url: `${server.url}/api/collect`,
      siteKey: setup.siteKey,
      concurrency: CONCURRENCY,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      seed: round * 7 + (target === 'route' ? 1 : target === 'bare' ? 2 : 3),
    };
    console.log(
      `[${target}] load: ${CONCURRENCY} keep-alive connections, ${WARMUP_S} s warm-up + ${DURATION_S} s measured${pin ? `, generator on core ${pin.load}` : ''}`,
    );
    const load = spawnNode('load', ['--import', 'tsx', 'bench/support/load-generator.ts', JSON.stringify(options)], {
      env: childEnv({ NODE_ENV: 'production' }),
      cpu: pin?.load,
      logFile: path.join(outDir, `${target}-${round}-load.log`),
    });
    // Server and machine CPU over the measured window, sampled when the generator says it begins and ends.
    await load.waitForLine(/^window start/, 60_000);
    const cpu0 = cpuSeconds(server.child.pid);
    const k0 = kafkaPid ? cpuSeconds(kafkaPid) : NaN;
    const m0 = machineCpu();
    const w0 = Number(process.hrtime.bigint() / 1000n);
    await load.waitForLine(/^window end/, (DURATION_S + 30) * 1000);
    const cpu1 = cpuSeconds(server.child.pid);
    const k1 = kafkaPid ? cpuSeconds(kafkaPid) : NaN;
    const m1 = machineCpu();
    const w1 = Number(process.hrtime.bigint() / 1000n);
    const code = await load.exited;
    const last = load.lines.filter((l) => l.startsWith('{')).pop();
    if (code !== 0 || !last) throw new Error(`load generator failed (${code}): ${load.lines.slice(-10).join('\n')}`);
    const result = JSON.parse(last) as LoadResult;
    // 202 is sent only after the broker acknowledged, so the topic must already hold every one.
    const topicGrowth = (await eventsOnTopic(bus, topic)) - topicBefore;
    await new Promise((r) => setTimeout(r, 2500)); // the ledger flushes every second
    const ledgerAfter = await ledgerTotals(setup.dbUrl, setup.siteId);
    const serverCpu = cpu1 - cpu0;
    const m: Measurement = {
      target,
      round,
      load: result,
      eventsPerSec: result.accepted / result.windowS,
      serverCpuMsPerEvent: (serverCpu * 1000) / Math.max(1, result.accepted),
      serverCpuUtil: serverCpu / result.windowS,
      kafkaCpuUtil: (k1 - k0) / result.windowS,
      machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total),
      window: { startUs: w0, endUs: w1 },
      topicGrowth,
      ledger: {
        accepted: ledgerAfter.accepted - ledgerBefore.accepted,
        dropped: ledgerAfter.dropped - ledgerBefore.dropped,
      },
    };
    report(m);
    if (topicGrowth < result.acceptedTotal) {
      throw new Error(
        `[${target}] the events topic grew by ${topicGrowth}, fewer than the ${result.acceptedTotal} events answered 202`,
      );
    }
    return m;
  } finally {
    await server.child.stop(20_000);
  }
}

function report(m: Measurement): void {
  const l = m.load;
  const other = Object.entries(l.statuses)
    .filter(([s]) => s !== '202')
    .map(([s, n]) => `${n}×${s}`)
    .join(', ');
  console.log(
    `[${m.target}] ${round1(m.eventsPerSec)} accepted events/s (${l.accepted} × 202 in ${l.windowS} s${other ? `; also ${other}` : ''}${l.firstError ? `; first error: ${l.firstError}` : ''})`,
  );
  console.log(
    `[${m.target}] latency of 202s: p50 ${l.latencyMs.p50} ms, p90 ${l.latencyMs.p90} ms, p99 ${l.latencyMs.p99} ms, max ${l.latencyMs.max} ms`,
  );
  console.log(
    `[${m.target}] server CPU ${round3(m.serverCpuMsPerEvent)} ms per event (${Math.round(m.serverCpuUtil * 100)}% of a core); load generator ${Math.round((l.cpuS / l.windowS) * 100)}% of a core; Kafka ${Number.isNaN(m.kafkaCpuUtil) ? 'n/a (not started here)' : `${Math.round(m.kafkaCpuUtil * 100)}% of a core`}; machine ${Math.round(m.machineBusy * 100)}% busy (both cores, everything on it)`,
  );
  console.log(
    `[${m.target}] Kafka check: topic grew by ${m.topicGrowth} ≥ ${l.acceptedTotal} answered 202 over the whole run: ${m.topicGrowth >= l.acceptedTotal ? 'ok' : 'FAILED'}; ledger booked ${m.ledger.accepted} accepted, ${m.ledger.dropped} dropped`,
  );
}

async function main(): Promise<void> {
  if (ONLY !== 'bare') buildIfNeeded();
  const services = await benchServices({ kafka: true });
  let dropDb: (() => Promise<void>) | undefined;
  const bus = new KafkaBus(services.brokers, 'eddy-bench');
  try {
    const setup = await setUp(services.adminUrl, services.brokers);
    dropDb = setup.dropDb;
    const pin = pinning();
    console.log(
      `[bench] collect: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' ',
        )}; Kafka ${services.brokers.join(',')}, events topic with ${PARTITIONS} partitions; ${pin ? `server pinned to core ${pin.server}, load generator to core ${pin.load}` : 'no pinning possible'}; outputs in ${path.relative(repoRoot, outDir)}`,
    );
    const results: Measurement[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      // Alternate the order between rounds so neither target always runs on a warmer machine.
      const order: Target[] = r % 2 ? ['route', 'bare', 'edge'] : ['edge', 'bare', 'route'];
      for (const t of order) if (!ONLY || ONLY === t) results.push(await measure(t, setup, bus, r, services.kafkaPid));
    }

    const of = (t: Target) => results.filter((m) => m.target === t);
    const route = median(of('route').map((m) => m.eventsPerSec));
    const bare = median(of('bare').map((m) => m.eventsPerSec));
    const routeP99 = median(of('route').map((m) => m.load.latencyMs.p99));
    const edge = median(of('edge').map((m) => m.eventsPerSec));
    const edgeP99 = median(of('edge').map((m) => m.load.latencyMs.p99));
    const bareP99 = median(of('bare').map((m) => m.load.latencyMs.p99));
    const ratio = route / bare;
    console.log('');
    if (ROUNDS > 1) console.log(`[bench] medians over ${ROUNDS} rounds`);
    console.log(
      `[bench] route ${round1(route)} events/s vs bare ${round1(bare)} events/s: ratio ${round3(ratio)} (goal ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'MISSED'})`,
    );
    console.log(
      `[bench] route into Kafka: ${round1(route)} accepted events/s (goal ≥ 3,000: ${route >= 3000 ? 'met' : 'MISSED'}); p99 route ${routeP99} ms, bare ${bareP99} ms`,
    );
    console.log(
      `[bench] edge (production path, COLLECT_VIA=edge) ${round1(edge)} events/s: ${round3(edge / bare)} of bare, ${round3(edge / route)}× the Next.js route; p99 ${edgeP99} ms (goal ≥ 3,000/s: ${edge >= 3000 ? 'met' : 'MISSED'})`,
    );
    console.log(
      `[bench] server CPU per event: route ${round3(median(of('route').map((m) => m.serverCpuMsPerEvent)))} ms, bare ${round3(median(of('bare').map((m) => m.serverCpuMsPerEvent)))} ms`,
    );
    if (PROFILE) {
      for (const m of results) {
        console.log(`\n[${m.target}] round ${m.round}: CPU profile`);
        for (const line of summariseProfile(
          path.join(outDir, `${m.target}-${m.round}-profile`),
          m.window,
          25,
          m.load.accepted,
        ))
          console.log(`  ${line}`);
      }
    }
    console.log(
      JSON.stringify({
        bench: 'collect',
        route_events_per_sec: round1(route),
        bare_events_per_sec: round1(bare),
        route_vs_bare_ratio: round3(ratio),
        route_p99_ms: routeP99,
        bare_p99_ms: bareP99,
        edge_events_per_sec: round1(edge),
        edge_vs_bare_ratio: round3(edge / bare),
        edge_p99_ms: edgeP99,
        route_cpu_ms_per_event: round3(median(of('route').map((m) => m.serverCpuMsPerEvent))),
        bare_cpu_ms_per_event: round3(median(of('bare').map((m) => m.serverCpuMsPerEvent))),
        concurrency: CONCURRENCY,
        duration_s: DURATION_S,
        rounds: ROUNDS,
        kafka_verified: results.every((m) => m.topicGrowth >= m.load.acceptedTotal),
      }),
    );
  } finally {
    await bus.close();
    await dropDb?.().catch(() => undefined);
    await services.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
