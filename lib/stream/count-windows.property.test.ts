// Count windows with timeout held to the brute-force oracle.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CountWindows } from './assigners';
import { CountWindowOperator } from './count-windows';
import { countAssigners, scenarios } from './test-support/arbitraries';
import { canonical, countOracle, runScenario, stats, type Scenario, type StatsOperator } from './test-support/oracle';
import type { Clock } from './watermarks';

const RUNS = 200;

const counts =
  (assigner: CountWindows, scenario: Scenario) =>
  (clock: Clock): StatsOperator =>
    new CountWindowOperator(assigner, stats(), {
      allowedLatenessMs: scenario.allowedLatenessMs,
      outOfOrdernessMs: scenario.outOfOrdernessMs,
      idleTimeoutMs: scenario.idleTimeoutMs,
      clock,
    });

describe('count windows against the oracle', () => {
  it('every window fires once, on reaching the count or the timeout, with the elements it collected', () => {
    fc.assert(
      fc.property(countAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(counts(assigner, scenario), scenario);
        const expected = countOracle(assigner, scenario).steps;
        scenario.steps.forEach((step, i) => {
          expect(canonical(actual[i], step), `step ${i} (${JSON.stringify(step)})`).toEqual(expected[i]);
        });
        for (const emission of actual)
          for (const r of emission.results) expect(r.value.n).toBeLessThanOrEqual(assigner.count);
      }),
      { numRuns: RUNS },
    );
  });

  it('every element is accounted for exactly once: in one fired window or in the late side output', () => {
    fc.assert(
      fc.property(countAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(counts(assigner, scenario), scenario);
        const inWindows = actual.flatMap((e) => e.results).reduce((total, r) => total + r.value.n, 0);
        const late = actual.reduce((total, e) => total + e.late.length, 0);
        expect(inWindows + late).toBe(scenario.steps.filter((s) => s.type === 'event').length);
      }),
      { numRuns: RUNS },
    );
  });

  it('snapshot → JSON → restore mid-stream gives output identical to an uninterrupted run', () => {
    fc.assert(
      fc.property(countAssigners, scenarios(), fc.nat(), (assigner, scenario, cut) => {
        const uninterrupted = runScenario(counts(assigner, scenario), scenario);
        const restored = runScenario(counts(assigner, scenario), scenario, cut % scenario.steps.length);
        expect(restored).toEqual(uninterrupted);
      }),
      { numRuns: RUNS },
    );
  });
});
