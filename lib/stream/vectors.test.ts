// The test vectors of the event-time semantics guide (shared/guides/stream-semantics.md), one test each.

import { describe, expect, it } from 'vitest';
import { count } from './aggregates';
import { assignTimeWindows, countWindows, sessionWindows, slidingWindows, tumblingWindows } from './assigners';
import { windowOperator } from './window-operator';
import { BoundedOutOfOrderness, PartitionWatermarks } from './watermarks';

const MINUTE = 60_000;
const pick = (r: { windowStart: number; windowEnd: number; kind: string; value: unknown }) => ({
  start: r.windowStart,
  end: r.windowEnd,
  kind: r.kind,
  value: r.value,
});

describe('semantics guide test vectors', () => {
  it('vector 1: with B = 5000, events at 10000, 12000, 7000 give wm = 6999 and an event at 7000 is on time', () => {
    const generator = new BoundedOutOfOrderness(5000);
    for (const ts of [10000, 12000, 7000]) generator.onEvent(ts);
    expect(generator.watermark).toBe(6999);

    const op = windowOperator(tumblingWindows(1000), count(), { outOfOrdernessMs: 5000 });
    for (const ts of [10000, 12000, 7000]) op.process(0, 'site', ts, null);
    expect(op.advanceWatermark().watermark).toBe(6999);
    op.process(0, 'site', 7000, null);
    const after = op.drain();
    expect(after.late).toEqual([]);
    expect(after.results).toEqual([]);
    expect(op.openWindows('site').map((w) => [w.start, w.value])).toContainEqual([7000, 2]);
  });

  it('vector 2: a tumbling 10 s window fires at wm 9999 and with L = 0 an element at 9500 then goes to the late side output', () => {
    const op = windowOperator(tumblingWindows(10_000), count());
    op.process(0, 'site', 1000, null);
    expect(op.advanceWatermarkTo(9998).results).toEqual([]);
    const fired = op.advanceWatermarkTo(9999);
    expect(fired.results.map(pick)).toEqual([{ start: 0, end: 10_000, kind: 'on-time', value: 1 }]);
    expect(fired.results[0]?.timestamp).toBe(9999);

    op.process(0, 'site', 9500, 'late pageview');
    const after = op.drain();
    expect(after.results).toEqual([]);
    expect(after.late).toEqual([
      { partition: 0, key: 'site', timestamp: 9500, value: 'late pageview', watermark: 9999 },
    ]);
  });

  it('vector 3: with L = 2000 a late element at 9500 causes a late firing, state is cleared at wm 11999, and after that it is side output', () => {
    const op = windowOperator(tumblingWindows(10_000), count(), { allowedLatenessMs: 2000 });
    op.process(0, 'site', 1000, null);
    expect(op.advanceWatermarkTo(9999).results.map(pick)).toEqual([
      { start: 0, end: 10_000, kind: 'on-time', value: 1 },
    ]);

    op.process(0, 'site', 9500, null);
    const lateFiring = op.drain();
    expect(lateFiring.late).toEqual([]);
    expect(lateFiring.results.map(pick)).toEqual([{ start: 0, end: 10_000, kind: 'late', value: 2 }]);

    op.advanceWatermarkTo(11_998);
    expect(op.openWindows('site')).toHaveLength(1);
    op.advanceWatermarkTo(11_999);
    expect(op.openWindows('site')).toEqual([]);
    expect(op.openWindowCount).toBe(0);

    op.process(0, 'site', 9500, null);
    const afterCleanup = op.drain();
    expect(afterCleanup.results).toEqual([]);
    expect(afterCleanup.late.map((e) => [e.timestamp, e.watermark])).toEqual([[9500, 11_999]]);
  });

  it('vector 4: sliding 10 s / 5 s puts ts 12000 in [10000,20000) and [5000,15000), and the latter fires at wm 14999', () => {
    const assigner = slidingWindows(10_000, 5000);
    expect(assignTimeWindows(assigner, 12_000)).toEqual([
      { start: 10_000, end: 20_000 },
      { start: 5000, end: 15_000 },
    ]);

    const op = windowOperator(assigner, count());
    op.process(0, 'site', 12_000, null);
    expect(op.advanceWatermarkTo(14_998).results).toEqual([]);
    expect(op.advanceWatermarkTo(14_999).results.map(pick)).toEqual([
      { start: 5000, end: 15_000, kind: 'on-time', value: 1 },
    ]);
    expect(op.advanceWatermarkTo(19_999).results.map(pick)).toEqual([
      { start: 10_000, end: 20_000, kind: 'on-time', value: 1 },
    ]);
  });

  it('vector 5: session gap 30 min with events at 0, 20 and 50 min is one session [0, 80 min) that fires at wm 80 min − 1', () => {
    const op = windowOperator(sessionWindows(30 * MINUTE), count());
    for (const minute of [0, 20, 50]) op.process(0, 'visitor', minute * MINUTE, null);
    expect(op.openWindows('visitor').map((w) => [w.start, w.end])).toEqual([[0, 80 * MINUTE]]);
    expect(op.advanceWatermarkTo(80 * MINUTE - 2).results).toEqual([]);
    expect(op.advanceWatermarkTo(80 * MINUTE - 1).results.map(pick)).toEqual([
      { start: 0, end: 80 * MINUTE, kind: 'on-time', value: 3 },
    ]);
  });

  it('vector 6: an event at 88 behind wm 100 joins the live session [95,115) because lateness is judged on the merged window', () => {
    const op = windowOperator(sessionWindows(10), count());
    op.process(0, 'visitor', 95, null);
    op.process(0, 'visitor', 105, null);
    op.advanceWatermarkTo(100);
    expect(op.openWindows('visitor').map((w) => [w.start, w.end])).toEqual([[95, 115]]);

    op.process(0, 'visitor', 88, null);
    const afterLateEvent = op.drain();
    expect(afterLateEvent.late).toEqual([]);
    expect(afterLateEvent.results).toEqual([]); // [88,115) ends after wm 100: it fires on time later
    expect(op.openWindows('visitor').map((w) => [w.start, w.end])).toEqual([[88, 115]]);
    expect(op.advanceWatermarkTo(114).results.map(pick)).toEqual([{ start: 88, end: 115, kind: 'on-time', value: 3 }]);
  });

  it('vector 7: count(3, timeout 10 s) fires 0, 1 s, 2 s as a window of 3 and 20 s, 25 s as a window of 2 once wm reaches 30 s − 1', () => {
    const op = windowOperator(countWindows(3, 10_000), count());
    for (const ts of [0, 1000, 2000]) op.process(0, 'visitor', ts, null);
    expect(op.drain().results.map(pick)).toEqual([{ start: 0, end: 10_000, kind: 'on-time', value: 3 }]);

    op.process(0, 'visitor', 20_000, null);
    op.process(0, 'visitor', 25_000, null);
    expect(op.advanceWatermarkTo(29_998).results).toEqual([]);
    expect(op.advanceWatermarkTo(29_999).results.map(pick)).toEqual([
      { start: 20_000, end: 30_000, kind: 'on-time', value: 2 },
    ]);
  });

  it('vector 8: with one of two partitions idle past the timeout the operator watermark follows the active partition', () => {
    let now = 0;
    const op = windowOperator(tumblingWindows(1000), count(), { idleTimeoutMs: 5000, clock: () => now });
    op.process(0, 'a', 1000, null);
    op.process(1, 'b', 1000, null);
    expect(op.advanceWatermark().watermark).toBe(999);

    // Partition 1 falls silent; partition 0 keeps going.
    const seen: number[] = [];
    for (const step of [1, 2, 3, 4, 5, 6, 7, 8]) {
      now = step * 1000;
      op.process(0, 'a', 1000 + step * 1000, null);
      seen.push(op.advanceWatermark().watermark);
    }
    // First silent emit (t=1 s) starts partition 1's inactivity; idle once more than 5 s have passed (t=7 s).
    expect(seen).toEqual([999, 999, 999, 999, 999, 999, 7999, 8999]);
    expect(op.partitionStatus().find((p) => p.partition === 1)?.idle).toBe(true);

    // The same through the generator alone.
    const watermarks = new PartitionWatermarks({ idleTimeoutMs: 5000 });
    watermarks.onEvent('p0', 100);
    watermarks.onEvent('p1', 50);
    expect(watermarks.emit(0)).toBe(49);
    watermarks.onEvent('p0', 900);
    expect(watermarks.emit(1000)).toBe(49);
    watermarks.onEvent('p0', 950);
    expect(watermarks.emit(6001)).toBe(949);
  });
});
