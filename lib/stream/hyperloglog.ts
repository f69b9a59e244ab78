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
// - Small counts are exact in practice: while sparse, a sketch keeps its register index at
//   SPARSE_PRECISION (25) bits, as HLL++ does, and estimates over 2^25 registers — two of a few
//   thousand visitors share an index with probability ~n²/2^26, where at p = 14 two of 46 did
//   6 % of the time and a site owner saw "45 visitors" beside 46 one-visit visits. Since the
//   rank comes from the other hash lane, folding a sparse index down to p bits is exact (the
//   p-bit sketch of the same values); the dense form and its estimate are unchanged. Sketches
//   stored before this (sparse at p bits, no `sp`) still load and merge: a union with one is
//   sparse at p bits.

import { aggregateCodecError } from './errors';
import type { Aggregate } from './aggregates';
import type { Json } from './json';

const RANK_BITS = 32; // q in Ertl's notation: the rank comes from one full 32-bit lane
/** Index bits of a sparse entry (`index << 6 | rank` stays below 2^31). */
export const SPARSE_PRECISION = 25;
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

/** `sp`: the sparse entries' index bits when more than `p` (absent: p, the form stored before). */
export type HyperLogLogJson = { p: number; sp?: number; sparse: number[] } | { p: number; dense: string };

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
  /** Sorted entries `index << 6 | rank` (index of sparseBits bits), used while the sketch is small. */
  private sparse: Uint32Array | null = new Uint32Array(4);
  private sparseLength = 0;
  private sparseBits = SPARSE_PRECISION;

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
    const rank = Math.clz32(hashLow) + 1;
    if (this.dense !== null) this.raise(hashHigh >>> (32 - this.precision), rank);
    else this.raise(hashHigh >>> (32 - this.sparseBits), rank);
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
      // Sparse into sparse keeps the coarser of the two index widths; into dense, p bits.
      if (this.dense === null && other.sparseBits < this.sparseBits) this.coarsen(other.sparseBits);
      for (const entry of other.sparseEntries()) {
        const bits = this.dense === null ? this.sparseBits : this.precision;
        raised = this.raise((entry >>> 6) >>> (other.sparseBits - bits), entry & 63) || raised;
      }
    }
    return raised;
  }

  estimate(): number {
    const m = this.registerCount;
    // Ranks are 0..RANK_BITS + 1, so every increment lands inside the histogram.
    const histogram = new Uint32Array(HISTOGRAM_SIZE);
    if (this.dense !== null) {
      for (const r of this.dense) histogram[r]!++;
      return estimateFromHistogram(histogram, m);
    }
    // Sparse: the same estimator over the 2^sparseBits registers the entries index.
    const sparseM = 2 ** this.sparseBits;
    histogram[0] = sparseM - this.sparseLength;
    for (const entry of this.sparseEntries()) histogram[entry & 63]!++;
    return estimateFromHistogram(histogram, sparseM);
  }

  clone(): HyperLogLog {
    const copy = new HyperLogLog(this.precision);
    copy.dense = this.dense === null ? null : this.dense.slice();
    copy.sparse = this.sparse === null ? null : this.sparse.slice();
    copy.sparseLength = this.sparseLength;
    copy.sparseBits = this.sparseBits;
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
    const sparse = Array.from((this.sparse as Uint32Array).subarray(0, this.sparseLength));
    return this.sparseBits === this.precision
      ? { p: this.precision, sparse }
      : { p: this.precision, sp: this.sparseBits, sparse };
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
      const sp = json.sp ?? json.p;
      if (typeof sp !== 'number' || !Number.isInteger(sp) || sp < json.p || sp > SPARSE_PRECISION)
        throw aggregateCodecError('HyperLogLog', `bad sparse precision ${String(sp)}`);
      sketch.sparseBits = sp;
      const sparseM = 2 ** sp;
      for (const entry of json.sparse) {
        if (
          typeof entry !== 'number' ||
          !Number.isInteger(entry) ||
          entry < 0 ||
          entry >= 2 ** 31 ||
          entry >>> 6 >= sparseM ||
          (entry & 63) > RANK_BITS + 1
        ) {
          throw aggregateCodecError('HyperLogLog', `bad sparse entry ${String(entry)}`);
        }
        // A list longer than the sparse limit turns dense part-way: its index is then p bits.
        sketch.raise((entry >>> 6) >>> (sketch.dense === null ? 0 : sp - sketch.precision), entry & 63);
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

  // `index` has sparseBits bits while sparse and p bits when dense (callers fold it); add() takes
  // it from the hash, fromJSON() checked it; binary-search positions stay below sparseLength.
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
      const folded = index >>> (this.sparseBits - this.precision);
      const registers = this.densify();
      if (rank <= registers[folded]!) return false;
      registers[folded] = rank;
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
    const shift = this.sparseBits - this.precision;
    for (const entry of this.sparseEntries()) {
      const i = (entry >>> 6) >>> shift;
      if ((entry & 63) > registers[i]!) registers[i] = entry & 63;
    }
    this.dense = registers;
    this.sparse = null;
    this.sparseLength = 0;
    return registers;
  }

  /** Re-keys the sparse entries to `bits` index bits (fewer), keeping each index's highest rank. */
  private coarsen(bits: number): void {
    const shift = this.sparseBits - bits;
    const entries = this.sparseEntries();
    const out = new Uint32Array(Math.max(4, entries.length));
    let n = 0;
    for (const entry of entries) {
      const e = (((entry >>> 6) >>> shift) << 6) | (entry & 63);
      // Sorted input stays sorted after the shift; equal indices are adjacent.
      if (n > 0 && out[n - 1]! >>> 6 === e >>> 6) {
        if ((e & 63) > (out[n - 1]! & 63)) out[n - 1] = e;
      } else out[n++] = e;
    }
    this.sparse = out;
    this.sparseLength = n;
    this.sparseBits = bits;
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
