import { estimateFromHistogram, HISTOGRAM_SIZE } from '../stream/hyperloglog';
import type { HyperLogLogJson } from '../stream';

// Unions of many visitor sketches read from rollup rows. Equivalent to
// visitors.ts's mergeVisitorSketches (register-wise maximum), but decodes each stored sketch
// straight into one register array instead of building a HyperLogLog object per row: a 30-day
// dashboard merges hundreds of dense 16 KiB sketches per request.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function isSketch(v: unknown): v is HyperLogLogJson {
  return typeof v === 'object' && v !== null && typeof (v as { p?: unknown }).p === 'number';
}

export class VisitorUnion {
  private registers: Uint8Array | null = null;
  private precision: number;
  private empty = true;

  /**
   * `precision`: fix the union's precision; sketches of a higher precision are folded down
   * (exactly: the register index is the top bits of one hash lane and the rank comes from the
   * other, so a p=14 sketch folded to 12 is the p=12 sketch of the same visitors).
   */
  constructor(precision = 0) {
    this.precision = precision;
  }

  add(sketch: unknown): this {
    if (!isSketch(sketch)) return this;
    const p = sketch.p;
    if (this.precision === 0) this.precision = p;
    if (p < this.precision)
      throw new RangeError(`cannot merge a visitor sketch of precision ${p} into ${this.precision}`);
    this.registers ??= new Uint8Array(1 << this.precision);
    const shift = p - this.precision;
    const r = this.registers;
    if ('dense' in sketch && typeof sketch.dense === 'string') {
      const s = sketch.dense;
      const n = Math.min(s.length, 1 << p);
      for (let i = 0; i < n; i++) {
        const v = DECODE[s.charCodeAt(i) & 127]!;
        const j = i >>> shift;
        if (v > r[j]!) r[j] = v;
      }
    } else if ('sparse' in sketch && Array.isArray(sketch.sparse)) {
      for (const e of sketch.sparse) {
        const j = (e >>> 6) >>> shift;
        const v = e & 63;
        if (j < r.length && v > r[j]!) r[j] = v;
      }
    }
    this.empty = false;
    return this;
  }

  /** The union as a stored sketch (lib/stream's JSON form: sparse while few registers are set). */
  toJSON(): HyperLogLogJson | null {
    if (this.empty || this.registers === null) return null;
    const r = this.registers;
    let nonZero = 0;
    for (let i = 0; i < r.length; i++) if (r[i] !== 0) nonZero++;
    if (nonZero <= r.length >>> 3) {
      const sparse: number[] = [];
      for (let i = 0; i < r.length; i++) if (r[i] !== 0) sparse.push((i << 6) | r[i]!);
      return { p: this.precision, sparse };
    }
    let dense = '';
    for (let i = 0; i < r.length; i++) dense += ALPHABET[r[i]!];
    return { p: this.precision, dense };
  }

  merge(other: VisitorUnion): this {
    if (other.registers === null) return this;
    if (this.precision !== 0 && other.precision !== this.precision) return this.add(other.toJSON());
    if (this.registers === null) {
      this.precision = other.precision;
      this.registers = other.registers.slice();
    } else {
      const r = this.registers;
      const o = other.registers;
      for (let i = 0; i < r.length; i++) if (o[i]! > r[i]!) r[i] = o[i]!;
    }
    this.empty = false;
    return this;
  }

  /**
   * The estimate: Ertl's improved raw estimator on the register histogram, the same formula as
   * lib/stream/hyperloglog.ts (shared: estimateFromHistogram), without building a sketch
   * object from a 16 KiB string per estimate.
   */
  estimate(): number {
    if (this.empty || this.registers === null) return 0;
    const r = this.registers;
    const m = r.length;
    const histogram = new Float64Array(HISTOGRAM_SIZE);
    for (let i = 0; i < m; i++) histogram[r[i]!]!++;
    return estimateFromHistogram(histogram, m);
  }
}
