// Tumbling and sliding windows held to the brute-force oracle on random streams.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TimeWindows } from './assigners';
import { NaiveSlidingWindowOperator } from './test-support/naive-sliding-windows';
import type { Emission, OperatorOptions } from './operator';
import { scenarios, slidingAssigners, tumblingAssigners } from './test-support/arbitraries';
import {
  canonical,
  runScenario,
  stats,
  timeWindowOracle,
  type Scenario,
  type Stats,
  type StatsOperator,
} from './test-support/oracle';
import { TimeWindowOperator } from './time-windows';
import type { Clock } from './watermarks';

const RUNS = 150;

function options(scenario: Scenario, clock: Clock): OperatorOptions {
  return {
    allowedLatenessMs: scenario.allowedLatenessMs,
    outOfOrdernessMs: scenario.outOfOrdernessMs,
    idleTimeoutMs: scenario.idleTimeoutMs,
    clock,
  };
}

const paned =
  (assigner: TimeWindows, scenario: Scenario) =>
  (clock: Clock): StatsOperator =>
    new TimeWindowOperator(assigner, stats(), options(scenario, clock));
const naive =
  (assigner: TimeWindows, scenario: Scenario) =>
  (clock: Clock): StatsOperator =>
    new NaiveSlidingWindowOperator(assigner, stats(), options(scenario, clock));

function expectMatchesOracle(
  actual: Emission<string, number, Stats>[],
  assigner: TimeWindows,
  scenario: Scenario,
): void {
  const expected = timeWindowOracle(assigner, scenario).steps;
  scenario.steps.forEach((step, i) => {
    expect(canonical(actual[i], step), `step ${i} (${JSON.stringify(step)})`).toEqual(expected[i]);
  });
}

/** On-time firings of one watermark advance come out in timestamp order. */
function expectTimestampOrder(actual: Emission<string, number, Stats>[]): void {
  for (const emission of actual) {
    const stamps = emission.results.filter((r) => r.kind === 'on-time').map((r) => r.timestamp);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  }
}

/** Last result per window once the input is flushed: the rows a sink would hold. */
function finalRows(actual: Emission<string, number, Stats>[]): Map<string, Stats> {
  const rows = new Map<string, Stats>();
  for (const emission of actual)
    for (const r of emission.results) rows.set(`${r.key}|${r.windowStart}|${r.windowEnd}`, r.value);
  return rows;
}

describe('tumbling windows against the oracle', () => {
  it('every on-time and late firing equals a recomputation from the input seen so far, and late elements are exactly those skipped by every window', () => {
    fc.assert(
      fc.property(tumblingAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(paned(assigner, scenario), scenario);
        expectMatchesOracle(actual, assigner, scenario);
        expectTimestampOrder(actual);
      }),
      { numRuns: RUNS },
    );
  });

  it('every element is accounted for exactly once: in one final window row or in the late side output', () => {
    fc.assert(
      fc.property(tumblingAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(paned(assigner, scenario), scenario);
        const inWindows = [...finalRows(actual).values()].reduce((total, v) => total + v.n, 0);
        const late = actual.reduce((total, e) => total + e.late.length, 0);
        const events = scenario.steps.filter((s) => s.type === 'event').length;
        expect(inWindows + late).toBe(events);
      }),
      { numRuns: RUNS },
    );
  });

  it('snapshot → JSON → restore mid-stream gives output identical to an uninterrupted run', () => {
    fc.assert(
      fc.property(tumblingAssigners, scenarios(), fc.nat(), (assigner, scenario, cut) => {
        const uninterrupted = runScenario(paned(assigner, scenario), scenario);
        const restored = runScenario(paned(assigner, scenario), scenario, cut % scenario.steps.length);
        expect(restored).toEqual(uninterrupted);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('sliding windows against the oracle', () => {
  it('the paned operator, the naive operator and the oracle agree on every firing and every late element', () => {
    fc.assert(
      fc.property(slidingAssigners, scenarios(), (assigner, scenario) => {
        const fromPanes = runScenario(paned(assigner, scenario), scenario);
        const fromNaive = runScenario(naive(assigner, scenario), scenario);
        expectMatchesOracle(fromPanes, assigner, scenario);
        expectMatchesOracle(fromNaive, assigner, scenario);
        expectTimestampOrder(fromPanes);
      }),
      { numRuns: RUNS },
    );
  });

  it('every element is accounted for exactly once per window that accepted it, or once in the late side output', () => {
    fc.assert(
      fc.property(slidingAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(paned(assigner, scenario), scenario);
        const { acceptedBy } = timeWindowOracle(assigner, scenario);
        const inWindows = [...finalRows(actual).values()].reduce((total, v) => total + v.n, 0);
        const late = actual.flatMap((e) => e.late);
        expect(inWindows).toBe(acceptedBy.reduce((a, b) => a + b, 0));
        expect(late.length).toBe(acceptedBy.filter((n) => n === 0).length);
      }),
      { numRuns: RUNS },
    );
  });

  it('snapshot → JSON → restore mid-stream gives output identical to an uninterrupted run, paned and naive', () => {
    fc.assert(
      fc.property(slidingAssigners, scenarios(), fc.nat(), (assigner, scenario, cut) => {
        for (const make of [paned, naive]) {
          const uninterrupted = runScenario(make(assigner, scenario), scenario);
          const restored = runScenario(make(assigner, scenario), scenario, cut % scenario.steps.length);
          expect(restored).toEqual(uninterrupted);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
