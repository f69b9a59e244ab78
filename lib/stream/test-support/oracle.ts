// Brute-force oracles for the property tests. Each one restates the semantics guide as directly as
// possible and recomputes every expected result from the raw elements seen so far (no accumulators,
// no slices, no timers), so it shares no logic with the operators it checks.

import { composite, count, max, min, sum } from '../aggregates';
import type { CountWindows, SessionWindows, TimeWindows } from '../assigners';
import { distinctCount } from '../hyperloglog';
import type { Emission, WindowOperator } from '../operator';
import type { Clock } from '../watermarks';

export type Step =
  | { type: 'event'; partition: number; key: string; ts: number; value: number }
  /** Processing time moves on by `dt`, then a periodic watermark emit. */
  | { type: 'tick'; dt: number }
  /** End of input: the watermark jumps to +∞. */
  | { type: 'flush' };

export interface Scenario {
  partitions: number;
  /** Register every partition before the first event, so silent ones hold the watermark at −∞. */
  registerUpfront: boolean;
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  idleTimeoutMs: number | undefined;
  steps: Step[];
}

/** The aggregate every property test uses: one of each kind, all mergeable. */
export const stats = () =>
  composite({ n: count(), sum: sum(), min: min(), max: max(), distinct: distinctCount((v: number) => `v${v}`) });
export type Stats = { n: number; sum: number; min: number | null; max: number | null; distinct: number };
export type StatsOperator = WindowOperator<string, number, Stats>;

function exactStats(values: number[]): Stats {
  return {
    n: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: values.length === 0 ? null : Math.min(...values),
    max: values.length === 0 ? null : Math.max(...values),
    distinct: new Set(values).size,
  };
}

/** Order-free, comparable form of one step's output. */
export interface CanonicalStep {
  results: string[];
  late: string[];
  watermark: number | undefined;
}

interface ExpectedResult {
  key: string;
  start: number;
  end: number;
  kind: 'early' | 'on-time' | 'late';
  value: Stats;
  retracts?: { start: number; end: number }[];
}

function resultText(r: ExpectedResult): string {
  const retracts = (r.retracts ?? []).map((w) => `${w.start}..${w.end}`).sort();
  return JSON.stringify([r.key, r.start, r.end, r.kind, r.value, retracts]);
}

function lateText(key: string, ts: number, value: number): string {
  return JSON.stringify([key, ts, value]);
}

/** `emission` is the operator's output for `step`; a missing one (the run stopped short) fails the comparison. */
export function canonical(emission: Emission<string, number, Stats> | undefined, step: Step): CanonicalStep {
  if (emission === undefined) throw new Error(`no emission for step ${JSON.stringify(step)}`);
  return {
    results: emission.results
      .map((r) =>
        resultText({
          key: r.key,
          start: r.windowStart,
          end: r.windowEnd,
          kind: r.kind,
          value: r.value,
          retracts: [...r.retracts],
        }),
      )
      .sort(),
    late: emission.late.map((e) => lateText(e.key, e.timestamp, e.value)).sort(),
    watermark: step.type === 'event' ? undefined : emission.watermark,
  };
}

function expectedStep(results: ExpectedResult[], late: string[], watermark: number | undefined): CanonicalStep {
  return { results: results.map(resultText).sort(), late: late.sort(), watermark };
}

/**
 * Runs a scenario: drains after every event (so late firings are attributed to their element) and
 * advances the watermark at every tick. With `snapshotAfter`, the operator is snapshotted after that
 * step, the snapshot goes through JSON text, and a fresh operator restored from it carries on.
 */
export function runScenario(
  make: (clock: Clock) => StatsOperator,
  scenario: Scenario,
  snapshotAfter?: number,
): Emission<string, number, Stats>[] {
  let now = 0;
  const clock = () => now;
  let op = make(clock);
  if (scenario.registerUpfront) for (let p = 0; p < scenario.partitions; p++) op.addPartition(p);
  const out: Emission<string, number, Stats>[] = [];
  scenario.steps.forEach((step, i) => {
    if (step.type === 'event') {
      op.process(step.partition, step.key, step.ts, step.value);
      out.push(op.drain());
    } else if (step.type === 'tick') {
      now += step.dt;
      out.push(op.advanceWatermark());
    } else {
      out.push(op.advanceWatermarkTo(Number.POSITIVE_INFINITY));
    }
    if (i === snapshotAfter) {
      const text = JSON.stringify(op.snapshot());
      op = make(clock);
      op.restore(JSON.parse(text));
    }
  });
  return out;
}

// ---- watermarks --------------------------------------------------------------------------------

/**
 * Expected operator watermark after each tick (undefined for events), straight from the definition:
 * a partition is idle at check j when, for some earlier check i after its registration, it had no
 * events from just after check i − 1 up to check j and more than the idle timeout passed from i to j.
 * The watermark is the running maximum of the minimum of maxTs − B − 1 over non-idle partitions.
 */
export function watermarkOracle(scenario: Scenario): (number | undefined)[] {
  const registeredAt = new Map<number, number>(); // partition → number of checks before registration
  const eventChecks = new Map<number, number[]>(); // partition → check index each event fell before
  const maxTs = new Map<number, number>();
  const checkTimes: number[] = [];
  let now = 0;
  let watermark = Number.NEGATIVE_INFINITY;
  if (scenario.registerUpfront) for (let p = 0; p < scenario.partitions; p++) registeredAt.set(p, 0);
  return scenario.steps.map((step) => {
    if (step.type === 'event') {
      if (!registeredAt.has(step.partition)) registeredAt.set(step.partition, checkTimes.length);
      eventChecks.set(step.partition, [...(eventChecks.get(step.partition) ?? []), checkTimes.length]);
      maxTs.set(step.partition, Math.max(maxTs.get(step.partition) ?? Number.NEGATIVE_INFINITY, step.ts));
      return undefined;
    }
    if (step.type === 'flush') {
      watermark = Number.POSITIVE_INFINITY;
      return watermark;
    }
    now += step.dt;
    checkTimes.push(now);
    const j = checkTimes.length - 1;
    const active: number[] = [];
    for (const [p, r] of registeredAt) {
      const events = eventChecks.get(p) ?? [];
      let idle = false;
      if (scenario.idleTimeoutMs !== undefined) {
        for (let i = r; i < j && !idle; i++) {
          const silent = events.every((c) => c < i || c > j);
          if (silent && now - checkTimes[i]! > scenario.idleTimeoutMs) idle = true; // i < j: pushed; checkTimes[j] is now
        }
      }
      if (!idle) active.push(p);
    }
    if (active.length > 0) {
      const candidate = Math.min(
        ...active.map((p) => (maxTs.get(p) ?? Number.NEGATIVE_INFINITY) - scenario.outOfOrdernessMs - 1),
      );
      if (candidate > watermark) watermark = candidate;
    }
    return watermark;
  });
}

interface SeenElement {
  key: string;
  ts: number;
  value: number;
  /** Watermark when it arrived. */
  wm: number;
}

// ---- tumbling and sliding ------------------------------------------------------------------------

/** All windows [s, s + size) with s ≡ offset (mod slide) that contain ts, found by trying every s. */
function windowsContaining(assigner: TimeWindows, ts: number): { start: number; end: number }[] {
  const slide = assigner.kind === 'sliding' ? assigner.slide : assigner.size;
  const out: { start: number; end: number }[] = [];
  for (let s = ts - assigner.size + 1; s <= ts; s++) {
    if ((((s - assigner.offset) % slide) + slide) % slide === 0) out.push({ start: s, end: s + assigner.size });
  }
  return out;
}

export interface OracleRun {
  steps: CanonicalStep[];
  /** Per element (in input order): number of windows that accepted it; 0 means side output. */
  acceptedBy: number[];
}

export function timeWindowOracle(assigner: TimeWindows, scenario: Scenario): OracleRun {
  const L = scenario.allowedLatenessMs;
  const watermarks = watermarkOracle(scenario);
  const seen: SeenElement[] = [];
  const acceptedBy: number[] = [];
  let wm = Number.NEGATIVE_INFINITY;
  // A window's contents: the elements of its key and range that arrived before it was cleaned up.
  const contents = (key: string, w: { start: number; end: number }) =>
    seen.filter((x) => x.key === key && x.ts >= w.start && x.ts < w.end && x.wm < w.end - 1 + L).map((x) => x.value);
  const steps = scenario.steps.map((step, i): CanonicalStep => {
    if (step.type === 'event') {
      seen.push({ key: step.key, ts: step.ts, value: step.value, wm });
      const accepted = windowsContaining(assigner, step.ts).filter((w) => w.end - 1 + L > wm);
      acceptedBy.push(accepted.length);
      if (accepted.length === 0) {
        if (!(step.ts + L <= wm)) throw new Error('oracle: element skipped by every window but not late');
        return expectedStep([], [lateText(step.key, step.ts, step.value)], undefined);
      }
      const fired = accepted
        .filter((w) => w.end - 1 <= wm)
        .map((w): ExpectedResult => ({ key: step.key, ...w, kind: 'late', value: exactStats(contents(step.key, w)) }));
      return expectedStep(fired, [], undefined);
    }
    const next = watermarks[i] as number;
    const due = new Map<string, ExpectedResult>();
    for (const x of seen) {
      for (const w of windowsContaining(assigner, x.ts)) {
        const id = `${x.key}|${w.start}`;
        if (due.has(id) || !(w.end - 1 > wm && w.end - 1 <= next)) continue;
        const values = contents(x.key, w);
        if (values.length > 0) due.set(id, { key: x.key, ...w, kind: 'on-time', value: exactStats(values) });
      }
    }
    wm = next;
    return expectedStep([...due.values()], [], next);
  });
  return { steps, acceptedBy };
}

// ---- sessions ------------------------------------------------------------------------------------

interface SessionGroup {
  key: string;
  elements: SeenElement[];
  /** Bounds emitted to the sink and not yet retracted. */
  emitted: { start: number; end: number }[];
}

export function sessionOracle(assigner: SessionWindows, scenario: Scenario): OracleRun {
  const L = scenario.allowedLatenessMs;
  const gap = assigner.gap;
  const watermarks = watermarkOracle(scenario);
  const acceptedBy: number[] = [];
  let live: SessionGroup[] = [];
  let wm = Number.NEGATIVE_INFINITY;
  const boundsOf = (elements: SeenElement[]) => ({
    start: Math.min(...elements.map((x) => x.ts)),
    end: Math.max(...elements.map((x) => x.ts)) + gap,
  });
  const fire = (g: SessionGroup, kind: 'on-time' | 'late'): ExpectedResult => {
    const b = boundsOf(g.elements);
    const retracts = g.emitted.filter((w) => w.start !== b.start || w.end !== b.end);
    g.emitted = [b];
    return { key: g.key, ...b, kind, value: exactStats(g.elements.map((x) => x.value)), retracts };
  };
  const steps = scenario.steps.map((step, i): CanonicalStep => {
    if (step.type === 'event') {
      const element = { key: step.key, ts: step.ts, value: step.value, wm };
      // Merge with every live session of the key that touches, until nothing more touches.
      let group: SessionGroup = { key: step.key, elements: [element], emitted: [] };
      let merged = 0;
      for (let changed = true; changed;) {
        changed = false;
        for (const other of live) {
          if (other.key !== step.key) continue;
          const a = boundsOf(group.elements);
          const b = boundsOf(other.elements);
          if (a.start <= b.end && a.end >= b.start) {
            group = {
              key: step.key,
              elements: [...group.elements, ...other.elements],
              emitted: [...group.emitted, ...other.emitted],
            };
            live = live.filter((g) => g !== other);
            merged++;
            changed = true;
            break;
          }
        }
      }
      const b = boundsOf(group.elements);
      if (merged === 0 && b.end - 1 + L <= wm) {
        if (!(step.ts + L <= wm)) throw new Error('oracle: session element skipped but not late');
        acceptedBy.push(0);
        return expectedStep([], [lateText(step.key, step.ts, step.value)], undefined);
      }
      acceptedBy.push(1);
      live.push(group);
      return expectedStep(b.end - 1 <= wm ? [fire(group, 'late')] : [], [], undefined);
    }
    const next = watermarks[i] as number;
    const fired = live
      .filter((g) => boundsOf(g.elements).end - 1 > wm && boundsOf(g.elements).end - 1 <= next)
      .map((g) => fire(g, 'on-time'));
    live = live.filter((g) => boundsOf(g.elements).end - 1 + L > next);
    wm = next;
    return expectedStep(fired, [], next);
  });
  return { steps, acceptedBy };
}

// ---- count windows -------------------------------------------------------------------------------

export function countOracle(assigner: CountWindows, scenario: Scenario): OracleRun {
  const L = scenario.allowedLatenessMs;
  const watermarks = watermarkOracle(scenario);
  const acceptedBy: number[] = [];
  const open = new Map<string, { start: number; values: number[] }>();
  let wm = Number.NEGATIVE_INFINITY;
  const close = (key: string): ExpectedResult => {
    const w = open.get(key) as { start: number; values: number[] };
    open.delete(key);
    return { key, start: w.start, end: w.start + assigner.timeout, kind: 'on-time', value: exactStats(w.values) };
  };
  const steps = scenario.steps.map((step, i): CanonicalStep => {
    if (step.type === 'event') {
      let w = open.get(step.key);
      if (w === undefined) {
        if (step.ts + assigner.timeout - 1 + L <= wm) {
          acceptedBy.push(0);
          return expectedStep([], [lateText(step.key, step.ts, step.value)], undefined);
        }
        w = { start: step.ts, values: [] };
        open.set(step.key, w);
      }
      acceptedBy.push(1);
      w.values.push(step.value);
      return expectedStep(w.values.length === assigner.count ? [close(step.key)] : [], [], undefined);
    }
    const next = watermarks[i] as number;
    const due = [...open.entries()]
      .filter(([, w]) => w.start + assigner.timeout - 1 <= next)
      .map(([key]) => close(key));
    wm = next;
    return expectedStep(due, [], next);
  });
  return { steps, acceptedBy };
}
