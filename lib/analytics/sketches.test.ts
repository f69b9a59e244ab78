import { describe, expect, it } from 'vitest';
import { HyperLogLog } from '../stream';
import { countVisitors } from './visitors';
import { VisitorUnion } from './sketches';

describe('VisitorUnion', () => {
  it('gives exactly the stream library’s estimate, for sparse and dense sketches', () => {
    for (const sizes of [[0], [1], [10, 300], [5000, 40_000], [10, 300, 5000, 40_000, 200_000]]) {
      const sketches = sizes.map((n, k) => {
        const h = new HyperLogLog(14);
        for (let i = 0; i < n; i++) h.add(`v${(i * 7 + k * 1000) % 150_000}`);
        return h.toJSON();
      });
      const u = new VisitorUnion();
      for (const s of sketches) u.add(s);
      u.add(null);
      expect(u.estimate()).toBe(countVisitors(sketches));
      const split = new VisitorUnion().add(sketches[0]);
      for (const s of sketches.slice(1)) split.merge(new VisitorUnion().add(s));
      expect(split.estimate()).toBe(countVisitors(sketches));
    }
    expect(new VisitorUnion().estimate()).toBe(0);
  });
});

describe('VisitorUnion at a lower precision', () => {
  it('folding p=14 sketches to p=12 gives exactly the p=12 sketch of the same visitors', () => {
    for (const n of [5, 800, 30_000]) {
      const p14 = new HyperLogLog(14);
      const p12 = new HyperLogLog(12);
      for (let i = 0; i < n; i++) {
        p14.add(`visitor-${i}`);
        p12.add(`visitor-${i}`);
      }
      const folded = new VisitorUnion(12).add(p14.toJSON());
      expect(folded.estimate()).toBe(p12.estimate());
      expect(folded.toJSON()).toEqual(p12.toJSON());
      // Round trip through the stored form.
      expect(new VisitorUnion().add(folded.toJSON()).estimate()).toBe(p12.estimate());
    }
  });

  it('refuses to raise precision', () => {
    const p12 = new HyperLogLog(12).add('a').toJSON();
    expect(() => new VisitorUnion(14).add(p12)).toThrow(/precision/);
  });
});
