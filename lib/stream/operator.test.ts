import { describe, expect, it } from 'vitest';
import { count, sum } from './aggregates';
import { countWindows, sessionWindows, slidingWindows, tumblingWindows } from './assigners';
import { DimensionTable } from './dimension-table';
import { SnapshotError } from './errors';
import { SNAPSHOT_VERSION } from './operator';
import { TimeWindowOperator } from './time-windows';
import { windowOperator } from './window-operator';

describe('keyed window operator', () => {
  it('with a steadily advancing watermark a key with data gets one firing per slide, and empty windows never fire', () => {
    const op = windowOperator(slidingWindows(30, 10), count());
    for (const ts of [0, 5, 12]) op.process(0, 'k', ts, null);
    const fired: [number, number][] = [];
    for (let wm = 0; wm <= 200; wm += 10)
      for (const r of op.advanceWatermarkTo(wm).results) fired.push([r.windowStart, r.value]);
    expect(fired).toEqual([
      [-20, 2],
      [-10, 3],
      [0, 3],
      [10, 1],
    ]);
  });

  it('fires due windows of all keys in timestamp order before reporting the watermark', () => {
    const op = windowOperator(tumblingWindows(10), count());
    op.process(0, 'b', 25, null);
    op.process(0, 'a', 5, null);
    op.process(0, 'c', 15, null);
    op.process(0, 'a', 35, null);
    const out = op.advanceWatermarkTo(1000);
    expect(out.results.map((r) => [r.key, r.timestamp])).toEqual([
      ['a', 9],
      ['c', 19],
      ['b', 29],
      ['a', 39],
    ]);
    expect(out.watermark).toBe(1000);
  });

  it('handles offsets and timestamps before the epoch', () => {
    const op = windowOperator(tumblingWindows(10, 3), sum());
    op.process(0, 'k', -8, 1);
    op.process(0, 'k', -7, 2);
    op.process(0, 'k', 2, 4);
    expect(op.advanceWatermarkTo(100).results.map((r) => [r.windowStart, r.windowEnd, r.value])).toEqual([
      [-17, -7, 1],
      [-7, 3, 6],
    ]);
  });

  it('never moves the watermark backwards', () => {
    const op = windowOperator(tumblingWindows(10), count());
    op.advanceWatermarkTo(50);
    expect(op.advanceWatermarkTo(20).watermark).toBe(50);
  });

  it('rejects timestamps that are not integer milliseconds', () => {
    const op = windowOperator(tumblingWindows(10), count());
    expect(() => op.process(0, 'k', 1.5, null)).toThrow(RangeError);
    expect(() => op.process(0, 'k', Number.NaN, null)).toThrow(RangeError);
  });

  it('reports open windows of a key with their current values', () => {
    const op = new TimeWindowOperator(slidingWindows(20, 10), count(), { allowedLatenessMs: 5 });
    op.process(0, 'k', 12, null);
    op.process(0, 'k', 3, null);
    expect(op.openWindows('k')).toEqual([
      { start: -10, end: 10, fired: false, value: 1 },
      { start: 0, end: 20, fired: false, value: 2 },
      { start: 10, end: 30, fired: false, value: 1 },
    ]);
    expect(op.sliceCount).toBe(2);
    op.advanceWatermarkTo(19);
    expect(op.openWindows('k').map((w) => [w.start, w.fired])).toEqual([
      [0, true],
      [10, false],
    ]);
  });

  describe('snapshots', () => {
    it('are versioned plain JSON that round-trips unchanged', () => {
      for (const assigner of [tumblingWindows(10), slidingWindows(20, 5), sessionWindows(7), countWindows(3, 50)]) {
        const op = windowOperator(assigner, count(), { outOfOrdernessMs: 3, allowedLatenessMs: 4 });
        for (const [p, k, ts] of [
          [0, 'a', 5],
          [1, 'b', 17],
          [0, 'a', 9],
          [1, 'a', 31],
        ] as const)
          op.process(p, k, ts, null);
        op.advanceWatermark();
        const snapshot = op.snapshot();
        expect(snapshot.version).toBe(SNAPSHOT_VERSION);
        expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
        const copy = windowOperator(assigner, count(), { outOfOrdernessMs: 3, allowedLatenessMs: 4 });
        copy.restore(JSON.parse(JSON.stringify(snapshot)));
        expect(copy.snapshot()).toEqual(snapshot);
        expect(copy.advanceWatermarkTo(Number.POSITIVE_INFINITY)).toEqual(
          op.advanceWatermarkTo(Number.POSITIVE_INFINITY),
        );
      }
    });

    it('record the watermark at both ends of time', () => {
      const op = windowOperator(tumblingWindows(10), count());
      expect(op.snapshot().watermark).toBeNull();
      op.advanceWatermarkTo(Number.POSITIVE_INFINITY);
      const snapshot = JSON.parse(JSON.stringify(op.snapshot()));
      const copy = windowOperator(tumblingWindows(10), count());
      copy.restore(snapshot);
      expect(copy.watermark).toBe(Number.POSITIVE_INFINITY);
    });

    it('refuse to be taken while output is still queued, so no result is lost with them', () => {
      const op = windowOperator(tumblingWindows(10), count());
      op.advanceWatermarkTo(100);
      op.process(0, 'k', 5, null); // late: queued in the side output
      expect(() => op.snapshot()).toThrow(/drain/);
      op.drain();
      expect(() => op.snapshot()).not.toThrow();
    });

    it('refuse to restore another version, another operator or other windows', () => {
      const snapshot = windowOperator(tumblingWindows(10), count()).snapshot();
      expect(() =>
        windowOperator(tumblingWindows(10), count()).restore({ ...snapshot, version: SNAPSHOT_VERSION + 1 } as never),
      ).toThrow(SnapshotError);
      expect(() => windowOperator(tumblingWindows(20), count()).restore(snapshot)).toThrow(/tumbling\(size 10/);
      expect(() => windowOperator(sessionWindows(10), count()).restore(snapshot)).toThrow(SnapshotError);
      expect(() =>
        windowOperator(tumblingWindows(10), count()).restore({ ...snapshot, state: { keys: [{ key: 'k' }] } }),
      ).toThrow(TypeError);
    });

    it('may be restored with a different allowed lateness after an upgrade', () => {
      const op = windowOperator(tumblingWindows(10), count());
      op.process(0, 'k', 5, null);
      const relaxed = windowOperator(tumblingWindows(10), count(), { allowedLatenessMs: 100 });
      relaxed.restore(op.snapshot());
      relaxed.advanceWatermarkTo(50);
      relaxed.process(0, 'k', 6, null);
      expect(relaxed.drain().results.map((r) => [r.kind, r.value])).toEqual([['late', 2]]);
    });

    it('include the version of the dimension table the operator enriched with', async () => {
      const sites = new DimensionTable(new Map([['site-1', { timezone: 'UTC' }]]), 7);
      const op = windowOperator(tumblingWindows(10), count(), { dimensions: sites });
      expect(op.snapshot().dimensionVersion).toBe(7);
      await sites.refresh(() => new Map([['site-1', { timezone: 'Europe/Paris' }]]));
      expect(op.snapshot().dimensionVersion).toBe(8);
      expect(windowOperator(tumblingWindows(10), count()).snapshot().dimensionVersion).toBeNull();
    });
  });
});
