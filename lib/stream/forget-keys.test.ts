import { describe, expect, it } from 'vitest';
import {
  count,
  forgetKeys,
  forgetKeysDeep,
  sessionWindows,
  slidingWindows,
  tumblingWindows,
  windowOperator,
  type Json,
  type WindowAssigner,
} from './index';

// Erasing a site from a job's checkpoint: a restored operator must behave as if the forgotten
// keys had never been seen, and keep every other key's windows exactly.

function fed(assigner: WindowAssigner) {
  const op = windowOperator<{ k: string }, number, number>(assigner, count(), {
    outOfOrdernessMs: 0,
    allowedLatenessMs: 60_000,
  });
  op.addPartition(0);
  for (let t = 0; t < 10; t++) {
    op.process(0, 'siteA|v1', 1000 + t * 1000, { k: 'a' });
    op.process(0, 'siteB|v1', 1500 + t * 1000, { k: 'b' });
  }
  op.advanceWatermark();
  return op;
}

describe('forgetKeys', () => {
  for (const [name, assigner] of [
    ['tumbling', tumblingWindows(60_000)],
    ['sliding', slidingWindows(60_000, 10_000)],
    ['session', sessionWindows(30_000)],
  ] as const) {
    it(`a ${name}-window operator restored without siteA fires only siteB, with siteB's counts unchanged`, () => {
      const before = fed(assigner);
      const snapshot = JSON.parse(JSON.stringify(before.snapshot())) as Json;
      const { snapshot: pruned, removed } = forgetKeys(snapshot, (k) => String(k).startsWith('siteA|'));
      expect(removed).toBeGreaterThan(0);
      expect(JSON.stringify(pruned)).not.toContain('siteA');
      const after = windowOperator<{ k: string }, number, number>(assigner, count(), {
        outOfOrdernessMs: 0,
        allowedLatenessMs: 60_000,
      });
      after.restore(pruned);
      const reference = windowOperator<{ k: string }, number, number>(assigner, count(), {
        outOfOrdernessMs: 0,
        allowedLatenessMs: 60_000,
      });
      reference.restore(snapshot);
      const fire = (op: typeof after) =>
        op.advanceWatermarkTo(10_000_000).results.map((r) => [r.key, r.windowStart, r.value]);
      const expected = fire(reference).filter(([k]) => String(k).startsWith('siteB|'));
      expect(expected.length).toBeGreaterThan(0);
      expect(fire(after)).toEqual(expected);
    });
  }

  it('finds operator snapshots anywhere in a job checkpoint and leaves everything else as it was', () => {
    const a = fed(tumblingWindows(60_000)).snapshot() as unknown as Json;
    const s = fed(sessionWindows(30_000)).snapshot() as unknown as Json;
    const checkpoint: Json = { operator: a, operators: [[30, s]], dimensionVersion: 7 };
    const { checkpoint: out, removed } = forgetKeysDeep(checkpoint, (k) => String(k).startsWith('siteA|'));
    expect(removed).toBeGreaterThan(1);
    expect(JSON.stringify(out)).not.toContain('siteA');
    expect(JSON.stringify(out)).toContain('siteB');
    expect((out as { dimensionVersion: number }).dimensionVersion).toBe(7);
    // Nothing to forget: same content.
    expect(forgetKeysDeep(checkpoint, () => false)).toEqual({ checkpoint, removed: 0 });
  });

  it("drops the entries of a map by key beside the operators (the peaks job keeps each site's time zone)", () => {
    const checkpoint: Json = {
      operators: [],
      timezones: { siteA: 'Europe/Berlin', siteB: 'UTC' },
      dimensionVersion: 3,
    };
    const { checkpoint: out, removed } = forgetKeysDeep(checkpoint, (k) => k === 'siteA');
    expect(removed).toBe(1);
    expect(out).toEqual({ operators: [], timezones: { siteB: 'UTC' }, dimensionVersion: 3 });
  });
});
