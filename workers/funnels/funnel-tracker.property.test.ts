// The funnels job's core held to a brute-force oracle over random event streams, random batch
// boundaries, a random checkpoint/restore point, both scopes (a time limit, one visit) and a random
// session gap.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileMatcher } from '@/lib/goals/definition';
import type { FunnelScope } from '@/lib/funnels/definition';
import type { Json } from '@/lib/stream';
import { FunnelTracker, type AttemptUpdate, type FunnelEvent, type FunnelSpec } from './funnel-tracker';

const NAMES = ['A', 'B', 'C', 'D'] as const;

interface Scenario {
  funnels: FunnelSpec[];
  events: FunnelEvent[];
  sessionGapMs: number;
  batchEnds: Set<number>;
  restoreAt: number;
  outOfOrdernessMs: number;
}

const stepOf = (name: string) => compileMatcher({ kind: 'event', eventName: name })!;

const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    funnels: fc.array(
      fc.record({
        steps: fc.array(fc.constantFrom(...NAMES), { minLength: 2, maxLength: 4 }),
        scope: fc.constantFrom<FunnelScope>('visit', 'window'),
        windowMs: fc.integer({ min: 5, max: 80 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    raw: fc.array(
      fc.record({
        visitor: fc.integer({ min: 0, max: 3 }),
        name: fc.constantFrom(...NAMES, 'pageview'),
        // Few distinct steps of the arrival clock: equal pauses (and so pauses equal to the gap) are common.
        dt: fc.constantFrom(1, 2, 5, 10, 20, 30),
        jitter: fc.nat(),
        // A server request (events API): part of no visit. Any name, so that it could be a step.
        request: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
      }),
      { maxLength: 80 },
    ),
    disorder: fc.integer({ min: 0, max: 20 }),
    // Half the time the gap equals a pause that occurs, so that the boundary (a pause of exactly
    // the gap continues the visit) is exercised, not left to chance.
    gap: fc.oneof(fc.record({ fixed: fc.integer({ min: 1, max: 60 }) }), fc.record({ pause: fc.nat() })),
    cuts: fc.array(fc.nat(), { maxLength: 20 }),
    restoreAt: fc.nat(),
  })
  .map(({ funnels, raw, disorder, gap, cuts, restoreAt }) => {
    // Arrival order is the array's order; event time lags the arrival clock by at most `disorder`
    // (so nothing is late with B = disorder) and only grows per visitor (one visitor, one partition).
    const last = new Map<number, number>();
    let clock = 1000;
    const events = raw.map((r) => {
      clock += r.dt;
      const ts = Math.max((last.get(r.visitor) ?? 0) + 1, clock - (r.jitter % (disorder + 1)));
      last.set(r.visitor, ts);
      return {
        siteId: 's',
        visitorId: `v${r.visitor}`,
        ts,
        name: r.name,
        path: '/',
        ...(r.request ? { request: {} } : {}),
      };
    });
    const pauses: number[] = [];
    const prev = new Map<string, number>();
    for (const e of events) {
      if (prev.has(e.visitorId)) pauses.push(e.ts - prev.get(e.visitorId)!);
      prev.set(e.visitorId, e.ts);
    }
    const sessionGapMs =
      'fixed' in gap || pauses.length === 0 ? ('fixed' in gap ? gap.fixed : 30) : pauses[gap.pause % pauses.length]!;
    return {
      funnels: funnels.map((f, i) => ({
        id: `f${i}`,
        siteId: 's',
        steps: f.steps.map(stepOf),
        scope: f.scope,
        windowMs: f.windowMs,
      })),
      events,
      sessionGapMs,
      batchEnds: new Set(cuts.map((c) => c % Math.max(1, events.length))),
      restoreAt: restoreAt % Math.max(1, events.length),
      outOfOrdernessMs: disorder,
    };
  });

/**
 * The definition, spelled out. 'window': per funnel and visitor, walk the visitor's events in
 * order; an attempt ends at its first step + the limit. 'visit': first cut the visitor's events
 * (server requests left out) into visits at every pause longer than the session gap, then walk
 * each visit on its own; an attempt ends with its visit.
 */
function oracle(s: Scenario): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const visitors = new Set(s.events.map((e) => e.visitorId));
  for (const f of s.funnels) {
    const walk = (v: string, events: FunnelEvent[], deadline: (start: number) => number) => {
      let cur: number[] | null = null;
      const close = () => {
        if (cur) out.set(`${f.id}|${v}|${cur[0]}`, cur);
        cur = null;
      };
      for (const e of events) {
        if (cur && e.ts >= deadline(cur[0]!)) close();
        if (cur) {
          const c: number[] = cur;
          if (e.name === f.steps[c.length]!.eventName) c.push(e.ts);
          if (c.length === f.steps.length) close();
        } else if (e.name === f.steps[0]!.eventName) {
          cur = [e.ts];
        }
      }
      close();
    };
    for (const v of visitors) {
      const mine = s.events.filter((x) => x.visitorId === v);
      if (f.scope === 'window') {
        walk(v, mine, (start) => start + f.windowMs);
        continue;
      }
      const visits: FunnelEvent[][] = [];
      for (const e of mine.filter((x) => !x.request)) {
        const visit = visits.at(-1);
        if (visit && e.ts - visit.at(-1)!.ts <= s.sessionGapMs) visit.push(e);
        else visits.push([e]);
      }
      for (const visit of visits) walk(v, visit, () => Number.POSITIVE_INFINITY);
    }
  }
  return out;
}

function run(s: Scenario): { final: Map<string, AttemptUpdate>; updates: AttemptUpdate[] } {
  const opts = { outOfOrdernessMs: s.outOfOrdernessMs, allowedLatenessMs: 0 };
  let tracker = new FunnelTracker(opts);
  const updates: AttemptUpdate[] = [];
  s.events.forEach((e, i) => {
    if (i === s.restoreAt) {
      // A checkpoint is taken at a batch end: advance (the batch's firings are "committed"), then snapshot via JSON.
      updates.push(...tracker.advance());
      const json = JSON.parse(JSON.stringify(tracker.snapshot())) as ReturnType<FunnelTracker['snapshot']>;
      tracker = new FunnelTracker(opts);
      tracker.restore(json);
    }
    tracker.process(e, s.funnels, s.sessionGapMs);
    if (s.batchEnds.has(i)) updates.push(...tracker.advance());
  });
  updates.push(...tracker.advanceTo(Number.POSITIVE_INFINITY));
  const final = new Map<string, AttemptUpdate>();
  for (const u of updates) final.set(`${u.funnelId}|${u.visitorId}|${u.start}`, u);
  return { final, updates };
}

describe('funnel tracker against the oracle', () => {
  it('after the last firing, the attempts upserted equal the brute-force recomputation, and every one is closed', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const { final } = run(s);
        const expected = oracle(s);
        expect(new Map([...final].map(([k, u]) => [k, u.stepTs]))).toEqual(expected);
        for (const u of final.values()) expect(u.closed).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('early firings only ever show a prefix of the attempt that is finally stored (speculation changes when, not what)', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const { final, updates } = run(s);
        for (const u of updates) {
          const f = final.get(`${u.funnelId}|${u.visitorId}|${u.start}`)!;
          expect(f.stepTs.slice(0, u.stepTs.length)).toEqual(u.stepTs);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('funnel tracker vectors', () => {
  const funnel: FunnelSpec = {
    id: 'f',
    siteId: 's',
    steps: [stepOf('A'), stepOf('B'), stepOf('C')],
    scope: 'window',
    windowMs: 10_000,
  };
  const GAP = 30 * 60_000;
  const ev = (name: string, ts: number, visitorId = 'v'): FunnelEvent => ({
    siteId: 's',
    visitorId,
    ts,
    name,
    path: '/',
  });

  it('a snapshot stays what it was when taken: later steps do not reach into it (it is the committed checkpoint a rollback restores)', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    t.process(ev('A', 0), [funnel], GAP);
    t.advance();
    const snap = t.snapshot();
    const taken = JSON.stringify(snap);
    t.process(ev('B', 1000), [funnel], GAP);
    t.advance();
    expect(JSON.stringify(snap)).toBe(taken);
  });

  it('a completed funnel closes on its third step, before any watermark passes its deadline (count)', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    for (const [n, ts] of [
      ['A', 0],
      ['x', 500],
      ['B', 1000],
      ['C', 2000],
    ] as const)
      t.process(ev(n, ts), [funnel], GAP);
    expect(t.advance()).toEqual([{ funnelId: 'f', visitorId: 'v', start: 0, stepTs: [0, 1000, 2000], closed: true }]);
    expect(t.openAttempts).toBe(0);
  });

  it('an abandoned attempt is visible early, then closes once the watermark reaches start + limit − 1 (timeout)', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    t.process(ev('A', 20_000), [funnel], GAP);
    t.process(ev('B', 25_000), [funnel], GAP);
    expect(t.advance()).toEqual([
      { funnelId: 'f', visitorId: 'v', start: 20_000, stepTs: [20_000, 25_000], closed: false },
    ]);
    t.process(ev('x', 29_999, 'other'), [funnel], GAP);
    expect(t.advance()).toEqual([]); // watermark 29 998: the window [20 000, 30 000) is still open
    t.process(ev('x', 30_000, 'other'), [funnel], GAP);
    expect(t.advance()).toEqual([
      { funnelId: 'f', visitorId: 'v', start: 20_000, stepTs: [20_000, 25_000], closed: true },
    ]); // watermark 29 999 = end − 1
  });

  it('a step after the deadline does not count, and a first step after it starts a new attempt', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    t.process(ev('A', 0), [funnel], GAP);
    t.process(ev('B', 10_000), [funnel], GAP); // deadline reached: ends the attempt, and B is no first step
    t.process(ev('A', 11_000), [funnel], GAP);
    const out = t.advanceTo(Number.POSITIVE_INFINITY);
    expect(out.map((u) => [u.start, u.stepTs, u.closed])).toEqual([
      [0, [0], true],
      [11_000, [11_000], true],
    ]);
  });

  it('a first step later than allowed lateness goes to the side output and starts nothing', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    t.process(ev('x', 100_000, 'other'), [funnel], GAP);
    t.advance();
    t.process(ev('A', 50_000), [funnel], GAP);
    expect(t.advance()).toEqual([]);
    expect(t.lateCount).toBe(1);
    expect(t.openAttempts).toBe(0);
  });

  // A checkpoint written by the funnels job before scopes existed (operator id `steps:limit`, windows without an end).
  const beforeScopes = JSON.parse(
    '{"maxTs":2000,"lateCount":0,"operators":[["3:10000",{"version":2,"operator":"count-windows","assigner":{"kind":"count","count":3,"timeout":10000},"allowedLatenessMs":0,"accumulation":"accumulating","lastEarlyFiringAt":null,"watermark":1999,"partitions":{"watermark":null,"partitions":[{"id":0,"maxTs":2000,"active":true,"inactiveSince":null,"idle":false}]},"dimensionVersion":null,"state":{"windows":[{"key":"f\\u001fv\\u001f1000","start":1000,"size":2,"acc":[1000,2000],"changed":false,"emitted":{"start":1000,"end":11000,"pane":0,"acc":null}}]}}]]}',
  ) as Json;

  it('a checkpoint from before scopes restores its open attempt as a time-limited one: it completes within the limit', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    t.restore(beforeScopes);
    expect(t.openAttempts).toBe(1);
    t.process(ev('C', 10_999), [funnel], GAP);
    expect(t.advance()).toEqual([
      { funnelId: 'f', visitorId: 'v', start: 1000, stepTs: [1000, 2000, 10_999], closed: true },
    ]);
  });

  it('a checkpoint from before scopes restores its deadline: a step at start + limit comes too late', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    t.restore(beforeScopes);
    t.process(ev('C', 11_000), [funnel], GAP);
    expect(t.advanceTo(Number.POSITIVE_INFINITY)).toEqual([
      { funnelId: 'f', visitorId: 'v', start: 1000, stepTs: [1000, 2000], closed: true },
    ]);
  });
});

describe('funnel tracker vectors, within one visit', () => {
  const funnel: FunnelSpec = {
    id: 'f',
    siteId: 's',
    steps: [stepOf('A'), stepOf('B'), stepOf('C')],
    scope: 'visit',
    windowMs: 1000,
  };
  const GAP = 10_000;
  const ev = (name: string, ts: number, visitorId = 'v', request = false): FunnelEvent => ({
    siteId: 's',
    visitorId,
    ts,
    name,
    path: '/',
    ...(request ? { request: {} } : {}),
  });
  const feed = (t: FunnelTracker, events: [string, number][]) => {
    for (const [n, ts] of events) t.process(ev(n, ts), [funnel], GAP);
  };

  it('an attempt lasts as long as the visit: activity that is no step keeps it open past any fixed limit, and a pause of exactly the gap is still the visit', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    feed(t, [
      ['A', 0],
      ['x', 9_000],
      ['x', 18_000],
      ['x', 27_000],
      ['B', 36_000],
      ['C', 46_000],
    ]);
    expect(t.advance()).toEqual([
      { funnelId: 'f', visitorId: 'v', start: 0, stepTs: [0, 36_000, 46_000], closed: true },
    ]);
  });

  it('a pause longer than the session gap ends the attempt: the watermark closes it once it reaches the last activity + gap', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    feed(t, [
      ['A', 0],
      ['x', 5_000],
    ]);
    expect(t.advance()).toEqual([{ funnelId: 'f', visitorId: 'v', start: 0, stepTs: [0], closed: false }]);
    t.process(ev('x', 15_000, 'other'), [funnel], GAP);
    expect(t.advance()).toEqual([]); // watermark 14 999: an event of v at 15 000 would still be the visit
    t.process(ev('x', 15_001, 'other'), [funnel], GAP);
    expect(t.advance()).toEqual([{ funnelId: 'f', visitorId: 'v', start: 0, stepTs: [0], closed: true }]);
  });

  it('the next step after the visit ended does not count; a first step then starts an attempt in the new visit', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    feed(t, [
      ['A', 0],
      ['B', 10_001],
      ['A', 10_002],
      ['B', 12_000],
    ]);
    expect(t.advanceTo(Number.POSITIVE_INFINITY).map((u) => [u.start, u.stepTs, u.closed])).toEqual([
      [0, [0], true],
      [10_002, [10_002, 12_000], true],
    ]);
  });

  it('server requests are not part of the visit: they neither keep the attempt open nor are steps', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    feed(t, [['A', 0]]);
    t.process(ev('B', 8_000, 'v', true), [funnel], GAP);
    t.process(ev('x', 16_000, 'v', true), [funnel], GAP);
    feed(t, [['B', 10_001]]);
    expect(t.advanceTo(Number.POSITIVE_INFINITY).map((u) => [u.start, u.stepTs])).toEqual([[0, [0]]]);
  });

  it('a checkpoint keeps how far the visit has gone: after a restore, the attempt still ends at its last activity + gap', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    feed(t, [
      ['A', 0],
      ['x', 9_000],
    ]);
    t.advance();
    const restored = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 0 });
    restored.restore(JSON.parse(JSON.stringify(t.snapshot())) as Json);
    restored.process(ev('x', 18_999, 'other'), [funnel], GAP);
    expect(restored.advance()).toEqual([]); // watermark 18 998 < 9 000 + gap
    restored.process(ev('B', 19_000), [funnel], GAP);
    expect(restored.advance()).toEqual([
      { funnelId: 'f', visitorId: 'v', start: 0, stepTs: [0, 19_000], closed: false },
    ]);
  });

  it('a first step whose visit ended longer than allowed lateness ago goes to the side output', () => {
    const t = new FunnelTracker({ outOfOrdernessMs: 0, allowedLatenessMs: 1_000 });
    t.process(ev('x', 100_000, 'other'), [funnel], GAP);
    t.advance(); // watermark 99 999
    t.process(ev('A', 88_999), [funnel], GAP); // visit end 98 999 + lateness 1 000 ≤ watermark
    t.process(ev('A', 89_000, 'w'), [funnel], GAP); // within lateness: starts
    expect(t.lateCount).toBe(0);
    expect(t.advance()).toEqual([{ funnelId: 'f', visitorId: 'w', start: 89_000, stepTs: [89_000], closed: true }]);
    expect(t.lateCount).toBe(1);
  });
});
