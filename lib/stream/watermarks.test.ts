import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { count } from './aggregates';
import { tumblingWindows } from './assigners';
import { scenarios } from './test-support/arbitraries';
import { watermarkOracle } from './test-support/oracle';
import { windowOperator } from './window-operator';
import { BoundedOutOfOrderness, PartitionWatermarks } from './watermarks';

describe('watermarks', () => {
  it('bounded out-of-orderness trails the largest timestamp by B + 1 and never goes back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1 }),
        (b, stamps) => {
          const generator = new BoundedOutOfOrderness(b);
          let previous = Number.NEGATIVE_INFINITY;
          for (const ts of stamps) {
            generator.onEvent(ts);
            expect(generator.watermark).toBeGreaterThanOrEqual(previous);
            previous = generator.watermark;
          }
          expect(generator.watermark).toBe(Math.max(...stamps) - b - 1);
        },
      ),
    );
  });

  it('the combined watermark is the running maximum of the minimum over non-idle partitions, with idleness judged at periodic emits', () => {
    fc.assert(
      fc.property(scenarios(), (scenario) => {
        let now = 0;
        const watermarks = new PartitionWatermarks({
          outOfOrdernessMs: scenario.outOfOrdernessMs,
          idleTimeoutMs: scenario.idleTimeoutMs,
        });
        if (scenario.registerUpfront) for (let p = 0; p < scenario.partitions; p++) watermarks.addPartition(p);
        const expected = watermarkOracle(scenario);
        scenario.steps.forEach((step, i) => {
          if (step.type === 'event') watermarks.onEvent(step.partition, step.ts);
          else if (step.type === 'tick') {
            now += step.dt;
            expect(watermarks.emit(now), `step ${i}`).toBe(expected[i]);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a registered partition without events holds the watermark at −∞ until it goes idle', () => {
    const watermarks = new PartitionWatermarks({ idleTimeoutMs: 100 });
    watermarks.addPartition(1);
    watermarks.onEvent(0, 1000);
    expect(watermarks.emit(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(watermarks.emit(100)).toBe(Number.NEGATIVE_INFINITY); // inactivity counted from t=0
    expect(watermarks.emit(101)).toBe(999);
  });

  it('without an idle timeout a silent partition holds the watermark back for ever', () => {
    const watermarks = new PartitionWatermarks();
    watermarks.onEvent(0, 10);
    watermarks.onEvent(1, 5);
    for (let t = 0; t < 10; t++) {
      watermarks.onEvent(0, 100 + t);
      expect(watermarks.emit(t * 1_000_000)).toBe(4);
    }
  });

  it('with every partition idle the watermark holds instead of jumping', () => {
    const watermarks = new PartitionWatermarks({ idleTimeoutMs: 10 });
    watermarks.onEvent(0, 100);
    watermarks.onEvent(1, 50);
    expect(watermarks.emit(0)).toBe(49);
    watermarks.emit(1);
    expect(watermarks.emit(100)).toBe(49);
    expect(watermarks.status().every((p) => p.idle)).toBe(true);
  });

  it('an event clears idleness at once and the partition holds the watermark again, which never goes back', () => {
    const watermarks = new PartitionWatermarks({ idleTimeoutMs: 10 });
    watermarks.onEvent(0, 100);
    watermarks.onEvent(1, 100);
    watermarks.emit(0);
    watermarks.onEvent(0, 200);
    watermarks.emit(5);
    watermarks.onEvent(0, 300);
    expect(watermarks.emit(16)).toBe(299); // partition 1 idle since t=5
    watermarks.onEvent(1, 150); // back, and behind
    expect(watermarks.status().find((p) => p.partition === 1)?.idle).toBe(false);
    watermarks.onEvent(0, 400);
    expect(watermarks.emit(20)).toBe(299); // min(399, 149) is lower: hold, do not go back
    watermarks.onEvent(0, 500);
    watermarks.onEvent(1, 450);
    expect(watermarks.emit(21)).toBe(449);
  });

  it('removing a partition (revoked) stops it holding the watermark back', () => {
    const watermarks = new PartitionWatermarks();
    watermarks.onEvent(0, 100);
    watermarks.onEvent(1, 10);
    expect(watermarks.emit(0)).toBe(9);
    watermarks.removePartition(1);
    expect(watermarks.emit(0)).toBe(99);
  });

  it('per-partition state survives a snapshot round trip through JSON', () => {
    const watermarks = new PartitionWatermarks({ outOfOrdernessMs: 5, idleTimeoutMs: 10 });
    watermarks.onEvent('orders:0', 100);
    watermarks.onEvent('orders:1', 80);
    watermarks.emit(0);
    watermarks.onEvent('orders:0', 120);
    watermarks.emit(3);
    const copy = new PartitionWatermarks({ outOfOrdernessMs: 5, idleTimeoutMs: 10 });
    copy.restore(JSON.parse(JSON.stringify(watermarks.snapshot())));
    expect(copy.status()).toEqual(watermarks.status());
    expect(copy.watermark).toBe(watermarks.watermark);
    expect(copy.emit(14)).toBe(watermarks.emit(14));
  });

  it('an operator with an idle timeout refuses to run without an injected clock', () => {
    expect(() => windowOperator(tumblingWindows(10), count(), { idleTimeoutMs: 1000 })).toThrow(/clock/);
  });
});
