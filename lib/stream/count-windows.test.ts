import { describe, expect, it } from 'vitest';
import { count } from './aggregates';
import { countWindows } from './assigners';
import { CountWindowOperator } from './count-windows';
import type { Json } from './json';

const pick = (r: { windowStart: number; windowEnd: number; kind: string; value: number }) => ({
  start: r.windowStart,
  end: r.windowEnd,
  kind: r.kind,
  value: r.value,
});

describe('count windows extended by the caller', () => {
  it('an extended window stays open past its timeout and fires at its new end − 1, with those bounds', () => {
    const op = new CountWindowOperator(countWindows(3, 10), count());
    op.process(0, 'k', 0, null);
    op.extend('k', 25);
    expect(op.advanceWatermarkTo(9).results).toEqual([]);
    expect(op.advanceWatermarkTo(23).results).toEqual([]);
    expect(op.advanceWatermarkTo(24).results.map(pick)).toEqual([{ start: 0, end: 25, kind: 'on-time', value: 1 }]);
  });

  it('extend never shortens a window and does nothing for a key without an open window', () => {
    const op = new CountWindowOperator(countWindows(3, 10), count());
    op.extend('none', 100);
    op.process(0, 'k', 0, null);
    op.extend('k', 5);
    expect(op.openWindows('k').map((w) => [w.start, w.end])).toEqual([[0, 10]]);
    expect(op.openWindows('none')).toEqual([]);
  });

  it('the extended end survives snapshot → JSON → restore', () => {
    const op = new CountWindowOperator(countWindows(3, 10), count());
    op.process(0, 'k', 0, null);
    op.extend('k', 40);
    op.advanceWatermarkTo(5);
    const restored = new CountWindowOperator(countWindows(3, 10), count());
    restored.restore(JSON.parse(JSON.stringify(op.snapshot())) as Json);
    expect(restored.advanceWatermarkTo(20).results).toEqual([]);
    expect(restored.advanceWatermarkTo(39).results.map(pick)).toEqual([
      { start: 0, end: 40, kind: 'on-time', value: 1 },
    ]);
  });

  it('a snapshot written before windows had an end restores them ending at their timeout', () => {
    const op = new CountWindowOperator(countWindows(3, 10), count());
    op.process(0, 'k', 0, null);
    op.advanceWatermarkTo(2);
    const snapshot = JSON.parse(JSON.stringify(op.snapshot())) as { state: { windows: { end?: number }[] } };
    delete snapshot.state.windows[0]!.end;
    const restored = new CountWindowOperator(countWindows(3, 10), count());
    restored.restore(snapshot as unknown as Json);
    expect(restored.advanceWatermarkTo(9).results.map(pick)).toEqual([
      { start: 0, end: 10, kind: 'on-time', value: 1 },
    ]);
  });
});
