import { describe, expect, it } from 'vitest';
import { HyperLogLog } from '../stream';
import { countVisitors } from './visitors';
import { VisitorUnion } from './sketches';

describe('VisitorUnion', () => {
  it('gives the same estimate as merging HyperLogLog objects, for sparse and dense sketches', () => {
    const sketches = [10, 300, 5000, 40_000].map((n, k) => {
      const h = new HyperLogLog(14);
      for (let i = 0; i < n; i++) h.add(`v${(i * 7 + k * 1000) % 45_000}`);
      return h.toJSON();
    });
    const u = new VisitorUnion();
    for (const s of sketches) u.add(s);
    u.add(null);
    expect(u.estimate()).toBe(countVisitors(sketches));
    const split = new VisitorUnion().add(sketches[0]).merge(new VisitorUnion().add(sketches[1]).add(sketches[2])).merge(new VisitorUnion().add(sketches[3]));
    expect(split.estimate()).toBe(countVisitors(sketches));
    expect(new VisitorUnion().estimate()).toBe(0);
  });
});
