import { describe, expect, it } from 'vitest';
import { jsonLine, runChaos } from '../chaos/suite';

// The fault-injection suite's short version (tests/chaos, docs/RELIABILITY.md) as part of
// `npm test`: 2 seeds × 90 s of traffic through real processes under faults F1–F10, then the four
// negative controls. Every acknowledged event must be counted exactly once, and each deliberately
// broken worker build must be caught. Runs its own Kafka broker (it kills and freezes it).

describe('fault injection (chaos, short)', () => {
  it(
    'counts every acknowledged event exactly once under F1–F10, and catches all four broken builds',
    { timeout: 20 * 60_000 },
    async () => {
      const { summary, results } = await runChaos({ mode: 'short' });
      console.log(jsonLine(summary));
      // Positive scenarios only: a control's error is part of its verdict (below).
      const failures = results
        .filter((r) => !r.spec.variant)
        .flatMap((r) => [
          ...(r.error ? [`${r.spec.label}: ${r.error.split('\n')[0]}`] : []),
          ...(r.check?.criteria ?? []).filter((c) => !c.ok).map((c) => `${r.spec.label}: ${c.name}: ${c.detail}`),
        ]);
      expect(failures).toEqual([]);
      expect({ lost: summary.lost, phantoms: summary.phantoms, double_counted: summary.double_counted }).toEqual({
        lost: 0,
        phantoms: 0,
        double_counted: 0,
      });
      // The verdicts of the broken builds that escaped (and why), in the assertion: a CI log that
      // shows only the failure still says which control it was and what its faults did.
      expect(summary.control_verdicts.filter((v) => v.includes('NOT CAUGHT') && v.includes('second run'))).toEqual([]);
      expect(summary.negative_controls_caught).toBe(summary.negative_controls);
      expect(summary.negative_controls).toBe(4);
      expect(summary.max_drain_s).toBeLessThanOrEqual(120);
      expect(summary.passed).toBe(true);
    },
  );
});
