import { describe, expect, it } from 'vitest';
import { distinctCount, HyperLogLog } from './hyperloglog';

function sketchOf(values: Iterable<string | number>, precision = 14): HyperLogLog {
  const sketch = new HyperLogLog(precision);
  for (const v of values) sketch.add(v);
  return sketch;
}

function* range(n: number, label: (i: number) => string | number): Generator<string | number> {
  for (let i = 0; i < n; i++) yield label(i);
}

describe('HyperLogLog distinct count', () => {
  it('is exact for tiny cardinalities and close for small ones (only register collisions cost a unit)', () => {
    for (const n of [0, 1, 2, 3, 10]) expect(sketchOf(range(n, (i) => `visitor-${i}`)).estimate()).toBe(n);
    for (const n of [50, 100, 1000, 5000]) {
      expect(Math.abs(sketchOf(range(n, (i) => `visitor-${i}`)).estimate() - n)).toBeLessThanOrEqual(
        Math.max(2, 0.02 * n),
      );
    }
  });

  it('stays within 2% of the exact count at 100,000 distinct values (p = 14)', () => {
    const datasets: ((i: number) => string | number)[] = [
      (i) => `visitor-${i}`,
      (i) => `site-7|${(i * 2654435761) >>> 0}`,
      (i) => i,
      (i) => `${i.toString(36)}@example.org`,
      (i) => `0f${(i * 40503) % 1_000_003}-${i}`,
    ];
    const errors = datasets.map((label) => {
      const estimate = sketchOf(range(100_000, label)).estimate();
      return Math.abs(estimate - 100_000) / 100_000;
    });
    for (const error of errors) expect(error).toBeLessThanOrEqual(0.02);
    expect(errors.reduce((a, b) => a + b) / errors.length).toBeLessThan(0.01);
  });

  it('ignores repeated values', () => {
    const sketch = sketchOf(range(2000, (i) => `v${i % 500}`));
    expect(sketch.estimate()).toBe(sketchOf(range(500, (i) => `v${i}`)).estimate());
  });

  it('merging sketches of two halves gives exactly the sketch of the whole, and leaves the other unchanged', () => {
    for (const n of [300, 40_000]) {
      const left = sketchOf(range(n, (i) => `a${i}`));
      const right = sketchOf(range(n, (i) => `b${i}`));
      const rightBefore = JSON.stringify(right.toJSON());
      const whole = sketchOf([...range(n, (i) => `a${i}`), ...range(n, (i) => `b${i}`)]);
      expect(left.clone().merge(right).toJSON()).toEqual(whole.toJSON());
      expect(JSON.stringify(right.toJSON())).toBe(rightBefore);
      expect(right.clone().merge(left).estimate()).toBe(whole.estimate());
    }
  });

  it('round-trips through JSON in both its sparse and dense forms', () => {
    for (const n of [0, 20, 5000, 30_000]) {
      const sketch = sketchOf(range(n, (i) => `u${i}`));
      const json = JSON.parse(JSON.stringify(sketch.toJSON()));
      expect('dense' in json).toBe(n > 16384 / 8);
      const copy = HyperLogLog.fromJSON(json);
      expect(copy.estimate()).toBe(sketch.estimate());
      expect(copy.toJSON()).toEqual(sketch.toJSON());
    }
  });

  it('stays small while sparse: a window with a few visitors does not pay for 16 KiB of registers', () => {
    expect(sketchOf(range(10, (i) => `u${i}`)).byteSize).toBeLessThanOrEqual(64);
    expect(sketchOf(range(30_000, (i) => `u${i}`)).byteSize).toBe(16384);
  });

  it('mergeRaised says whether the merge changed the sketch (the rollups job skips re-writing unchanged ones)', () => {
    for (const n of [300, 40_000]) {
      const whole = sketchOf(range(n, (i) => `a${i}`));
      // A subset (dense or sparse) raises nothing, and leaves the registers as they were.
      const before = JSON.stringify(whole.toJSON());
      expect(whole.mergeRaised(sketchOf(range(Math.min(n, 50), (i) => `a${i}`)))).toBe(false);
      expect(whole.mergeRaised(sketchOf(range(n, (i) => `a${i}`)))).toBe(false);
      expect(JSON.stringify(whole.toJSON())).toBe(before);
      // New values raise some register, and the merged sketch is the sketch of the union.
      expect(whole.mergeRaised(sketchOf(range(40, (i) => `new${i}`)))).toBe(true);
      expect(whole.toJSON()).toEqual(sketchOf([...range(n, (i) => `a${i}`), ...range(40, (i) => `new${i}`)]).toJSON());
    }
  });

  it('rejects corrupt JSON and sketches of different precision', () => {
    expect(() => HyperLogLog.fromJSON({ p: 14, dense: 'AAA' })).toThrow(TypeError);
    // Right length, characters outside the alphabet (ASCII, non-ASCII, and 'i', rank 34, one past the highest).
    for (const bad of ['*', 'é', '\u{1F600}'.slice(0, 1), 'i', 'z'])
      expect(() => HyperLogLog.fromJSON({ p: 4, dense: 'A'.repeat(15) + bad })).toThrow(TypeError);
    expect(HyperLogLog.fromJSON({ p: 4, dense: 'A'.repeat(15) + 'h' }).toJSON()).toEqual({
      p: 4,
      dense: 'A'.repeat(15) + 'h',
    });
    expect(() => HyperLogLog.fromJSON({ p: 14, sparse: [-1] })).toThrow(TypeError);
    expect(() => HyperLogLog.fromJSON(null)).toThrow(TypeError);
    expect(() => new HyperLogLog(14).merge(new HyperLogLog(12))).toThrow(RangeError);
  });

  it('as an aggregate, counts distinct values of a field', () => {
    const visitors = distinctCount((e: { visitorId: string }) => e.visitorId);
    let acc = visitors.create();
    for (const id of ['a', 'b', 'a', 'c']) acc = visitors.add(acc, { visitorId: id });
    expect(visitors.result(acc)).toBe(3);
    expect(visitors.result(visitors.fromJSON(JSON.parse(JSON.stringify(visitors.toJSON(acc)))))).toBe(3);
  });
});

describe('HyperLogLog small counts', () => {
  // 200 sets of n 32-hex-character ids (the collect endpoint's visitor ids), deterministic.
  const idsOf = (t: number, n: number) =>
    range(n, (i) => `${(t * 7919 + i * 104729).toString(16).padStart(8, '0')}${'f00dfeed'.repeat(3)}`);

  it('are exact while the sketch is sparse: 46 visitors read 46 (a p = 14 index made it 45 one time in 16)', () => {
    for (const n of [46, 120, 300]) {
      let exact = 0;
      for (let t = 0; t < 200; t++) if (sketchOf(idsOf(t, n)).estimate() === n) exact++;
      // Two of n ids share a 25-bit index with probability ~n²/2^26 (0.13 % at 300).
      expect(exact, `n = ${n}`).toBeGreaterThanOrEqual(n === 46 ? 200 : 198);
    }
  });

  it('loads and merges sketches stored before (sparse at p bits): the union is the p-bit sketch of both', () => {
    const fine = sketchOf(range(40, (i) => `visitor-${i}`));
    expect(fine.toJSON()).toMatchObject({ p: 14, sp: 25 });
    // What the old code stored for 30 other visitors: the same entries with a 14-bit index.
    const oldJson = sketchOf(range(30, (i) => `other-${i}`)).toJSON() as { p: number; sp: number; sparse: number[] };
    const coarse = {
      p: 14,
      sparse: [...new Set(oldJson.sparse.map((e) => (((e >>> 6) >>> 11) << 6) | (e & 63)))].sort((a, b) => a - b),
    };
    const old = HyperLogLog.fromJSON(coarse);
    expect(old.toJSON()).toEqual(coarse);
    const union = HyperLogLog.fromJSON(fine.toJSON()).merge(old);
    const other = HyperLogLog.fromJSON(coarse).merge(fine);
    expect(union.toJSON()).toEqual(other.toJSON());
    expect('sp' in union.toJSON()).toBe(false);
    // Past the sparse limit both forms give the very registers of the old code.
    const many = sketchOf(range(5000, (i) => `visitor-${i}`));
    const viaOld = HyperLogLog.fromJSON({ p: 14, sparse: [] });
    for (let i = 0; i < 5000; i++) viaOld.add(`visitor-${i}`);
    expect(viaOld.toJSON()).toEqual(many.toJSON());
    expect('dense' in many.toJSON()).toBe(true);
  });

  it('refuses a sparse precision it cannot hold', () => {
    expect(() => HyperLogLog.fromJSON({ p: 14, sp: 26, sparse: [] })).toThrow(TypeError);
    expect(() => HyperLogLog.fromJSON({ p: 14, sp: 12, sparse: [] })).toThrow(TypeError);
    expect(() => HyperLogLog.fromJSON({ p: 14, sp: 25, sparse: [2 ** 31] })).toThrow(TypeError);
  });
});
