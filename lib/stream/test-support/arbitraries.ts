// Random scenarios for the property tests: a few keys and partitions, timestamps that drift forward
// with random lag (out-of-order, sometimes far behind), periodic watermark emits at random
// processing-time steps (so partitions go idle and come back), random B, L and idle timeout, and a
// final end-of-input flush.

import fc from 'fast-check';
import { countWindows, sessionWindows, slidingWindows, tumblingWindows } from '../assigners';
import type { Scenario, Step } from './oracle';

type RawStep =
  | { kind: 'event'; partition: number; key: string; advance: number; lag: number; value: number }
  | { kind: 'tick'; dt: number };

const rawStep: fc.Arbitrary<RawStep> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      // Partition 0 is busy, the others speak now and then: that is how partitions go idle.
      partition: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 }) },
      ),
      key: fc.constantFrom('a', 'b', 'c'),
      advance: fc.integer({ min: 0, max: 4 }),
      lag: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 6 }) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }) },
      ),
      value: fc.integer({ min: 0, max: 9 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 12 }) }) },
);

export function scenarios(maxSteps = 120): fc.Arbitrary<Scenario> {
  return fc
    .record({
      partitions: fc.integer({ min: 1, max: 3 }),
      registerUpfront: fc.boolean(),
      outOfOrdernessMs: fc.integer({ min: 0, max: 15 }),
      allowedLatenessMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
      idleTimeoutMs: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      base: fc.integer({ min: -60, max: 60 }),
      // size 'max': without it fast-check keeps arrays tiny and the interesting interleavings never occur.
      raw: fc.array(rawStep, { minLength: 1, maxLength: maxSteps, size: 'max' }),
    })
    .map(({ base, raw, ...config }): Scenario => {
      let cursor = base;
      const steps: Step[] = raw.map((r) => {
        if (r.kind === 'tick') return { type: 'tick', dt: r.dt };
        cursor += r.advance;
        return {
          type: 'event',
          partition: r.partition % config.partitions,
          key: r.key,
          ts: cursor - r.lag,
          value: r.value,
        };
      });
      steps.push({ type: 'flush' });
      return { ...config, steps };
    });
}

export const tumblingAssigners = fc
  .integer({ min: 1, max: 20 })
  .chain((size) => fc.integer({ min: -(size - 1), max: size - 1 }).map((offset) => tumblingWindows(size, offset)));

export const slidingAssigners = fc
  .integer({ min: 1, max: 8 })
  .chain((slide) =>
    fc
      .record({ size: fc.integer({ min: slide, max: 30 }), offset: fc.integer({ min: -(slide - 1), max: slide - 1 }) })
      .map(({ size, offset }) => slidingWindows(size, slide, offset)),
  );

export const sessionAssigners = fc.integer({ min: 1, max: 20 }).map((gap) => sessionWindows(gap));

export const countAssigners = fc
  .record({ count: fc.integer({ min: 1, max: 4 }), timeout: fc.integer({ min: 1, max: 25 }) })
  .map(({ count, timeout }) => countWindows(count, timeout));
