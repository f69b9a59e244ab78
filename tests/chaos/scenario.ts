import { KafkaBus } from '@/lib/bus/kafka';
import type { ChaosBroker } from './broker';
import { check, type CheckResult, type LiveObservation } from './checker';
import { ChaosCluster, STREAM_JOBS, type BrokenVariant, type UnexpectedExit } from './cluster';
import { Generator } from './generator';
import { LiveClient } from './live-client';
import { FAULTS, Nemesis, type FaultKind, type FaultOptions, type FaultRecord } from './nemesis';
import { Random, sleep, type RunLog } from './util';

// One scenario: topology up → generator + live clients → nemesis until the deadline → heal →
// every send acknowledged → drain (lag 0) → checker. A positive scenario must pass every
// criterion; a negative control (a deliberately broken worker build) must fail the one it targets.

export const DRAIN_LIMIT_S = 120;

export interface ScenarioSpec {
  label: string;
  seed: number;
  durationMs: number;
  /** Faults that must be injected (seeded order); with `fill`, seeded extras until the deadline. */
  must: FaultKind[];
  fill: boolean;
  /** Which faults the extras are drawn from (default: all, cheap ones twice as likely). */
  fillFrom?: readonly FaultKind[];
  faultOptions?: FaultOptions;
  variant?: BrokenVariant;
  workers: number;
  eventsPerSecond: number;
}

export interface ScenarioResult {
  spec: ScenarioSpec;
  check: CheckResult | null;
  error?: string;
  faults: FaultRecord[];
  unexpectedExits: UnexpectedExit[];
  drainSeconds: number | null;
  poison: number;
  attempts: Record<string, number>;
  wallSeconds: number;
}

export interface SuiteContext {
  broker: ChaosBroker;
  log: RunLog;
  webRoot: string;
}

export async function runScenario(spec: ScenarioSpec, ctx: SuiteContext): Promise<ScenarioResult> {
  const { broker, log } = ctx;
  const t0 = Date.now();
  const scope = spec.label;
  log.line(
    scope,
    `seed ${spec.seed}${spec.variant ? `, broken variant ${spec.variant}` : ''}, ${spec.workers} worker(s), ${spec.durationMs / 1000} s, faults ${spec.must.join(' ')}${spec.fill ? ' + seeded extras' : ''}`,
  );
  let cluster: ChaosCluster | undefined;
  let generator: Generator | undefined;
  let nemesis: Nemesis | undefined;
  const clients: LiveClient[] = [];
  const result: ScenarioResult = {
    spec,
    check: null,
    faults: [],
    unexpectedExits: [],
    drainSeconds: null,
    poison: 0,
    attempts: {},
    wallSeconds: 0,
  };

  try {
    await broker.heal();
    cluster = await ChaosCluster.create({
      label: spec.label,
      broker,
      log,
      webRoot: ctx.webRoot,
      workers: spec.workers,
      variant: spec.variant,
    });
    const c = cluster;
    log.line(
      scope,
      `up: web on ${c.url}, ${c.normalWorkers().length} workers, namespace ${c.namespace}, database ${c.db.name}`,
    );

    // Live dashboards: the owner of team a watches its two sites, the owner of team b its one.
    const isolationViolations: string[] = [];
    const [a1, a2, b1] = c.sites as [(typeof c.sites)[0], (typeof c.sites)[0], (typeof c.sites)[0]];
    const clientA = new LiveClient(() => c.url, c.secret, c.users.a, 'owner-a');
    const clientB = new LiveClient(() => c.url, c.secret, c.users.b, 'owner-b');
    clients.push(clientA, clientB);
    await clientA.connect([a1.id, a2.id]);
    await clientB.connect([b1.id]);
    if ((await clientA.join(b1.id)).ok) isolationViolations.push(`owner-a was allowed to join team b's site`);
    if ((await clientB.join(a1.id)).ok) isolationViolations.push(`owner-b was allowed to join team a's site`);

    generator = new Generator({
      seed: spec.seed,
      port: () => c.port,
      sites: c.sites,
      eventsPerSecond: spec.eventsPerSecond,
      logPath: log.file(`${spec.label}-attempts.jsonl`),
    });
    generator.start();
    nemesis = new Nemesis(c, broker, generator, new Random(spec.seed * 7919 + 1), log, scope);
    const deadline = Date.now() + spec.durationMs;
    await nemesis.run(deadline, spec.must, spec.fill, spec.faultOptions, spec.fillFrom);
    await sleep(Math.max(0, deadline - Date.now()));

    // Heal, stop new traffic, let every send be acknowledged, then drain.
    generator.stopNew();
    const healed = await nemesis.heal();
    // Drain time counts from the end of the last fault — or from now, if healing had to fix something.
    const lastFault = healed ? Date.now() : nemesis.lastFaultEnd || Date.now();
    log.line(
      scope,
      `${healed ? 'healed' : 'nothing left to heal'}; ${generator.events.size} events generated, waiting for acknowledgements and lag 0`,
    );
    // Lag is watched from now on; it counts as drained from the start of the run of lag-0
    // observations that is still unbroken once every send has settled.
    const settling = generator.settle((spec.variant ? 45 : DRAIN_LIMIT_S) * 1000);
    const drained = drainTime(c, lastFault, settling, ((spec.variant ? 45 : DRAIN_LIMIT_S) + 60) * 1000);
    if (!(await settling))
      log.line(
        scope,
        `${generator.unacked.length} events still unacknowledged after ${spec.variant ? 45 : DRAIN_LIMIT_S} s`,
      );
    result.drainSeconds = await drained;
    log.line(
      scope,
      result.drainSeconds === null
        ? 'lag did not reach 0'
        : `lag 0 ${result.drainSeconds.toFixed(1)} s after the last fault${healed ? ' (healed at the end)' : ''}`,
    );
    // Events beyond allowed lateness are folded in by the reconcile loop: let it finish.
    for (let i = 0; i < 60; i++) {
      const r = await c.pool
        .query<{ n: number }>('SELECT count(*)::int AS n FROM late_events WHERE reconciled_at IS NULL')
        .catch(() => ({ rows: [{ n: 1 }] }));
      if (r.rows[0]!.n === 0) break;
      await sleep(500);
    }
    await sleep(1500);

    let live: LiveObservation | null = null;
    try {
      const snapshots = [];
      for (const [client, site] of [
        [clientA, a1],
        [clientA, a2],
        [clientB, b1],
      ] as const) {
        snapshots.push({
          client: client.label,
          siteId: site.id,
          snapshot: await client.snapshotAfterReconnect(site.id),
        });
      }
      for (const cl of clients)
        for (const [s, n] of cl.foreignPushes)
          isolationViolations.push(`${cl.label} received ${n} push(es) for another tenant's site ${s}`);
      live = {
        snapshots,
        isolationViolations,
        pushes: clients.reduce((n, cl) => n + [...cl.pushes.values()].reduce((a, b) => a + b, 0), 0),
      };
    } catch (e) {
      live = {
        snapshots: [],
        isolationViolations: [...isolationViolations, `live check failed: ${(e as Error).message}`],
        pushes: 0,
      };
    }

    result.check = await check({
      cluster: c,
      generator,
      poison: nemesis.poison,
      drain: { seconds: result.drainSeconds, limitSeconds: DRAIN_LIMIT_S },
      live,
    });
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
    log.line(scope, `scenario error: ${(e as Error).message}`);
  } finally {
    for (const cl of clients) cl.close();
    if (generator) {
      await generator.close();
      result.attempts = { ...generator.counts };
    }
    if (nemesis) {
      result.faults = nemesis.faults;
      result.poison = nemesis.poison.length;
      await nemesis.close();
    }
    if (cluster) {
      result.unexpectedExits = cluster.unexpectedExits;
      const keep = process.env.CHAOS_KEEP_DB === '1' || (!spec.variant && !result.check?.passed);
      await cluster.close(keep).catch(() => undefined);
      if (keep) log.line(scope, `kept database ${cluster.db.name} for inspection`);
    }
    result.wallSeconds = (Date.now() - t0) / 1000;
  }
  return result;
}

/**
 * Seconds from `since` to the start of the unbroken run of lag-0 observations (every job's stored
 * next offset = the topic's high watermark) that holds once `settled` has resolved; null on timeout.
 */
async function drainTime(
  c: ChaosCluster,
  since: number,
  settled: Promise<unknown>,
  timeoutMs: number,
): Promise<number | null> {
  let settledAt: number | null = null;
  void settled.then(() => (settledAt = Date.now()));
  const bus = new KafkaBus([c.opts.broker.brokers], 'chaos-lag');
  try {
    const until = Date.now() + timeoutMs;
    let zeroSince: number | null = null;
    while (Date.now() < until) {
      const at = Date.now();
      let zero = false;
      try {
        const highs = await bus.topicOffsets(c.eventsTopic);
        const progress = await c.pool.query<{ job: string; partition: number; next_offset: string }>(
          'SELECT job, partition, next_offset::text FROM consumer_progress WHERE topic = $1',
          [c.eventsTopic],
        );
        zero = STREAM_JOBS.every((job) =>
          highs.every(
            (h) =>
              h.high === '0' ||
              progress.rows.find((p) => p.job === job && p.partition === h.partition)?.next_offset === h.high,
          ),
        );
      } catch {
        // the broker or the database may still be coming back
      }
      if (!zero) zeroSince = null;
      else {
        zeroSince ??= at;
        if (settledAt !== null && at > settledAt) return Math.max(0, zeroSince - since) / 1000;
      }
      await sleep(500);
    }
    return null;
  } finally {
    await bus.close();
  }
}

export function describeFaults(faults: FaultRecord[]): string {
  return faults.map((f) => `${f.kind}(${FAULTS[f.kind].split(' ')[0]})`).join(' ');
}
