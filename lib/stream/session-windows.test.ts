import { describe, expect, it } from 'vitest';
import { count, sum } from './aggregates';
import { sessionWindows } from './assigners';
import { SessionWindowOperator } from './session-windows';
import { windowOperator } from './window-operator';

const summary = (r: {
  windowStart: number;
  windowEnd: number;
  kind: string;
  value: unknown;
  retracts: readonly { start: number; end: number }[];
}) => ({
  start: r.windowStart,
  end: r.windowEnd,
  kind: r.kind,
  value: r.value,
  retracts: r.retracts,
});

describe('session windows', () => {
  it('a late element bridging two fired sessions causes one late firing that retracts both earlier rows', () => {
    const op = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 100 });
    op.process(0, 'v', 0, null); // [0,10)
    op.process(0, 'v', 20, null); // [20,30)
    expect(op.advanceWatermarkTo(40).results.map(summary)).toEqual([
      { start: 0, end: 10, kind: 'on-time', value: 1, retracts: [] },
      { start: 20, end: 30, kind: 'on-time', value: 1, retracts: [] },
    ]);
    op.process(0, 'v', 10, null); // [10,20) touches both
    const bridged = op.drain();
    expect(bridged.late).toEqual([]);
    expect(bridged.results.map(summary)).toEqual([
      {
        start: 0,
        end: 30,
        kind: 'late',
        value: 3,
        retracts: [
          { start: 0, end: 10 },
          { start: 20, end: 30 },
        ],
      },
    ]);
    expect(op.openWindows('v').map((w) => [w.start, w.end, w.fired])).toEqual([[0, 30, true]]);
  });

  it('a late element that extends a fired session past the watermark retracts the old row in the next on-time firing', () => {
    const op = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 50 });
    op.process(0, 'v', 0, null);
    expect(op.advanceWatermarkTo(12).results.map(summary)).toEqual([
      { start: 0, end: 10, kind: 'on-time', value: 1, retracts: [] },
    ]);
    op.process(0, 'v', 8, null); // [8,18) grows the session to [0,18), which ends after wm 12
    expect(op.drain().results).toEqual([]);
    expect(op.advanceWatermarkTo(17).results.map(summary)).toEqual([
      { start: 0, end: 18, kind: 'on-time', value: 2, retracts: [{ start: 0, end: 10 }] },
    ]);
  });

  it('a late element inside a fired session updates the same row without retractions', () => {
    const op = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 50 });
    op.process(0, 'v', 0, null);
    op.process(0, 'v', 5, null);
    op.advanceWatermarkTo(20);
    op.process(0, 'v', 3, null);
    expect(op.drain().results.map(summary)).toEqual([{ start: 0, end: 15, kind: 'late', value: 3, retracts: [] }]);
  });

  it('an element whose own window is past cleanup and touches no live session goes to the late side output', () => {
    const op = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 5 });
    op.process(0, 'v', 100, null);
    op.advanceWatermarkTo(100);
    op.process(0, 'v', 80, 'old'); // [80,90): cleanup 89 + 5 ≤ 100, touches nothing
    op.process(0, 'v', 86, 'joins'); // [86,96): cleanup 100 ≤ 100 but [86,96) is fine? no: 95 + 5 = 100 ≤ 100 → late
    op.process(0, 'v', 92, 'merges'); // [92,102) touches the live [100,110) → accepted
    const out = op.drain();
    expect(out.late.map((e) => [e.timestamp, e.value, e.watermark])).toEqual([
      [80, 'old', 100],
      [86, 'joins', 100],
    ]);
    expect(op.openWindows('v').map((w) => [w.start, w.end, w.value])).toEqual([[92, 110, 2]]);
  });

  it('sessions are cleaned up allowed lateness after their end and then no longer merge', () => {
    const op = new SessionWindowOperator(sessionWindows(10), sum(), { allowedLatenessMs: 20 });
    op.process(0, 'v', 0, 1);
    op.advanceWatermarkTo(28);
    expect(op.openWindowCount).toBe(1);
    op.advanceWatermarkTo(29);
    expect(op.openWindowCount).toBe(0);
    expect(op.keyCount).toBe(0);
  });

  it('tells a worker the open sessions per key and how many keys have one (current visitors)', () => {
    const op = new SessionWindowOperator(sessionWindows(30 * 60_000), count());
    op.process(0, 'visitor-1', 0, null);
    op.process(0, 'visitor-1', 60_000, null);
    op.process(0, 'visitor-2', 90_000, null);
    op.process(0, 'visitor-1', 10 * 3_600_000, null);
    expect(op.keyCount).toBe(2);
    expect(op.openWindowCount).toBe(3);
    expect(op.openWindows('visitor-1')).toEqual([
      { start: 0, end: 60_000 + 30 * 60_000, fired: false, value: 2 },
      { start: 10 * 3_600_000, end: 10 * 3_600_000 + 30 * 60_000, fired: false, value: 1 },
    ]);
    expect(op.openWindows('nobody')).toEqual([]);
  });

  it('fires sessions of different keys in timestamp order', () => {
    const op = windowOperator(sessionWindows(10), count());
    op.process(0, 'late-ending', 50, null);
    op.process(0, 'early-ending', 5, null);
    op.process(0, 'middle', 30, null);
    expect(op.advanceWatermarkTo(100).results.map((r) => [r.key, r.timestamp])).toEqual([
      ['early-ending', 14],
      ['middle', 39],
      ['late-ending', 59],
    ]);
  });
});
