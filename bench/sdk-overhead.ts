// Benchmark of @eddy/node's cost to the customer's app, run as
// `npm run bench -- sdk-overhead [--requests 3000] [--rounds 5]`. Two copies of a trivial
// Express app (bench/support/sdk-app.ts) run side by side, each in its own process: the
// baseline without middleware, and the same app with the middleware, whose events go to a sink
// process answering 202 like Eddy's events API (Eddy's own cost is not the app's). One client
// (this process) sends sequential requests over a keep-alive connection, from a distinct
// X-Forwarded-For address each (trusted, so none is skipped as local), alternating the two sides
// round by round (order flipped every round). It prints p50/p99 per side and round, and the
// medians over rounds; p50_added_ms = median p50 with − median p50 without. On a shared 2-core
// machine latency is noisy, so it also reports each app process's CPU time per request (its
// own process.cpuUsage(), sending included), which other processes' load disturbs much less.
// Human-readable lines first; the last line is one JSON object with the figures.

import { fork, spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { flag } from './support/args';

const REQUESTS = flag('requests', 3000, { integer: true });
const ROUNDS = flag('rounds', 5, { integer: true });
const WARMUP = 500;

const SINK = `
let events = 0;
require('node:http').createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => { try { events += JSON.parse(body).events.length; } catch {} res.writeHead(202, { 'content-type': 'application/json' }); res.end('{"accepted":0,"dropped":{}}'); });
}).listen(0, '127.0.0.1', function () { process.send({ port: this.address().port }); });
process.on('message', () => process.send({ events }));
`;

type Child = ReturnType<typeof fork>;

function firstMessage<T>(child: Child): Promise<T> {
  return new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
}

async function startApp(endpoint?: string): Promise<{ child: Child; port: number }> {
  const child = fork(path.join(import.meta.dirname, 'support/sdk-app.ts'), endpoint ? ['--eddy', endpoint] : [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await firstMessage<{ port: number }>(child);
  return { child, port };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, i: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/items/${i}?q=secret`,
        agent,
        headers: {
          'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          'user-agent': 'Mozilla/5.0 bench',
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
      },
    );
    req.once('error', reject);
  });
}

async function cpuUs(child: Child): Promise<number> {
  child.send('cpu');
  return (await firstMessage<{ cpuUs: number }>(child)).cpuUs;
}

async function run(port: number, n: number, offset: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await get(port, offset + i));
  return out;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]) => pct(xs, 50);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  const loadBefore = load();
  console.log(
    `[bench] sdk-overhead: ${os.availableParallelism()} cores, load average ${loadBefore}; ${ROUNDS} rounds × ${REQUESTS} sequential keep-alive requests per side`,
  );
  const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port: sinkPort } = await firstMessage<{ port: number }>(sink as unknown as Child);
  const plain = await startApp();
  const withEddy = await startApp(`http://127.0.0.1:${sinkPort}`);
  try {
    await run(plain.port, WARMUP, 0);
    await run(withEddy.port, WARMUP, 0);
    const sides = {
      without: { p50: [] as number[], p99: [] as number[], cpu: [] as number[] },
      with: { p50: [] as number[], p99: [] as number[], cpu: [] as number[] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('without' | 'with')[] = round % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
      for (const side of order) {
        const app = side === 'with' ? withEddy : plain;
        const cpu0 = await cpuUs(app.child);
        const lat = await run(app.port, REQUESTS, (round + 1) * REQUESTS);
        // Let the last batch go out, so its sending is counted in this round's CPU.
        await new Promise((r) => setTimeout(r, side === 'with' ? 1200 : 0));
        const cpu = ((await cpuUs(app.child)) - cpu0) / REQUESTS;
        sides[side].p50.push(pct(lat, 50));
        sides[side].p99.push(pct(lat, 99));
        sides[side].cpu.push(cpu);
        console.log(
          `[round ${round + 1}] ${side.padEnd(7)} middleware: p50 ${r3(pct(lat, 50))} ms, p99 ${r3(pct(lat, 99))} ms, app CPU ${r3(cpu)} µs/request`,
        );
      }
    }
    // The events the middleware produced reached the sink (the app did the whole job, not half of it).
    withEddy.child.send('stats');
    const { stats } = (await firstMessage<{
      stats: { sent: number; pending: number; droppedQueueFull: number; requests: number } | null;
    }>(withEddy.child)) as { stats: { sent: number; pending: number; droppedQueueFull: number; requests: number } };
    const cpuWith = median(sides.with.cpu);
    const cpuWithout = median(sides.without.cpu);
    const p50With = median(sides.with.p50);
    const p50Without = median(sides.without.p50);
    const p99With = median(sides.with.p99);
    const p99Without = median(sides.without.p99);
    const added = p50With - p50Without;
    console.log(
      `[baseline] without middleware: p50 ${r3(p50Without)} ms, p99 ${r3(p99Without)} ms (medians over ${ROUNDS} rounds)`,
    );
    console.log(
      `[sdk]      with middleware:    p50 ${r3(p50With)} ms, p99 ${r3(p99With)} ms; ratio p50 ${r3(p50With / p50Without)}×, p99 ${r3(p99With / p99Without)}×`,
    );
    console.log(
      `[sdk] app CPU per request: ${r3(cpuWithout)} µs without, ${r3(cpuWith)} µs with (+${r3(cpuWith - cpuWithout)} µs = ${r3((cpuWith - cpuWithout) / 1000)} ms, sending included)`,
    );
    console.log(
      `[sdk] p50 added ${r3(added)} ms (goal ≤ 0.05 ms); events sent to the sink ${stats.sent} in ${stats.requests} requests, pending ${stats.pending}, dropped ${stats.droppedQueueFull}; load average before ${loadBefore}, after ${load()}`,
    );
    console.log(
      JSON.stringify({
        bench: 'sdk-overhead',
        p50_added_ms: r3(added),
        p50_ms: r3(p50With),
        p99_ms: r3(p99With),
        baseline_p50_ms: r3(p50Without),
        baseline_p99_ms: r3(p99Without),
        p99_ratio: r3(p99With / p99Without),
        cpu_us_per_request: r3(cpuWith),
        baseline_cpu_us_per_request: r3(cpuWithout),
        cpu_added_ms_per_request: r3((cpuWith - cpuWithout) / 1000),
        p50_per_round: { with: sides.with.p50.map(r3), without: sides.without.p50.map(r3) },
        requests_per_side: REQUESTS * ROUNDS,
        events_sent: stats.sent,
        sink_requests: stats.requests,
        load_average: loadBefore,
        goal_met: added <= 0.05,
      }),
    );
  } finally {
    plain.child.kill();
    withEddy.child.kill();
    sink.kill();
    agent.destroy();
  }
}

void main();
