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

describe('VisitorUnion of small sketches', () => {
  it('is as exact as the sketches: 46 visitors over three days read 46, in the total and in a p=12 breakdown', () => {
    let exact = 0;
    for (let t = 0; t < 100; t++) {
      const days = [0, 1, 2].map((d) => {
        const h = new HyperLogLog(14);
        for (let i = 0; i < 46; i++) if ((i + d) % 3 !== 0) h.add(`${t}-visitor-${i}`);
        return h.toJSON();
      });
      const total = new VisitorUnion();
      const row = new VisitorUnion(12);
      for (const s of days) {
        total.add(s);
        row.add(s);
      }
      if (total.estimate() === 46 && row.estimate() === 46) exact++;
      expect(total.estimate()).toBe(countVisitors(days));
      // Through the stored form (day compaction) and through merge.
      expect(new VisitorUnion(12).add(row.toJSON()).estimate()).toBe(row.estimate());
      expect(new VisitorUnion(12).merge(total).merge(row).estimate()).toBe(row.estimate());
    }
    // A p = 12 register made two of 46 visitors one ~1 time in 4; at 25 bits ~1 in 30,000.
    expect(exact).toBe(100);
  });

  it('falls back to registers when a dense sketch joins, with the same estimate as the stream library', () => {
    const small = new HyperLogLog(14);
    for (let i = 0; i < 20; i++) small.add(`s-${i}`);
    const big = new HyperLogLog(14);
    for (let i = 0; i < 5000; i++) big.add(`b-${i}`);
    const u = new VisitorUnion().add(small.toJSON()).add(big.toJSON());
    expect(u.estimate()).toBe(countVisitors([small.toJSON(), big.toJSON()]));
    expect(new VisitorUnion().add(big.toJSON()).add(small.toJSON()).estimate()).toBe(u.estimate());
  });
});

describe('VisitorUnion with sketches stored before the fine form', () => {
  it('does not depend on the order of its inputs', () => {
    for (let t = 0; t < 50; t++) {
      const a = new HyperLogLog(14);
      for (let i = 0; i < 505; i++) a.add(`${t}-a-${i}`);
      const c = new HyperLogLog(14);
      for (let i = 0; i < 15; i++) c.add(`${t}-c-${i}`);
      // What the code before stored for the visitors of `a`: 14-bit entries, no `sp`.
      const fine = a.toJSON() as { sparse: number[] };
      const old = {
        p: 14,
        sparse: [...new Set(fine.sparse.map((e) => (((e >>> 6) >>> 11) << 6) | (e & 63)))].sort((x, y) => x - y),
      };
      const orders = [
        [a.toJSON(), c.toJSON(), old],
        [old, a.toJSON(), c.toJSON()],
        [c.toJSON(), old, a.toJSON()],
      ];
      const estimates = orders.map((o) => {
        const u = new VisitorUnion(12);
        for (const s of o) u.add(s);
        return u.estimate();
      });
      expect(new Set(estimates).size, `trial ${t}: ${estimates.join(', ')}`).toBe(1);
    }
  });
});
