import path from 'node:path';
import { ChaosBroker } from './broker';
import type { BrokenVariant } from './cluster';
import { BROKER_FAULTS, FAULTS, FILL, type FaultKind } from './nemesis';
import type { CheckResult } from './checker';
import { describeFaults, runScenario, type ScenarioResult, type ScenarioSpec } from './scenario';
import { chaosArtifacts, RunLog } from './util';
import { snapshotWebBuild } from './web-snapshot';

// The whole suite: seeded positive scenarios (every criterion must hold), then the negative
// controls (each broken worker build must be caught by the criterion it breaks). A run in which a
// negative control passes is a failed run. Short: 2 seeds × ~90 s (part of `npm test`); long:
// 20 seeds × 5 minutes (`npm run test:chaos -- --long`).

export const DEFAULT_BASE_SEED = 8_2025;

export interface ChaosOptions {
  mode: 'short' | 'long' | 'custom';
  seeds?: number;
  durationS?: number;
  baseSeed?: number;
  controls?: boolean;
  positives?: boolean;
  quiet?: boolean;
  /** Only these faults, in seeded order, no extras (for reproducing one fault). */
  faults?: FaultKind[];
  /** Never inject these (e.g. to see whether the rest holds while a known bug is open). */
  exclude?: FaultKind[];
}

export interface ChaosSummary {
  mode: string;
  seeds: number;
  acked: number;
  lost: number;
  phantoms: number;
  double_counted: number;
  max_drain_s: number;
  negative_controls_caught: number;
  negative_controls: number;
  /** Controls that went uncaught once and were run again (each gets one more run, alone). */
  negative_controls_retried: number;
  /** One line per control: its variant, CAUGHT or NOT CAUGHT, and why (failed criteria, error, faults). */
  control_verdicts: string[];
  passed: boolean;
}

interface Control {
  variant: BrokenVariant;
  /** What the broken build must make the checker report. */
  expect: string;
  caught: (c: CheckResult) => boolean;
  spec: Omit<ScenarioSpec, 'label' | 'seed' | 'variant'>;
  /**
   * Runs after the others, on its own: a control whose worker crash-loops until the drain limit
   * loads the machine enough that F3 beside it can miss its moment (seen on a loaded CI run).
   */
  alone?: boolean;
}

const CONTROLS: Control[] = [
  {
    // The offset is committed before the transaction and the worker resumes from the broker: a
    // worker that dies before its transaction loses that batch.
    variant: 'commit-offset-before-tx',
    expect: 'acknowledged events missing',
    caught: (c) => c.lostIds > 0,
    // The crash lands in a rollups batch: a lost batch of a job whose output the checker does not
    // read (insights, funnels) went unnoticed, and the control uncaught (a CI run, 2026-12-06).
    spec: {
      durationMs: 25_000,
      must: ['F1'],
      fill: false,
      faultOptions: { crashPoint: 'before-tx', crashAfter: 3, crashJob: 'rollups' },
      workers: 1,
      eventsPerSecond: 12,
    },
  },
  {
    // Without the event-id dedup a re-sent event is counted again.
    variant: 'no-event-id-dedup',
    expect: 'events counted twice',
    caught: (c) => c.doubleCounted > 0,
    spec: { durationMs: 25_000, must: ['F8', 'F8', 'F8'], fill: false, workers: 1, eventsPerSecond: 12 },
  },
  {
    // Without the next-offset filter, the member that takes over a zombie's partition re-applies
    // the zombie's last batch: its poison record is booked twice.
    variant: 'no-offset-filter',
    expect: 'a poison record booked twice',
    caught: (c) => c.deadLetteredBooked > c.poisonInjected,
    spec: {
      durationMs: 55_000,
      must: ['F3'],
      fill: false,
      faultOptions: { zombieMidTransaction: true },
      workers: 2,
      eventsPerSecond: 12,
    },
  },
  {
    // Eddy before issue 13: hostile strings reach PostgreSQL as sent and a failed apply is
    // rethrown, so one NUL crash-loops the worker and its partition stops being counted.
    variant: 'no-poison-guards',
    expect: 'acknowledged events missing',
    caught: (c) => c.lostIds > 0,
    spec: { durationMs: 25_000, must: ['F10'], fill: false, workers: 1, eventsPerSecond: 12 },
    alone: true,
  },
];

function positiveSpecs(
  o: Required<Pick<ChaosOptions, 'mode' | 'seeds' | 'durationS' | 'baseSeed'>> & {
    faults?: FaultKind[];
    exclude?: FaultKind[];
  },
): ScenarioSpec[] {
  const keep = (ks: readonly FaultKind[]) => ks.filter((k) => !o.exclude?.includes(k));
  const all = Object.keys(FAULTS) as FaultKind[];
  // Short runs split F1–F9 over the two seeds so each fault is injected at least once per run.
  const shortSplit: FaultKind[][] = [
    ['F1', 'F3', 'F6', 'F8', 'F9', 'F10'],
    ['F2', 'F4', 'F5', 'F7', 'F8', 'F9', 'F10'],
  ];
  return Array.from({ length: o.seeds }, (_, i) => ({
    label: `${o.mode}-${i + 1}-seed${o.baseSeed + i}`,
    seed: o.baseSeed + i,
    durationMs: o.durationS * 1000,
    must: keep(o.faults ?? (o.mode === 'short' && o.seeds === 2 ? shortSplit[i]! : all)),
    fill: !o.faults,
    fillFrom: keep(FILL),
    workers: 2,
    eventsPerSecond: 12,
  }));
}

export async function runChaos(options: ChaosOptions): Promise<{ summary: ChaosSummary; results: ScenarioResult[] }> {
  const mode = options.mode;
  const o = {
    mode,
    seeds: options.seeds ?? (mode === 'long' ? 20 : 2),
    durationS: options.durationS ?? (mode === 'long' ? 300 : 90),
    baseSeed: options.baseSeed ?? DEFAULT_BASE_SEED,
    faults: options.faults,
    exclude: options.exclude,
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const log = new RunLog(path.join(chaosArtifacts, `${stamp}-${mode}`), options.quiet);
  log.line(
    'suite',
    `chaos ${mode}: ${o.seeds} seed(s) from ${o.baseSeed} × ${o.durationS} s${options.controls === false ? '' : ' + 4 negative controls'}${o.exclude?.length ? `, never ${o.exclude.join(' ')}` : ''}; logs in ${log.dir}`,
  );
  const web = await snapshotWebBuild();
  log.line('suite', `web build ${web.buildId} snapshotted to ${web.root}`);
  const broker = await ChaosBroker.start();
  log.line('suite', `own Kafka broker ${broker.brokers} (pid ${broker.pid})`);
  const ctx = { broker, log, webRoot: web.root };
  const results: ScenarioResult[] = [];
  const positives: ScenarioResult[] = [];
  const controls: { control: Control; result: ScenarioResult; caught: boolean }[] = [];
  const verdicts: string[] = [];
  let retried = 0;
  try {
    const specs = options.positives === false ? [] : positiveSpecs(o);
    const runPositive = async (spec: ScenarioSpec) => {
      const r = await runScenario(spec, ctx);
      results.push(r);
      positives.push(r);
      report(log, r);
    };
    const runControl = (control: Control, retry = false) =>
      runScenario(
        {
          ...control.spec,
          label: `control-${control.variant}${retry ? '-retry' : ''}`,
          seed: o.baseSeed + (retry ? 2000 : 1000) + CONTROLS.indexOf(control),
          variant: control.variant,
        },
        ctx,
      );
    const verdict = (control: Control, result: ScenarioResult): { caught: boolean; why: string } => {
      const caught = result.check !== null && !result.check.passed && control.caught(result.check);
      const why = result.check
        ? `failed criteria: ${
            result.check.criteria
              .filter((x) => !x.ok)
              .map((x) => x.name)
              .join('; ') || 'none'
          }`
        : `error: ${result.error?.split('\n')[0]}`;
      return {
        caught,
        why: `${why}; faults: ${result.faults.map((f) => `${f.kind} ${f.detail}`).join(' | ') || 'none'}`,
      };
    };
    const record = (control: Control, result: ScenarioResult, attempt: string) => {
      const v = verdict(control, result);
      results.push(result);
      report(log, result);
      const line = `negative control ${control.variant}${attempt}: ${v.caught ? 'CAUGHT' : 'NOT CAUGHT'} (expected: ${control.expect}; ${v.why})`;
      log.line('suite', line);
      verdicts.push(line);
      return v.caught;
    };
    const runControls = async () => {
      // Side by side (each its own database, namespace and processes); none touches the broker.
      const side = CONTROLS.filter((c) => !c.alone);
      const rs = await Promise.all(side.map((c) => runControl(c)));
      for (const c of CONTROLS.filter((x) => x.alone)) rs.push(await runControl(c));
      const order = [...side, ...CONTROLS.filter((x) => x.alone)];
      const missed: Control[] = [];
      rs.forEach((result, i) => {
        const control = order[i]!;
        if (record(control, result, '')) controls.push({ control, result, caught: true });
        else missed.push(control);
      });
      // A control that went uncaught gets one more run, alone: on a loaded machine a fault can miss
      // the moment it needs (a rebalance that outlasts a freeze, a web process slow to start), and a
      // whole CI run was lost to that. A broken build that escapes twice still fails the suite, and
      // both verdicts are in the log and the summary.
      for (const control of missed) {
        const result = await runControl(control, true);
        controls.push({ control, result, caught: record(control, result, ' (second run, alone)') });
        retried++;
      }
    };
    // The controls run alongside the first seed, whose faults then leave the shared broker alone.
    const first = specs.shift();
    const withControls = options.controls !== false;
    const firstSpec =
      first && withControls && !first.must.some((k) => BROKER_FAULTS.includes(k))
        ? { ...first, fillFrom: (first.fillFrom ?? FILL).filter((k) => !BROKER_FAULTS.includes(k)) }
        : first;
    if (firstSpec && withControls && firstSpec !== first) await Promise.all([runPositive(firstSpec), runControls()]);
    else {
      if (first) await runPositive(first);
      if (withControls) await runControls();
    }
    for (const spec of specs) await runPositive(spec);
  } finally {
    await broker.stop().catch(() => undefined);
    web.remove();
  }
  const sum = (f: (r: ScenarioResult) => number) => positives.reduce((n, r) => n + f(r), 0);
  const summary: ChaosSummary = {
    mode,
    seeds: positives.length,
    acked: sum((r) => r.check?.acked ?? 0),
    lost: sum((r) => r.check?.lost ?? 0),
    phantoms: sum((r) => r.check?.phantoms ?? 0),
    double_counted: sum((r) => r.check?.doubleCounted ?? 0),
    max_drain_s: Math.round(Math.max(0, ...positives.map((r) => r.drainSeconds ?? Number.POSITIVE_INFINITY)) * 10) / 10,
    negative_controls_caught: controls.filter((c) => c.caught).length,
    negative_controls: controls.length,
    negative_controls_retried: retried,
    control_verdicts: verdicts,
    passed: positives.every((r) => r.check?.passed === true) && controls.every((c) => c.caught),
  };
  log.line('suite', `${summary.passed ? 'PASSED' : 'FAILED'}: ${JSON.stringify(summary)}`);
  return { summary, results };
}

function report(log: RunLog, r: ScenarioResult): void {
  const c = r.check;
  const head = c
    ? `${c.passed ? 'PASS' : 'FAIL'} — generated ${c.generated}, acked ${c.acked}, lost ${c.lost}, phantoms ${c.phantoms}, double-counted ${c.doubleCounted}, stored from indeterminate/503 attempts ${c.storedFromIndeterminate}/${c.storedFromFailed}, drain ${r.drainSeconds?.toFixed(1) ?? '—'} s`
    : `ERROR — ${r.error?.split('\n')[0]}`;
  log.line(r.spec.label, head);
  log.line(
    r.spec.label,
    `attempts ${JSON.stringify(r.attempts)}; faults ${describeFaults(r.faults)}; wall ${r.wallSeconds.toFixed(0)} s`,
  );
  for (const f of r.faults) log.line(r.spec.label, `  ${f.kind}: ${f.detail}`);
  for (const x of c?.criteria ?? []) log.line(r.spec.label, `  ${x.ok ? 'ok  ' : 'FAIL'} ${x.name}: ${x.detail}`);
  for (const x of r.unexpectedExits)
    log.line(
      r.spec.label,
      `  process exited by itself: ${x.process} (code ${x.exit.code}, signal ${x.exit.signal}): ${x.lastLines.slice(-3).join(' | ')}`,
    );
}

/** The line `npm run test:chaos` ends with. */
export function jsonLine(s: ChaosSummary): string {
  return JSON.stringify({
    chaos: s.mode,
    seeds: s.seeds,
    acked: s.acked,
    lost: s.lost,
    phantoms: s.phantoms,
    double_counted: s.double_counted,
    max_drain_s: s.max_drain_s,
    negative_controls_caught: s.negative_controls_caught,
    negative_controls: s.negative_controls,
    negative_controls_retried: s.negative_controls_retried,
    passed: s.passed,
  });
}
