// Session windows held to the brute-force oracle: merging, lateness on the merged window, bridging
// late elements and the retractions the sink needs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionWindows } from './assigners';
import type { Emission } from './operator';
import { SessionWindowOperator } from './session-windows';
import { scenarios, sessionAssigners } from './test-support/arbitraries';
import {
  canonical,
  runScenario,
  sessionOracle,
  stats,
  type Scenario,
  type Stats,
  type StatsOperator,
} from './test-support/oracle';
import type { Clock } from './watermarks';

const RUNS = 200;

const sessions =
  (assigner: SessionWindows, scenario: Scenario) =>
  (clock: Clock): StatsOperator =>
    new SessionWindowOperator(assigner, stats(), {
      allowedLatenessMs: scenario.allowedLatenessMs,
      outOfOrdernessMs: scenario.outOfOrdernessMs,
      idleTimeoutMs: scenario.idleTimeoutMs,
      clock,
    });

/** Applies results to a table the way a sink would: delete retracted rows, then upsert. */
// Rows of one key may still touch or overlap: a session cleaned up before a later element arrived
// cannot merge with it (Flink behaves the same), which is why sessions want some allowed lateness.
function sinkRows(actual: Emission<string, number, Stats>[]): Map<string, Stats> {
  const rows = new Map<string, Stats>();
  for (const emission of actual) {
    for (const r of emission.results) {
      for (const w of r.retracts) {
        const id = `${r.key}|${w.start}|${w.end}`;
        if (!rows.has(id)) throw new Error(`retraction of a row never emitted: ${id}`);
        rows.delete(id);
      }
      rows.set(`${r.key}|${r.windowStart}|${r.windowEnd}`, r.value);
    }
  }
  return rows;
}

describe('session windows against the oracle', () => {
  it('every firing, retraction and late element equals a recomputation from the input seen so far', () => {
    fc.assert(
      fc.property(sessionAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(sessions(assigner, scenario), scenario);
        const expected = sessionOracle(assigner, scenario).steps;
        scenario.steps.forEach((step, i) => {
          expect(canonical(actual[i], step), `step ${i} (${JSON.stringify(step)})`).toEqual(expected[i]);
        });
        for (const emission of actual) {
          const stamps = emission.results.filter((r) => r.kind === 'on-time').map((r) => r.timestamp);
          expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('every element is accounted for exactly once: a sink applying retractions ends with rows that sum to the input minus the late side output', () => {
    fc.assert(
      fc.property(sessionAssigners, scenarios(), (assigner, scenario) => {
        const actual = runScenario(sessions(assigner, scenario), scenario);
        const rows = sinkRows(actual);
        const inSessions = [...rows.values()].reduce((total, v) => total + v.n, 0);
        const late = actual.reduce((total, e) => total + e.late.length, 0);
        expect(inSessions + late).toBe(scenario.steps.filter((s) => s.type === 'event').length);
      }),
      { numRuns: RUNS },
    );
  });

  it('snapshot → JSON → restore mid-stream gives output identical to an uninterrupted run', () => {
    fc.assert(
      fc.property(sessionAssigners, scenarios(), fc.nat(), (assigner, scenario, cut) => {
        const uninterrupted = runScenario(sessions(assigner, scenario), scenario);
        const restored = runScenario(sessions(assigner, scenario), scenario, cut % scenario.steps.length);
        expect(restored).toEqual(uninterrupted);
      }),
      { numRuns: RUNS },
    );
  });
});
