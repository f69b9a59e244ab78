// Vector 11 of the semantics guide: speculation changes when a number is visible, never what it
// finally is. Random streams (arbitraries.ts), random batch boundaries (an early firing after any
// event), random crash/restore points (snapshot → JSON → a fresh operator); a sink that adds every
// emitted value and subtracts every retracted one ends equal to the on-time-only brute-force oracle.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowAssigner } from './assigners';
import { earlyFiringTrigger, type AccumulationMode, type Emission } from './operator';
import { scenarios, sessionAssigners, slidingAssigners, tumblingAssigners } from './test-support/arbitraries';
import {
  sessionOracle,
  stats,
  timeWindowOracle,
  type Scenario,
  type Stats,
  type StatsOperator,
} from './test-support/oracle';
import { windowOperator } from './window-operator';

const RUNS = 120;

const speculative = (
  assigner: WindowAssigner,
  scenario: Scenario,
  accumulation: AccumulationMode,
  clock: () => number,
): StatsOperator =>
  windowOperator(assigner, stats(), {
    allowedLatenessMs: scenario.allowedLatenessMs,
    outOfOrdernessMs: scenario.outOfOrdernessMs,
    idleTimeoutMs: scenario.idleTimeoutMs,
    clock,
    trigger: earlyFiringTrigger({ everyBatch: true }),
    accumulation,
  });

/**
 * Drives the scenario like a worker: every tick is a consumed batch (advanceWatermark, which fires
 * early), `batchEnds` adds early firings after events, `restores` replaces the operator by one
 * restored from its snapshot (through JSON text) after those steps.
 */
function runSpeculative(
  make: (clock: () => number) => StatsOperator,
  scenario: Scenario,
  batchEnds: Set<number>,
  restores: Set<number>,
): Emission<string, number, Stats>[] {
  let now = 0;
  const clock = () => now;
  let op = make(clock);
  if (scenario.registerUpfront) for (let p = 0; p < scenario.partitions; p++) op.addPartition(p);
  const out: Emission<string, number, Stats>[] = [];
  scenario.steps.forEach((step, i) => {
    if (step.type === 'event') {
      op.process(step.partition, step.key, step.ts, step.value);
      out.push(batchEnds.has(i) ? op.fireEarly() : op.drain());
    } else if (step.type === 'tick') {
      now += step.dt;
      out.push(op.advanceWatermark());
    } else {
      out.push(op.advanceWatermarkTo(Number.POSITIVE_INFINITY));
    }
    if (restores.has(i)) {
      const text = JSON.stringify(op.snapshot());
      op = make(clock);
      op.restore(JSON.parse(text));
    }
  });
  return out;
}

type Totals = Map<string, { n: number; sum: number }>;

function addTo(totals: Totals, id: string, n: number, sum: number): void {
  const t = totals.get(id) ?? { n: 0, sum: 0 };
  t.n += n;
  t.sum += sum;
  if (t.n === 0 && t.sum === 0) totals.delete(id);
  else totals.set(id, t);
}

/** The on-time-only answer: the oracle's firings applied to an upsert sink (delete retracted bounds, upsert). */
function oracleRows(steps: { results: string[] }[]): Totals {
  const rows: Totals = new Map();
  for (const step of steps) {
    for (const text of step.results) {
      const [key, start, end, , value, retracts] = JSON.parse(text) as [
        string,
        number,
        number,
        string,
        Stats,
        string[],
      ];
      for (const w of retracts) rows.delete(`${key}|${w.replace('..', '|')}`);
      rows.set(`${key}|${start}|${end}`, { n: value.n, sum: value.sum });
    }
  }
  return rows;
}

const oracleFor = (assigner: WindowAssigner, scenario: Scenario) =>
  assigner.kind === 'session'
    ? sessionOracle(assigner, scenario)
    : assigner.kind === 'count'
      ? null
      : timeWindowOracle(assigner, scenario);

const anyTimeOrSession = fc.oneof(sessionAssigners, tumblingAssigners, slidingAssigners);
const stepSets = fc.array(fc.nat(200), { maxLength: 40 }).map((xs) => new Set(xs));

// Generous timeout: four operators' worth of fast-check runs, on a machine that may be shared.
describe('speculative firings against the on-time-only oracle (vector 11)', { timeout: 60_000 }, () => {
  it('accumulating and retracting: sum of emitted values minus sum of retracted values equals the on-time-only result, per window', () => {
    fc.assert(
      fc.property(anyTimeOrSession, scenarios(), stepSets, stepSets, (assigner, scenario, batchEnds, restores) => {
        const out = runSpeculative(
          (clock) => speculative(assigner, scenario, 'accumulating-and-retracting', clock),
          scenario,
          batchEnds,
          restores,
        );
        const ledger: Totals = new Map();
        for (const emission of out) {
          for (const r of emission.results) {
            for (const x of r.retractions)
              addTo(ledger, `${r.key}|${x.windowStart}|${x.windowEnd}`, -x.value.n, -x.value.sum);
            addTo(ledger, `${r.key}|${r.windowStart}|${r.windowEnd}`, r.value.n, r.value.sum);
          }
        }
        expect(ledger).toEqual(oracleRows(oracleFor(assigner, scenario)!.steps));
      }),
      { numRuns: RUNS },
    );
  });

  it('accumulating: an upsert sink that deletes retracted bounds ends with the on-time-only rows', () => {
    fc.assert(
      fc.property(anyTimeOrSession, scenarios(), stepSets, stepSets, (assigner, scenario, batchEnds, restores) => {
        const out = runSpeculative(
          (clock) => speculative(assigner, scenario, 'accumulating', clock),
          scenario,
          batchEnds,
          restores,
        );
        const rows: Totals = new Map();
        for (const emission of out) {
          for (const r of emission.results) {
            for (const w of r.retracts) rows.delete(`${r.key}|${w.start}|${w.end}`);
            rows.set(`${r.key}|${r.windowStart}|${r.windowEnd}`, { n: r.value.n, sum: r.value.sum });
          }
        }
        expect(rows).toEqual(oracleRows(oracleFor(assigner, scenario)!.steps));
      }),
      { numRuns: RUNS },
    );
  });

  it('discarding: the deltas of every firing add up to the on-time-only totals per key', () => {
    fc.assert(
      fc.property(
        fc.oneof(sessionAssigners, tumblingAssigners),
        scenarios(),
        stepSets,
        stepSets,
        (assigner, scenario, batchEnds, restores) => {
          const out = runSpeculative(
            (clock) => speculative(assigner, scenario, 'discarding', clock),
            scenario,
            batchEnds,
            restores,
          );
          const perKey: Totals = new Map();
          for (const emission of out) for (const r of emission.results) addTo(perKey, r.key, r.value.n, r.value.sum);
          const expected: Totals = new Map();
          for (const [id, t] of oracleRows(oracleFor(assigner, scenario)!.steps))
            addTo(expected, id.slice(0, id.indexOf('|')), t.n, t.sum);
          expect(perKey).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('restoring mid-stream gives output identical to an uninterrupted run, early firings and retractions included', () => {
    fc.assert(
      fc.property(anyTimeOrSession, scenarios(), stepSets, stepSets, (assigner, scenario, batchEnds, restores) => {
        const make = (clock: () => number) => speculative(assigner, scenario, 'accumulating-and-retracting', clock);
        expect(runSpeculative(make, scenario, batchEnds, restores)).toEqual(
          runSpeculative(make, scenario, batchEnds, new Set()),
        );
      }),
      { numRuns: RUNS },
    );
  });
});
