// Triggers and accumulation modes: the guide's vectors 9 and 10, early firings per batch and by
// processing-time interval, pane indices, the three accumulation modes, restoring what was emitted
// (also from version 1 checkpoints), and the configured allowed lateness after a restore.

import { describe, expect, it } from 'vitest';
import { count, type Aggregate } from './aggregates';
import { sessionWindows, slidingWindows, tumblingWindows } from './assigners';
import { earlyFiringTrigger, type WindowResult } from './operator';
import { windowOperator } from './window-operator';

const MINUTE = 60_000;

/** A visit as the sessions job sees it: one visit, its pageviews, and whether it is a bounce. */
interface Visit {
  visits: number;
  pageviews: number;
  bounces: number;
}
const visitStats = (): Aggregate<unknown, number, Visit> => ({
  create: () => 0,
  add: (n) => n + 1,
  merge: (a, b) => a + b,
  result: (n) => ({ visits: n > 0 ? 1 : 0, pageviews: n, bounces: n === 1 ? 1 : 0 }),
  toJSON: (n) => n,
  fromJSON: (json) => Number(json),
});

const brief = <R>(r: WindowResult<string, R>) => ({
  kind: r.kind,
  pane: r.pane,
  window: [r.windowStart, r.windowEnd],
  value: r.value,
  retractions: r.retractions.map((x) => ({ window: [x.windowStart, x.windowEnd], pane: x.pane, value: x.value })),
});

/** What a summing sink changes by applying one emission: + each value, − each retracted value. */
function netVisits(results: WindowResult<string, Visit>[]): Visit {
  const net = { visits: 0, pageviews: 0, bounces: 0 };
  for (const r of results) {
    for (const x of r.retractions) for (const f of ['visits', 'pageviews', 'bounces'] as const) net[f] -= x.value[f];
    for (const f of ['visits', 'pageviews', 'bounces'] as const) net[f] += r.value[f];
  }
  return net;
}

const liveSessions = (options: { outOfOrdernessMs?: number; allowedLatenessMs?: number } = {}) =>
  windowOperator(sessionWindows(30 * MINUTE), visitStats(), {
    ...options,
    trigger: earlyFiringTrigger({ everyBatch: true }),
    accumulation: 'accumulating-and-retracting',
  });

describe('semantics guide vectors 9 and 10 (triggers and accumulation)', () => {
  it('vector 9: an open visit counts from its first pageview, each batch retracts the previous value, and the on-time firing nets zero', () => {
    const op = liveSessions();
    op.process(0, 'visitor', 0, null);
    const batch1 = op.advanceWatermark();
    expect(batch1.results.map(brief)).toEqual([
      {
        kind: 'early',
        pane: 0,
        window: [0, 30 * MINUTE],
        value: { visits: 1, pageviews: 1, bounces: 1 },
        retractions: [],
      },
    ]);

    op.process(0, 'visitor', 5 * MINUTE, null);
    const batch2 = op.advanceWatermark();
    expect(batch2.results.map(brief)).toEqual([
      {
        kind: 'early',
        pane: 1,
        window: [0, 35 * MINUTE],
        value: { visits: 1, pageviews: 2, bounces: 0 },
        retractions: [{ window: [0, 30 * MINUTE], pane: 0, value: { visits: 1, pageviews: 1, bounces: 1 } }],
      },
    ]);
    expect(batch2.results[0]?.retracts).toEqual([{ start: 0, end: 30 * MINUTE }]);
    expect(netVisits(batch2.results)).toEqual({ visits: 0, pageviews: 1, bounces: -1 });

    expect(op.advanceWatermarkTo(35 * MINUTE - 2).results).toEqual([]);
    const onTime = op.advanceWatermarkTo(35 * MINUTE - 1);
    expect(onTime.results.map(brief)).toEqual([
      {
        kind: 'on-time',
        pane: 2,
        window: [0, 35 * MINUTE],
        value: { visits: 1, pageviews: 2, bounces: 0 },
        retractions: [{ window: [0, 35 * MINUTE], pane: 1, value: { visits: 1, pageviews: 2, bounces: 0 } }],
      },
    ]);
    expect(netVisits(onTime.results)).toEqual({ visits: 0, pageviews: 0, bounces: 0 });
  });

  it('vector 10: a late event bridging two open visits that fired early retracts both and emits one, so visits go 2 → 1 in one emission', () => {
    // B = 30 min keeps both sessions open while their events arrive.
    const op = liveSessions({ outOfOrdernessMs: 30 * MINUTE });
    op.process(0, 'visitor', 0, null);
    op.process(0, 'visitor', 40 * MINUTE, null);
    const first = op.advanceWatermark();
    expect(first.results.map((r) => [r.kind, r.windowStart, r.windowEnd])).toEqual([
      ['early', 0, 30 * MINUTE],
      ['early', 40 * MINUTE, 70 * MINUTE],
    ]);
    expect(netVisits(first.results).visits).toBe(2);

    op.process(0, 'visitor', 20 * MINUTE, null);
    const bridged = op.advanceWatermark();
    expect(bridged.results.map(brief)).toEqual([
      {
        kind: 'early',
        pane: 1,
        window: [0, 70 * MINUTE],
        value: { visits: 1, pageviews: 3, bounces: 0 },
        retractions: [
          { window: [0, 30 * MINUTE], pane: 0, value: { visits: 1, pageviews: 1, bounces: 1 } },
          { window: [40 * MINUTE, 70 * MINUTE], pane: 0, value: { visits: 1, pageviews: 1, bounces: 1 } },
        ],
      },
    ]);
    expect(bridged.results[0]?.retracts).toEqual([
      { start: 0, end: 30 * MINUTE },
      { start: 40 * MINUTE, end: 70 * MINUTE },
    ]);
    expect(netVisits(bridged.results)).toEqual({ visits: -1, pageviews: 1, bounces: -2 });
  });

  it('a late event bridging a visit that fired on time and one that fired early retracts both values in the late firing', () => {
    const op = liveSessions({ allowedLatenessMs: 60 * MINUTE });
    op.process(0, 'visitor', 0, null);
    op.advanceWatermark();
    op.process(0, 'visitor', 45 * MINUTE, null);
    const second = op.advanceWatermark(); // wm 45 min − 1: [0,30m) on time, [45m,75m) early
    expect(second.results.map((r) => [r.kind, r.windowStart])).toEqual([
      ['on-time', 0],
      ['early', 45 * MINUTE],
    ]);
    op.process(0, 'visitor', 20 * MINUTE, null); // [20m,50m) touches both
    const bridged = op.drain().results;
    expect(bridged).toEqual([]); // the merged window [0,75m) is not due: it fires early with the next batch
    const next = op.advanceWatermark().results;
    expect(next.map((r) => [r.kind, r.windowStart, r.windowEnd, r.retractions.map((x) => x.windowStart)])).toEqual([
      ['early', 0, 75 * MINUTE, [0, 45 * MINUTE]],
    ]);
    expect(netVisits(next).visits).toBe(-1);
  });
});

describe('early firings', () => {
  it('fire only for windows that changed since their last firing', () => {
    const op = liveSessions();
    op.process(0, 'a', 0, null);
    op.process(0, 'b', 0, null);
    expect(op.advanceWatermark().results.map((r) => r.key)).toEqual(['a', 'b']);
    expect(op.advanceWatermark().results).toEqual([]);
    op.process(0, 'b', 60_000, null);
    expect(op.advanceWatermark().results.map((r) => [r.key, r.pane])).toEqual([['b', 1]]);
  });

  it('fire on an explicit fireEarly() call whatever the trigger, and never for a window that is already due', () => {
    const op = windowOperator(tumblingWindows(10), count());
    op.process(0, 'k', 3, null);
    expect(op.fireEarly().results.map((r) => [r.kind, r.pane, r.value])).toEqual([['early', 0, 1]]);
    op.process(0, 'k', 4, null);
    const emission = op.advanceWatermarkTo(9); // due now: on time, and the early firing has nothing left to do
    expect(emission.results.map((r) => [r.kind, r.pane, r.value])).toEqual([['on-time', 1, 2]]);
    expect(op.fireEarly().results).toEqual([]);
  });

  it('fire by processing-time interval, read from the injected clock', () => {
    let now = 0;
    const op = windowOperator(tumblingWindows(1000), count(), {
      clock: () => now,
      trigger: earlyFiringTrigger({ intervalMs: 1000 }),
    });
    op.process(0, 'k', 1, null);
    expect(op.advanceWatermark().results.map((r) => r.kind)).toEqual(['early']);
    op.process(0, 'k', 2, null);
    now = 999;
    expect(op.advanceWatermark().results).toEqual([]);
    now = 1000;
    expect(op.advanceWatermark().results.map((r) => [r.kind, r.value])).toEqual([['early', 2]]);
  });

  it('fire every changed window of a sliding assigner, in timestamp order', () => {
    const op = windowOperator(slidingWindows(10, 5), count(), { trigger: earlyFiringTrigger({ everyBatch: true }) });
    op.process(0, 'k', 12, null);
    expect(op.advanceWatermark().results.map((r) => [r.kind, r.windowStart, r.windowEnd])).toEqual([
      ['early', 5, 15],
      ['early', 10, 20],
    ]);
  });

  it('are remembered across a snapshot, so a window that changed before it is still fired after the restore', () => {
    const op = windowOperator(sessionWindows(10), count());
    op.process(0, 'k', 0, null);
    op.drain();
    const copy = windowOperator(sessionWindows(10), count());
    copy.restore(JSON.parse(JSON.stringify(op.snapshot())));
    expect(copy.fireEarly().results.map((r) => [r.kind, r.windowStart, r.windowEnd])).toEqual([['early', 0, 10]]);
  });
});

describe('accumulation modes', () => {
  const firings = (accumulation: 'discarding' | 'accumulating' | 'accumulating-and-retracting') => {
    const op = windowOperator(tumblingWindows(10), count(), { accumulation, allowedLatenessMs: 10 });
    op.process(0, 'k', 1, null);
    const early = op.fireEarly().results;
    op.process(0, 'k', 2, null);
    op.process(0, 'k', 3, null);
    const onTime = op.advanceWatermarkTo(9).results;
    op.process(0, 'k', 4, null);
    const late = op.drain().results;
    return [...early, ...onTime, ...late].map((r) => [
      r.kind,
      r.pane,
      r.value,
      r.retractions.map((x) => [x.pane, x.value]),
    ]);
  };

  it('discarding: each firing carries only what arrived since the previous one', () => {
    expect(firings('discarding')).toEqual([
      ['early', 0, 1, []],
      ['on-time', 1, 2, []],
      ['late', 2, 1, []],
    ]);
  });

  it('accumulating: each firing carries the whole window so far', () => {
    expect(firings('accumulating')).toEqual([
      ['early', 0, 1, []],
      ['on-time', 1, 3, []],
      ['late', 2, 4, []],
    ]);
  });

  it('accumulating and retracting: each firing also retracts the value the previous one emitted', () => {
    expect(firings('accumulating-and-retracting')).toEqual([
      ['early', 0, 1, []],
      ['on-time', 1, 3, [[0, 1]]],
      ['late', 2, 4, [[1, 3]]],
    ]);
  });

  it('discarding is refused for sliding windows, whose slices are shared by windows that fire at different times', () => {
    expect(() => windowOperator(slidingWindows(10, 5), count(), { accumulation: 'discarding' })).toThrow(RangeError);
  });
});

describe('restoring', () => {
  it('a restored operator retracts exactly what the original emitted before the snapshot', () => {
    const make = () => liveSessions();
    const op = make();
    op.process(0, 'visitor', 0, null);
    op.advanceWatermark();
    const copy = make();
    copy.restore(JSON.parse(JSON.stringify(op.snapshot())));
    for (const o of [op, copy]) o.process(0, 'visitor', MINUTE, null);
    const original = op.advanceWatermark();
    expect(copy.advanceWatermark()).toEqual(original);
    expect(original.results[0]?.retractions.map((x) => x.value)).toEqual([{ visits: 1, pageviews: 1, bounces: 1 }]);
  });

  it('a session operator restored with a smaller allowed lateness treats an event like a fresh operator does: late output, no late firing', () => {
    const before = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 100 });
    before.process(0, 'v', 0, null);
    before.advanceWatermarkTo(9);
    const restored = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 0 });
    restored.restore(JSON.parse(JSON.stringify(before.snapshot())));
    restored.advanceWatermarkTo(20);
    restored.process(0, 'v', 5, null);

    const fresh = windowOperator(sessionWindows(10), count(), { allowedLatenessMs: 0 });
    fresh.process(0, 'v', 0, null);
    fresh.advanceWatermarkTo(9);
    fresh.advanceWatermarkTo(20);
    fresh.process(0, 'v', 5, null);

    const emission = restored.drain();
    expect(emission.results).toEqual([]);
    expect(emission.late.map((l) => [l.key, l.timestamp])).toEqual([['v', 5]]);
    expect(emission).toEqual(fresh.drain());
  });

  it('a tumbling operator restored with a smaller allowed lateness applies it at once too', () => {
    const before = windowOperator(tumblingWindows(10), count(), { allowedLatenessMs: 100 });
    before.process(0, 'k', 5, null);
    before.advanceWatermarkTo(9);
    const restored = windowOperator(tumblingWindows(10), count(), { allowedLatenessMs: 0 });
    restored.restore(JSON.parse(JSON.stringify(before.snapshot())));
    restored.advanceWatermarkTo(20);
    restored.process(0, 'k', 5, null);
    const emission = restored.drain();
    expect(emission.results).toEqual([]);
    expect(emission.late.map((l) => l.timestamp)).toEqual([5]);
    expect(restored.openWindowCount).toBe(0);
  });

  // Taken with the version 1 library (before triggers): what consumer_progress holds today.
  const v1Sessions = {
    version: 1,
    operator: 'session-windows',
    assigner: { kind: 'session', gap: 10 },
    allowedLatenessMs: 100,
    watermark: 20,
    partitions: { watermark: null, partitions: [{ id: 0, maxTs: 13, active: true, inactiveSince: null, idle: false }] },
    dimensionVersion: null,
    state: {
      sessions: [
        { key: 'v', start: 0, end: 23, fired: false, timerAt: 22, acc: 3, retracts: [{ start: 0, end: 13 }] },
        { key: 'u', start: 0, end: 10, fired: true, timerAt: 109, acc: 1, retracts: null },
      ],
    },
  };

  it('a version 1 session checkpoint restores: a fired session retracts its current value, a pending retraction keeps its bounds', () => {
    const op = windowOperator(sessionWindows(10), count(), {
      allowedLatenessMs: 100,
      accumulation: 'accumulating-and-retracting',
    });
    op.restore(v1Sessions);
    op.process(0, 'u', 2, null);
    expect(op.drain().results.map((r) => [r.key, r.kind, r.pane, r.value, r.retractions.map((x) => x.value)])).toEqual([
      ['u', 'late', 1, 2, [1]],
    ]);
    const onTime = op.advanceWatermarkTo(22).results;
    // The value emitted under [0,13) is not in a version 1 checkpoint: its bounds are, for an upsert sink.
    expect(onTime.map((r) => [r.key, r.windowStart, r.windowEnd, r.value, r.retracts, r.retractions])).toEqual([
      ['v', 0, 23, 3, [{ start: 0, end: 13 }], []],
    ]);
    expect(op.snapshot().version).toBe(2);
  });

  it('a version 1 tumbling checkpoint restores: fired windows continue with a higher pane and retract their current value', () => {
    const op = windowOperator(tumblingWindows(10), count(), {
      allowedLatenessMs: 100,
      accumulation: 'accumulating-and-retracting',
    });
    op.restore({
      version: 1,
      operator: 'time-windows',
      assigner: { kind: 'tumbling', size: 10, offset: 0 },
      allowedLatenessMs: 100,
      watermark: 20,
      partitions: {
        watermark: null,
        partitions: [{ id: 0, maxTs: 25, active: true, inactiveSince: null, idle: false }],
      },
      dimensionVersion: null,
      state: {
        keys: [
          {
            key: 'site',
            timerAt: 29,
            slices: [
              [0, 2],
              [20, 1],
            ],
          },
        ],
      },
    });
    op.process(0, 'site', 6, null);
    expect(
      op.drain().results.map((r) => [r.windowStart, r.kind, r.pane, r.value, r.retractions.map((x) => x.value)]),
    ).toEqual([[0, 'late', 1, 3, [2]]]);
    expect(op.advanceWatermarkTo(29).results.map((r) => [r.windowStart, r.kind, r.pane, r.value])).toEqual([
      [20, 'on-time', 0, 1],
    ]);
  });

  it('a session unchanged since it fired keeps its emitted value by reference in the snapshot, and restores to the same retractions', () => {
    const make = () =>
      windowOperator(sessionWindows(10 * MINUTE), visitStats(), {
        trigger: earlyFiringTrigger({ everyBatch: true }),
        accumulation: 'accumulating-and-retracting',
      });
    const op = make();
    op.process(0, 'a', 0, null);
    op.process(0, 'a', MINUTE, null);
    op.process(0, 'b', 0, null);
    op.advanceWatermark(); // early firings: both sessions emitted what they hold
    op.process(0, 'b', 2 * MINUTE, null); // b changed since
    const sessions = (op.snapshot().state as { sessions: { key: string; emitted: Record<string, unknown> }[] })
      .sessions;
    const emittedOf = (k: string) => sessions.find((x) => x.key === k)!.emitted;
    expect(emittedOf('a')).toMatchObject({ acc: null, accIsValue: true }); // written once, as the value
    expect(emittedOf('b')).toMatchObject({ acc: 1 }); // what b emitted (1 pageview), not its value now (2)
    expect(emittedOf('b')).not.toHaveProperty('accIsValue');
    // A restored operator retracts exactly what was emitted, for both.
    const restored = make();
    restored.restore(op.snapshot());
    for (const o of [op, restored]) {
      o.process(0, 'a', 3 * MINUTE, null);
    }
    expect(restored.advanceWatermark().results.map(brief)).toEqual(op.advanceWatermark().results.map(brief));
    const again = make();
    again.restore(op.snapshot());
    again.process(0, 'a', 4 * MINUTE, null);
    const late = again
      .advanceWatermark()
      .results.map(brief)
      .find((r) => r.retractions.length && r.value.pageviews === 4);
    expect(late?.retractions[0]?.value).toEqual({ visits: 1, pageviews: 3, bounces: 0 });
  });
});
