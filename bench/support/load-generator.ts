import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { pageviews, type CollectRequest } from './traffic';

// Closed-loop HTTP load for the collect benchmark, in its own process (bench/collect.ts pins it
// to another core than the server): `concurrency` keep-alive connections, each sending the next
// pageview as soon as the previous answer arrived. Runs `warmupS` then `durationS`; only
// answers completed inside the measured window count for the rate and the latencies. Prints one
// JSON line (LoadResult). Run: node --import tsx bench/support/load-generator.ts '<LoadOptions JSON>'
// With `rate` it is open loop instead (bench/scale-sim.ts): requests leave on a fixed schedule
// whatever the answers do, over at most `concurrency` connections; a request that waits for a
// free connection is late, and its latency counts from its scheduled time. Then the requests
// *scheduled* in the window count, whenever their answers arrive.

export interface LoadOptions {
  url: string;
  siteKey: string;
  concurrency: number;
  warmupS: number;
  durationS: number;
  seed: number;
  /** Open loop at this many requests/s (unset: closed loop). */
  rate?: number;
  /** Open loop: every 202 as a line `eventId<TAB>scheduled ms<TAB>answered ms` (epoch ms), for end-to-end latency. */
  acksFile?: string;
}

export interface LoadResult {
  /** 202 answers in the measured window. */
  accepted: number;
  /** 202 answers over the whole run (warm-up, window and the in-flight tail): what must be on the topic. */
  acceptedTotal: number;
  sentTotal: number;
  /** Answers in the window by status ("error" = no answer). */
  statuses: Record<string, number>;
  windowS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** CPU seconds this process used in the window (if ~windowS, the generator itself was the limit). */
  cpuS: number;
  firstError?: string;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function run(o: LoadOptions): Promise<LoadResult> {
  const target = new URL(o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const next = pageviews(o.siteKey, o.seed);
  const start = performance.now();
  const windowStart = start + o.warmupS * 1000;
  const windowEnd = windowStart + o.durationS * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let accepted = 0;
  let acceptedTotal = 0;
  let sentTotal = 0;
  let firstError: string | undefined;
  let cpuAtWindowStart: NodeJS.CpuUsage | undefined;
  let cpuInWindow: NodeJS.CpuUsage | undefined;

  const send = (r: CollectRequest = next()): Promise<number | string> => {
    sentTotal++;
    return new Promise((resolve) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'text/plain;charset=UTF-8',
            'content-length': Buffer.byteLength(r.body),
            'user-agent': r.userAgent,
            'x-forwarded-for': r.clientIp,
            origin: 'https://shop.example',
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
          res.once('error', (e) => resolve(`error: ${e.message}`));
        },
      );
      req.once('error', (e) => resolve(`error: ${e.message}`));
      req.end(r.body);
    });
  };

  // The orchestrator samples the server's CPU time when these lines appear.
  setTimeout(() => {
    cpuAtWindowStart = process.cpuUsage();
    console.log('window start');
  }, windowStart - start);
  setTimeout(() => {
    cpuInWindow = process.cpuUsage(cpuAtWindowStart);
    console.log('window end');
  }, windowEnd - start);

  const connection = async () => {
    while (performance.now() < windowEnd) {
      const t0 = performance.now();
      const status = await send();
      const t1 = performance.now();
      if (status === 202) acceptedTotal++;
      if (typeof status === 'string') firstError ??= status;
      if (t1 >= windowStart && t1 < windowEnd) {
        const key = typeof status === 'number' ? String(status) : 'error';
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (status === 202) {
          accepted++;
          latencies.push(t1 - t0);
        }
      }
    }
  };
  // Open loop: every request at its time; answers are awaited at the end.
  const acks: string[] = [];
  const schedule = async (rate: number) => {
    const inFlight: Promise<void>[] = [];
    for (let i = 0; ; i++) {
      const due = start + (i * 1000) / rate;
      if (due >= windowEnd) break;
      if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
      const r = next();
      const inWindow = due >= windowStart;
      inFlight.push(
        send(r).then((status) => {
          const t1 = performance.now();
          if (status === 202) {
            acceptedTotal++;
            acks.push(
              `${r.eventId}\t${Math.round(performance.timeOrigin + due)}\t${Math.round(performance.timeOrigin + t1)}`,
            );
          }
          if (typeof status === 'string') firstError ??= status;
          if (!inWindow) return;
          const key = typeof status === 'number' ? String(status) : 'error';
          statuses[key] = (statuses[key] ?? 0) + 1;
          if (status === 202) {
            accepted++;
            latencies.push(t1 - due);
          }
        }),
      );
    }
    await Promise.all(inFlight);
  };
  if (o.rate) await schedule(o.rate);
  else await Promise.all(Array.from({ length: o.concurrency }, connection));
  if (o.acksFile) writeFileSync(o.acksFile, acks.join('\n') + '\n');
  // The last answers may arrive just after the window closed; wait for the timer's sample.
  while (!cpuInWindow) await new Promise((r) => setTimeout(r, 10));
  agent.destroy();

  const sorted = Float64Array.from(latencies).sort();
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    accepted,
    acceptedTotal,
    sentTotal,
    statuses,
    windowS: o.durationS,
    latencyMs: {
      p50: round(quantile(sorted, 0.5)),
      p90: round(quantile(sorted, 0.9)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
    cpuS: round((cpuInWindow.user + cpuInWindow.system) / 1e6),
    firstError,
  };
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
run(options)
  .then((r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  })
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
