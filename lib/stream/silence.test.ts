import { describe, expect, it } from 'vitest';
import { SilenceProgress } from './silence';
import { sessionWindows } from './assigners';
import { windowOperator } from './window-operator';
import { count } from './aggregates';

describe('SilenceProgress', () => {
  const make = (start = 1_000) => {
    let now = start;
    const s = new SilenceProgress({ idleTimeoutMs: 30, outOfOrdernessMs: 5, clock: () => now }, start);
    return { s, at: (t: number) => (now = t) };
  };

  it('allows nothing before any record or before the idle timeout, then maxTs + silence − idle − B − 1', () => {
    const { s, at } = make();
    expect(s.target()).toBeNull(); // silent, but nothing was ever seen
    s.observe(500);
    s.observe(400); // out of order: the max stays
    s.records();
    at(1_029);
    expect(s.target()).toBeNull(); // 29 ms of silence < 30
    at(1_030);
    expect(s.target()).toBe(500 + 30 - 30 - 5 - 1);
    at(1_100);
    expect(s.target()).toBe(500 + 100 - 30 - 5 - 1); // advances at the pace of the silence
  });

  it('a new batch restarts the silence; a backlog advances only by the pause, not to the wall clock', () => {
    const { s, at } = make();
    s.observe(10); // event time far behind processing time (a replay)
    s.records();
    at(1_050);
    expect(s.target()).toBe(10 + 50 - 36);
    s.observe(20);
    s.records();
    expect(s.target()).toBeNull();
  });

  it('resumes from a restored watermark, and a re-assigned input keeps its idle clock', () => {
    let now = 5_000;
    const s = new SilenceProgress({ idleTimeoutMs: 30, outOfOrdernessMs: 5, clock: () => now }, 4_000);
    s.resumeFrom(Number.NEGATIVE_INFINITY);
    expect(s.target()).toBeNull();
    s.resumeFrom(700);
    expect(s.maxEventTs).toBe(706);
    expect(s.target()).toBe(706 + 1_000 - 36);
    now = 4_010;
    expect(s.target()).toBeNull();
  });

  it("closes a quiet key's session window through an operator's advanceWatermarkTo", () => {
    let now = 0;
    const op = windowOperator(sessionWindows(100), count(), { outOfOrdernessMs: 5 });
    op.addPartition(0);
    const s = new SilenceProgress({ idleTimeoutMs: 50, outOfOrdernessMs: 5, clock: () => now }, 0);
    op.process(0, 'k', 1_000, 1);
    s.observe(1_000);
    s.records();
    expect(op.advanceWatermark().results).toEqual([]);
    now = 140; // silence 140: target = 1000 + 140 − 50 − 5 − 1 = 1084 < end 1100
    expect(op.advanceWatermarkTo(s.target()!).results).toEqual([]);
    now = 160; // 1104 ≥ 1100 − 1: the visit closes
    const fired = op.advanceWatermarkTo(s.target()!).results;
    expect(fired.map((r) => [r.key, r.windowStart, r.windowEnd, r.value])).toEqual([['k', 1_000, 1_100, 1]]);
  });
});
