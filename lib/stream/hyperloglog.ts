// Distinct counting with a HyperLogLog sketch. Windows need a distinct count that can be merged
// (slices into windows, sessions into sessions) in bounded memory; an exact set cannot.
//
// - Hash: a 64-bit hash of the value's string form (two 32-bit lanes, cyrb53-style mixing). The
//   first lane picks the register (its top p bits), the second gives the rank (leading zeros + 1),
//   so registers hold 0..33.
// - Estimate: Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog
//   sketches", 2017), which is unbiased from 0 up without HLL++'s empirical bias tables.
// - Storage: sparse (sorted packed index/rank pairs) while few registers are set, dense bytes after,
//   because most windows see few visitors and a dense p=14 sketch is 16 KiB.
//   The representation never changes the estimate: it is the same register array either way.

import { aggregateCodecError } from './errors';
import type { Aggregate } from './aggregates';
import type { Json } from './json';

const RANK_BITS = 32; // q in Ertl's notation: the rank comes from one full 32-bit lane
const ALPHA_INFINITY = 1 / (2 * Math.log(2));
// One base64 character per register (values 0..33) keeps the dense JSON form compact and simple.
const REGISTER_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Lookup tables both ways: the rollups job decodes and re-encodes a 16,384-register sketch for each
// hour and day row a window touches, and indexOf/concatenation per register made that ~1 ms a row.
const ENCODE = Uint8Array.from(REGISTER_ALPHABET, (c) => c.charCodeAt(0));
const DECODE = new Int8Array(128).fill(-1);
for (let r = 0; r < REGISTER_ALPHABET.length; r++) DECODE[REGISTER_ALPHABET.charCodeAt(r)] = r;
// The alphabet is ASCII, so its bytes are their own UTF-8.
const ASCII = new TextDecoder();

export type HyperLogLogJson = { p: number; sparse: number[] } | { p: number; dense: string };

let hashHigh = 0;
let hashLow = 0;

/** Hashes a string into (hashHigh, hashLow); module-level outputs avoid allocating per value. */
function hash64(text: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // One more avalanche round per lane: the register index uses only the top bits of h1.
  h1 = Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d);
  h1 = Math.imul(h1 ^ (h1 >>> 12), 0x297a2d39);
  h1 ^= h1 >>> 15;
  hashHigh = h1 >>> 0;
  hashLow = h2 >>> 0;
}

/** Number of rank values a register can hold (0 … RANK_BITS + 1): the histogram's length. */
export const HISTOGRAM_SIZE = RANK_BITS + 2;

/**
 * Ertl's improved raw estimator on a register histogram (count of registers per rank value) of
 * `m` registers. Shared with readers that keep registers in their own form (lib/analytics).
 */
export function estimateFromHistogram(histogram: ArrayLike<number>, m: number): number {
  let z = m * tau(1 - histogram[RANK_BITS + 1]! / m);
  for (let k = RANK_BITS; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += m * sigma(histogram[0]! / m);
  return Math.round((ALPHA_INFINITY * m * m) / z);
}

function sigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}

export class HyperLogLog {
  readonly precision: number;
  private readonly registerCount: number;
  private dense: Uint8Array | null = null;
  /** Sorted entries `index << 6 | rank`, one per non-zero register, used while the sketch is small. */
  private sparse: Uint32Array | null = new Uint32Array(4);
  private sparseLength = 0;

  constructor(precision = 14) {
    if (!Number.isInteger(precision) || precision < 4 || precision > 18)
      throw new RangeError(`HyperLogLog precision must be 4..18, got ${precision}`);
    this.precision = precision;
    this.registerCount = 1 << precision;
  }

  /** Relative standard error of the estimate: 1.04/√m (0.81% at p = 14). */
  get standardError(): number {
    return 1.04 / Math.sqrt(this.registerCount);
  }

  add(value: string | number): this {
    hash64(typeof value === 'string' ? value : String(value));
    const index = hashHigh >>> (32 - this.precision);
    const rank = Math.clz32(hashLow) + 1;
    this.raise(index, rank);
    return this;
  }

  /** Folds `other` into this sketch (register-wise maximum); `other` is left unchanged. */
  merge(other: HyperLogLog): this {
    this.mergeRaised(other);
    return this;
  }

  /**
   * `merge`, answering whether any register rose: when none did, the sketch is unchanged and a
   * stored copy of it need not be written again.
   */
  mergeRaised(other: HyperLogLog): boolean {
    if (other.precision !== this.precision)
      throw new RangeError(`cannot merge HyperLogLog p=${other.precision} into p=${this.precision}`);
    let raised = false;
    if (other.dense !== null) {
      const registers = this.densify();
      const theirs = other.dense;
      // Same precision: both arrays hold registerCount registers.
      for (let i = 0; i < registers.length; i++) {
        const r = theirs[i]!;
        if (r > registers[i]!) {
          registers[i] = r;
          raised = true;
        }
      }
    } else {
      for (const entry of other.sparseEntries()) raised = this.raise(entry >>> 6, entry & 63) || raised;
    }
    return raised;
  }

  estimate(): number {
    const m = this.registerCount;
    // Ranks are 0..RANK_BITS + 1, so every increment lands inside the histogram.
    const histogram = new Uint32Array(HISTOGRAM_SIZE);
    if (this.dense !== null) {
      for (const r of this.dense) histogram[r]!++;
    } else {
      histogram[0] = m - this.sparseLength;
      for (const entry of this.sparseEntries()) histogram[entry & 63]!++;
    }
    return estimateFromHistogram(histogram, m);
  }

  clone(): HyperLogLog {
    const copy = new HyperLogLog(this.precision);
    copy.dense = this.dense === null ? null : this.dense.slice();
    copy.sparse = this.sparse === null ? null : this.sparse.slice();
    copy.sparseLength = this.sparseLength;
    return copy;
  }

  /** Bytes held by the registers (for memory accounting). */
  get byteSize(): number {
    return this.dense !== null ? this.dense.byteLength : (this.sparse as Uint32Array).byteLength;
  }

  toJSON(): HyperLogLogJson {
    if (this.dense !== null) {
      const codes = new Uint8Array(this.dense.length);
      for (let i = 0; i < codes.length; i++) codes[i] = ENCODE[this.dense[i]!]!;
      return { p: this.precision, dense: ASCII.decode(codes) };
    }
    return { p: this.precision, sparse: Array.from((this.sparse as Uint32Array).subarray(0, this.sparseLength)) };
  }

  static fromJSON(json: Json): HyperLogLog {
    if (json === null || typeof json !== 'object' || Array.isArray(json) || typeof json.p !== 'number') {
      throw aggregateCodecError('HyperLogLog', 'expected { p, sparse } or { p, dense }');
    }
    const sketch = new HyperLogLog(json.p);
    const m = sketch.registerCount;
    if (typeof json.dense === 'string') {
      if (json.dense.length !== m) throw aggregateCodecError('HyperLogLog', `dense form must have ${m} registers`);
      const registers = new Uint8Array(m);
      for (let i = 0; i < m; i++) {
        const c = json.dense.charCodeAt(i);
        const r = c < 128 ? DECODE[c]! : -1;
        if (r < 0 || r > RANK_BITS + 1) throw aggregateCodecError('HyperLogLog', `bad register at ${i}`);
        registers[i] = r;
      }
      sketch.dense = registers;
      sketch.sparse = null;
    } else if (Array.isArray(json.sparse)) {
      for (const entry of json.sparse) {
        if (
          typeof entry !== 'number' ||
          !Number.isInteger(entry) ||
          entry < 0 ||
          entry >>> 6 >= m ||
          (entry & 63) > RANK_BITS + 1
        ) {
          throw aggregateCodecError('HyperLogLog', `bad sparse entry ${String(entry)}`);
        }
        sketch.raise(entry >>> 6, entry & 63);
      }
    } else {
      throw aggregateCodecError('HyperLogLog', 'expected sparse or dense registers');
    }
    return sketch;
  }

  /** The used part of the sparse list (empty once dense). */
  private sparseEntries(): Uint32Array {
    return this.sparse === null ? new Uint32Array(0) : this.sparse.subarray(0, this.sparseLength);
  }

  // `index` < registerCount: add() takes it from p hash bits, fromJSON() checked it, merge() reads
  // it from a sketch of the same precision; binary-search positions stay below sparseLength.
  /** Sets a register to at least `rank`; true when it rose. */
  private raise(index: number, rank: number): boolean {
    if (rank === 0) return false;
    const dense = this.dense;
    if (dense !== null) {
      if (rank <= dense[index]!) return false;
      dense[index] = rank;
      return true;
    }
    let entries = this.sparse as Uint32Array;
    let lo = 0;
    let hi = this.sparseLength;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]! >>> 6 < index) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.sparseLength) {
      const found = entries[lo]!;
      if (found >>> 6 === index) {
        if (rank <= (found & 63)) return false;
        entries[lo] = (index << 6) | rank;
        return true;
      }
    }
    // Past m/8 entries the packed list costs half the dense bytes and inserts get slow: switch.
    if (this.sparseLength + 1 > this.registerCount >>> 3) {
      this.densify()[index] = rank;
      return true;
    }
    if (this.sparseLength === entries.length) {
      const grown = new Uint32Array(entries.length * 2);
      grown.set(entries);
      this.sparse = entries = grown;
    }
    entries.copyWithin(lo + 1, lo, this.sparseLength);
    entries[lo] = (index << 6) | rank;
    this.sparseLength++;
    return true;
  }

  private densify(): Uint8Array {
    if (this.dense !== null) return this.dense;
    const registers = new Uint8Array(this.registerCount);
    for (const entry of this.sparseEntries()) registers[entry >>> 6] = entry & 63;
    this.dense = registers;
    this.sparse = null;
    this.sparseLength = 0;
    return registers;
  }
}

/**
 * Approximate number of distinct values of a field (e.g. visitors), mergeable across windows.
 * Precision 14 gives a standard error of 0.81%, within 2% at 100,000 distinct values.
 */
export function distinctCount<V>(
  select: (value: V) => string | number,
  precision = 14,
): Aggregate<V, HyperLogLog, number> {
  new HyperLogLog(precision); // validate once, at definition time
  return {
    create: () => new HyperLogLog(precision),
    add: (acc, value) => acc.add(select(value)),
    merge: (into, other) => into.merge(other),
    result: (acc) => acc.estimate(),
    toJSON: (acc) => acc.toJSON(),
    fromJSON: (json) => HyperLogLog.fromJSON(json),
  };
}
