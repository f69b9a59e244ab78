import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { composite, count, max, min, sum, type Aggregate } from './aggregates';
import { tumblingWindows } from './assigners';
import { distinctCount } from './hyperloglog';
import type { Json } from './json';
import { windowOperator } from './window-operator';

interface PageView {
  visitorId: string;
  durationMs: number;
}

function fold<V, A, R>(aggregate: Aggregate<V, A, R>, values: V[]): A {
  return values.reduce((acc, v) => aggregate.add(acc, v), aggregate.create());
}

describe('aggregates', () => {
  it('count, sum, min and max give the plain answers, with null extremes for no elements', () => {
    const values = [4, -2, 9, 0];
    expect(count().result(fold(count(), values))).toBe(4);
    expect(sum().result(fold(sum(), values))).toBe(11);
    expect(min().result(fold(min(), values))).toBe(-2);
    expect(max().result(fold(max(), values))).toBe(9);
    expect(min().result(min().create())).toBeNull();
    expect(max().result(max().create())).toBeNull();
  });

  it('merging the accumulators of any split equals aggregating everything at once', () => {
    const all = composite({ n: count(), total: sum(), low: min(), high: max() });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 })), fc.nat(), (values, cut) => {
        const at = values.length === 0 ? 0 : cut % values.length;
        const merged = all.merge(fold(all, values.slice(0, at)), fold(all, values.slice(at)));
        expect(all.result(merged)).toEqual(all.result(fold(all, values)));
        expect(all.result(all.merge(all.create(), fold(all, values)))).toEqual(all.result(fold(all, values)));
      }),
    );
  });

  it('composes named aggregates into one record, as jobs need pageviews, visitors and duration together', () => {
    const pageStats = composite({
      pageviews: count(),
      visitors: distinctCount((e: PageView) => e.visitorId),
      durationMs: sum((e: PageView) => e.durationMs),
    });
    const views: PageView[] = [
      { visitorId: 'a', durationMs: 1000 },
      { visitorId: 'b', durationMs: 500 },
      { visitorId: 'a', durationMs: 250 },
    ];
    const acc = fold(pageStats, views);
    const result: { pageviews: number; visitors: number; durationMs: number } = pageStats.result(acc);
    expect(result).toEqual({ pageviews: 3, visitors: 2, durationMs: 1750 });

    const json: Json = JSON.parse(JSON.stringify(pageStats.toJSON(acc)));
    expect(pageStats.result(pageStats.fromJSON(json))).toEqual(result);
    expect(() => pageStats.fromJSON({ pageviews: 1 })).toThrow(/visitors/);
  });

  it('composite results are fresh objects that later updates do not change', () => {
    const stats = composite({ n: count(), total: sum() });
    let acc = fold(stats, [1, 2]);
    const before = stats.result(acc);
    acc = stats.add(acc, 3);
    expect(before).toEqual({ n: 2, total: 3 });
    expect(stats.result(acc)).toEqual({ n: 3, total: 6 });
  });

  it('codecs reject accumulators of the wrong shape', () => {
    expect(() => count().fromJSON('3')).toThrow(TypeError);
    expect(() => sum().fromJSON(null)).toThrow(TypeError);
    expect(min().fromJSON(null)).toBeNull();
  });

  it('a composite aggregate runs inside a window operator and survives its snapshot', () => {
    const pageStats = composite({ pageviews: count(), visitors: distinctCount((e: PageView) => e.visitorId) });
    const op = windowOperator(tumblingWindows(60_000), pageStats);
    op.process(0, 'site-1', 1000, { visitorId: 'a', durationMs: 0 });
    op.process(0, 'site-1', 2000, { visitorId: 'b', durationMs: 0 });
    const copy = windowOperator(tumblingWindows(60_000), pageStats);
    copy.restore(JSON.parse(JSON.stringify(op.snapshot())));
    copy.process(0, 'site-1', 3000, { visitorId: 'a', durationMs: 0 });
    expect(copy.advanceWatermarkTo(59_999).results.map((r) => r.value)).toEqual([{ pageviews: 3, visitors: 2 }]);
  });
});
